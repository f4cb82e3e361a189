// The real `mdrl` executable as a user meets it: help, mode dispatch, option errors with names,
// config files with typos, precedence seen through --print-config, and `mdrl info`.
#include <boost/test/unit_test.hpp>

#include "test_support.hpp"

using namespace mdrl::test;

namespace {
bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }
}  // namespace

BOOST_AUTO_TEST_SUITE(cli)

BOOST_AUTO_TEST_CASE(top_level_help_lists_modes) {
  const auto r = run_mdrl("--help");
  BOOST_TEST(r.status == 0, r.output);
  for (const char* m : {"sft", "diffu-grpo", "one-step-grpo", "cj-grpo", "eval", "generate", "score", "export", "tokenize", "info"})
    BOOST_TEST(has(r.output, std::string("  ") + m + " "), m);
  BOOST_TEST(run_mdrl("").status == 2);
  const auto v = run_mdrl("--version");
  BOOST_TEST(v.status == 0);
  BOOST_TEST(has(v.output, "mdrl 0."));
}

BOOST_AUTO_TEST_CASE(unknown_mode_lists_valid_modes) {
  const auto r = run_mdrl("sf");
  BOOST_TEST(r.status == 2, r.output);
  BOOST_TEST(has(r.output, "unknown mode 'sf'; did you mean sft?"), r.output);
  BOOST_TEST(has(r.output, "Valid modes: sft, diffu-grpo"), r.output);
}

BOOST_AUTO_TEST_CASE(unknown_option_is_named) {
  const auto r = run_mdrl("sft --nonsense=1");
  BOOST_TEST(r.status == 2, r.output);
  BOOST_TEST(has(r.output, "command line: unknown option 'nonsense' for mode 'sft'"), r.output);
}

BOOST_AUTO_TEST_CASE(config_file_typo_names_file_line_and_key) {
  TempDir dir;
  const auto ini = dir.write("recipe.ini", "# my recipe\n[run]\nsed = 3\n");
  const auto r = run_mdrl("sft -c " + ini);
  BOOST_TEST(r.status == 2, r.output);
  BOOST_TEST(has(r.output, ini + ":3: unknown option 'run.sed'"), r.output);
  BOOST_TEST(has(r.output, "did you mean run.seed?"), r.output);
}

BOOST_AUTO_TEST_CASE(invalid_enum_lists_valid_values) {
  const auto r = run_mdrl("info --dist.device=gpu");
  BOOST_TEST(r.status == 2, r.output);
  BOOST_TEST(has(r.output, "invalid value 'gpu' for option 'dist.device'; valid values: auto, cpu, cuda"), r.output);
}

BOOST_AUTO_TEST_CASE(precedence_through_print_config) {
  TempDir dir;
  const auto a = dir.write("a.ini", "[run]\nseed = 7\ndir = runs/a\n[log]\nlevel = warn\n");
  const auto b = dir.write("b.ini", "[run]\nseed = 8\n");
  const auto r = run_mdrl("sft -c " + a + " -c " + b + " --run.seed=9 --print-config");
  BOOST_TEST(r.status == 0, r.output);
  BOOST_TEST(has(r.output, "[run]\nseed = 9\ndir = runs/a\n"), r.output);
  BOOST_TEST(has(r.output, "[log]\nlevel = warn\n"), r.output);
  const auto s = run_mdrl("sft -c " + a + " -c " + b + " --print-config");
  BOOST_TEST(has(s.output, "seed = 8\n"), s.output);
}

// One mode's --print-config feeds another: the options only other modes use are skipped with one
// summary line (not one warning per key), and the shared values arrive.
BOOST_AUTO_TEST_CASE(print_config_of_one_mode_reads_in_another) {
  TempDir dir;
  const auto sft = run_mdrl("sft --run.seed=41 --run.walltime=1:00:00 --print-config");
  BOOST_REQUIRE(sft.status == 0);
  const auto ini = dir.write("sft.ini", sft.output);
  const auto gen = run_mdrl("generate -c " + ini + " --print-config");
  BOOST_TEST(gen.status == 0, gen.output);
  BOOST_TEST(has(gen.output, "seed = 41\n"), gen.output);
  BOOST_TEST(has(gen.output, "option(s) of other modes in " + ini + " ignored by mode 'generate'"), gen.output);
  size_t lines = 0;
  for (size_t p = gen.output.find(" W r0] "); p != std::string::npos; p = gen.output.find(" W r0] ", p + 1)) ++lines;
  BOOST_TEST(lines == 1u, gen.output);
  // A key no mode has is still an error naming file and line.
  const auto typo = dir.write("typo.ini", "[run]\nwaltime = 5\n");
  const auto bad = run_mdrl("generate -c " + typo);
  BOOST_TEST(bad.status == 2, bad.output);
  BOOST_TEST(has(bad.output, typo + ":2: unknown option 'run.waltime'"), bad.output);
}

BOOST_AUTO_TEST_CASE(bad_values_name_value_origin_and_range) {
  TempDir dir;
  const auto lr = dir.write("lr.ini", "[train]\nlr = inf\n");
  const auto a = run_mdrl("sft -c " + lr + " --print-config");
  BOOST_TEST(a.status == 2, a.output);
  BOOST_TEST(has(a.output, lr + ":2: invalid value 'inf' for option 'train.lr'"), a.output);
  const auto wt = dir.write("wt.ini", "[run]\nwalltime = 25:99\n");
  const auto b = run_mdrl("sft -c " + wt + " --print-config");
  BOOST_TEST(b.status == 2, b.output);
  BOOST_TEST(has(b.output, wt + ":2: run.walltime = '25:99'"), b.output);
  BOOST_TEST(has(b.output, "0-59"), b.output);
  const auto c = run_mdrl("sft -c " + dir.path().string() + " --print-config");
  BOOST_TEST(c.status == 2, c.output);
  BOOST_TEST(has(c.output, "is a directory"), c.output);
}

// The SFT defaults are the 8B recipe's; a tiny preset trained with all of them gets a warning.
BOOST_AUTO_TEST_CASE(recipe_defaults_on_a_tiny_model_warn) {
  TempDir dir;
  const auto data = dir.write("d.jsonl", "{\"prompt\": \"q\"}\n");  // fails after setup, before training
  const std::string base = "sft --model.preset=tiny --sft.data=" + data + " --run.dir=" + (dir.path() / "r").string();
  const auto a = run_mdrl(base);
  BOOST_TEST(a.status == 2, a.output);
  BOOST_TEST(has(a.output, "barely learns"), a.output);
  const auto b = run_mdrl(base + " --train.lr=1e-3");
  BOOST_TEST(!has(b.output, "barely learns"), b.output);
}

// The SFT progress bar: drawn when a person watches one process on a terminal (a pty made by
// `script`), never when the output goes to a pipe. Open MPI's singleton MPI_Init sets PMIX_RANK,
// which once hid the bar from every run.
BOOST_AUTO_TEST_CASE(progress_bar_on_a_terminal_only) {
  if (run_command("command -v script").status != 0) {
    BOOST_TEST_MESSAGE("skipped: util-linux 'script' (a pty for the child) is not installed");
    return;
  }
  TempDir dir;
  auto args = [&](const std::string& name) {
    return env_or_throw("MDRL_EXE") +
           " sft --sft.task=sudoku --sft.prompt_style=bare --sft.response_style=answer --tasks.generated_count=40"
           " --model.preset=tiny --sft.max_length=112 --train.batch_size=2 --train.grad_accum=1 --train.lr=1e-3"
           " --train.max_steps=6 --train.log_every=3 --train.eval_every=0 --sft.eval_fraction=0 --run.dir=" +
           (dir.path() / name).string();
  };
  const auto tty = run_command("script -qec '" + args("tty") + "' /dev/null");
  BOOST_TEST(tty.status == 0, tty.output);
  BOOST_TEST(has(tty.output, "\r\x1b[K[########"), tty.output);  // step 2 of 6: 8 of 24 cells
  const auto piped = run_command(args("pipe"));
  BOOST_TEST(piped.status == 0, piped.output);
  BOOST_TEST(!has(piped.output, "\x1b[K"), piped.output);
  BOOST_TEST(has(piped.output, "step 6/6"), piped.output);
}

// A STOP file stops the run after a checkpoint and is consumed: the same command again resumes
// and reaches the end (it once stopped again after one step, forever).
BOOST_AUTO_TEST_CASE(stop_file_then_rerun_reaches_the_end) {
  TempDir dir;
  const auto run = dir.path() / "run";
  std::filesystem::create_directories(run);
  dir.write("run/STOP", "");
  const std::string cmd = "sft --sft.task=sudoku --sft.prompt_style=bare --sft.response_style=answer"
                          " --tasks.generated_count=40 --model.preset=tiny --sft.max_length=112 --train.batch_size=2"
                          " --train.grad_accum=1 --train.lr=1e-3 --train.max_steps=5 --train.eval_every=0"
                          " --sft.eval_fraction=0 --run.dir=" + run.string();
  const auto first = run_mdrl(cmd);
  BOOST_TEST(first.status == 0, first.output);
  BOOST_TEST(has(first.output, "STOP file"), first.output);
  BOOST_TEST(!std::filesystem::exists(run / "final"));
  BOOST_TEST(std::filesystem::exists(run / "STOP.done"));
  const auto second = run_mdrl(cmd);
  BOOST_TEST(second.status == 0, second.output);
  BOOST_TEST(has(second.output, "resumed from"), second.output);
  BOOST_TEST(std::filesystem::exists(run / "final"), second.output);
}

// Every mode is built now; `mdrl eval` without test files names the option to set (exit 2).
BOOST_AUTO_TEST_CASE(eval_without_data_names_the_option) {
  const auto r = run_mdrl("eval");
  BOOST_TEST(r.status == 2, r.output);
  BOOST_TEST(has(r.output, "tasks.gsm8k_test is empty"), r.output);
}

BOOST_AUTO_TEST_CASE(export_writes_a_hugging_face_folder) {
  TempDir dir;
  const auto out = (dir.path() / "tiny-hf").string();
  const auto r = run_mdrl("export --model.preset=tiny --export.what=base --export.bf16=false --export.out=" + out);
  BOOST_TEST(r.status == 0, r.output);
  BOOST_TEST(std::filesystem::exists(std::filesystem::path(out) / "config.json"));
  BOOST_TEST(std::filesystem::exists(std::filesystem::path(out) / "model.safetensors"));
  // The folder loads back as a model checkpoint, and an adapter export without adapter is refused.
  const auto again = run_mdrl("export --model.path=" + out + " --export.out=" + out + "-2");
  BOOST_TEST(again.status == 0, again.output);
  const auto bad = run_mdrl("export --model.preset=tiny --export.what=adapter --export.out=" + out + "-3");
  BOOST_TEST(bad.status == 2, bad.output);
  BOOST_TEST(has(bad.output, "the model has no adapter"), bad.output);
}

BOOST_AUTO_TEST_CASE(info_reports_build_and_layout) {
  const auto r = run_mdrl("info --dist.threads=2");
  BOOST_TEST(r.status == 0, r.output);
  BOOST_TEST(has(r.output, "LibTorch       2."), r.output);
  BOOST_TEST(has(r.output, "parallel: yes"), r.output);
  BOOST_TEST(has(r.output, "world size     1 rank(s) on 1 node(s)"), r.output);
  BOOST_TEST(has(r.output, "dist.threads"), r.output);  // the threads came from the option
  const auto h = run_mdrl("info --help");
  BOOST_TEST(h.status == 0);
  BOOST_TEST(has(h.output, "--dist.threads"), h.output);
  BOOST_TEST(has(h.output, "--log.level"), h.output);
}

BOOST_AUTO_TEST_SUITE_END()
