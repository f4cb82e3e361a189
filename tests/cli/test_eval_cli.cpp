// `mdrl eval` as a user runs it (issue 15; spec algorithms.md §1.9, §7, Q1, Q7, Q15): the tiny
// random-init LLaDA with the byte-level tokenizer on generated Sudoku and Countdown, 16-token
// completions. With the attention mask (the default) the generations and the table do not depend on
// eval.batch_size, the rank count or length sorting, noisy settings included (eval.item_noise);
// `mdrl score` on the run's JSONL and on its reference-format files reproduces the table; a run
// stopped by a STOP file or SIGTERM and rerun equals an uninterrupted one; finished setups are
// skipped, and refused when the settings changed; bad settings exit 2 naming what is valid, before
// anything is written.
#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "test_support.hpp"

using namespace mdrl::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {
bool has(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// The tiny model on generated puzzles with bare prompts, 16-token completions.
const std::string kTiny =
    " --model.preset=tiny --eval.source=generated --eval.prompt_style=bare --tasks.generated_count=64"
    " --decode.gen_length=16";
// Two tasks x (EOSER+ASS at log2 16 = 4 steps; semi-AR low-confidence and diffusion random
// remasking at 4 and 8 steps) = 10 setups; Countdown prompts differ in length (padding).
const std::string kSweep =
    " --eval.tasks=sudoku,countdown --eval.strategies=eoser_ass,semi-ar_lcr,diffusion_rr --eval.steps=log2,8"
    " --eval.block_lengths=8 --eval.subsample=10";
const std::vector<std::string> kSweepSetups = {"sudoku_eoser_ass_16_4_b1",        "sudoku_semi-ar_lcr_16_4_b8",
                                               "sudoku_semi-ar_lcr_16_8_b8",      "sudoku_diffusion_rr_16_4_b16",
                                               "sudoku_diffusion_rr_16_8_b16",    "countdown_eoser_ass_16_4_b1",
                                               "countdown_semi-ar_lcr_16_4_b8",   "countdown_semi-ar_lcr_16_8_b8",
                                               "countdown_diffusion_rr_16_4_b16", "countdown_diffusion_rr_16_8_b16"};

std::string mpirun2_prefix() {
  return env_or_throw("MPIEXEC") + " -np 2 --oversubscribe --bind-to none ";
}

CommandResult eval(const fs::path& out, const std::string& args, int np = 1) {
  return run_command((np == 2 ? mpirun2_prefix() : std::string()) + env_or_throw("MDRL_EXE") +
                     " eval --eval.out_dir=" + out.string() + kTiny + " " + args);
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Every column of a trace folder's history as text (tools/mdrl_trajectories.py --dump, h5py).
std::string trajectory_dump(const fs::path& traces) {
  const auto r = run_command("'" + env_or_throw("MDRL_PYTHON") + "' '" + env_or_throw("MDRL_SOURCE_DIR") +
                             "/tools/mdrl_trajectories.py' '" + traces.string() + "' --dump");
  BOOST_REQUIRE_MESSAGE(r.status == 0, r.output);
  return r.output;
}

bool complete(const fs::path& out) {
  std::ifstream in(out / "results.json");
  return json::parse(in).at("complete").get<bool>();
}

// Every <setup>.jsonl of an output folder, rows without their provenance (world size, commit).
std::map<std::string, std::vector<json>> generations(const fs::path& out) {
  std::map<std::string, std::vector<json>> all;
  for (const auto& e : fs::directory_iterator(out)) {
    if (e.path().extension() != ".jsonl") continue;
    std::ifstream in(e.path());
    std::string line;
    auto& rows = all[e.path().stem().string()];
    while (std::getline(in, line)) {
      auto j = json::parse(line);
      BOOST_TEST(j.contains("provenance"));
      j.erase("provenance");
      rows.push_back(j);
    }
  }
  return all;
}

// results.json rows without the timing fields.
std::vector<json> result_rows(const fs::path& out) {
  const auto j = json::parse(read_file(out / "results.json"));
  BOOST_TEST(j.at("provenance").contains("git_commit"));
  BOOST_TEST(j.at("provenance").contains("model_checksum"));
  std::vector<json> rows;
  for (auto r : j.at("rows")) {
    BOOST_TEST(r.at("wall_s").get<double>() > 0.0);
    r.erase("wall_s");
    r.erase("samples_per_s");
    rows.push_back(r);
  }
  return rows;
}

// `mdrl score PATH`: setup -> {accuracy text, count, avg effective tokens text}.
std::map<std::string, std::vector<std::string>> score_table(const fs::path& path) {
  const auto r = run_mdrl("score " + path.string());
  BOOST_REQUIRE_MESSAGE(r.status == 0, r.output);
  std::map<std::string, std::vector<std::string>> table;
  std::istringstream in(r.output);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string task, setup, acc, count, tokens;
    if (!(f >> task >> setup >> acc >> count >> tokens) || task == "task") continue;
    table[setup] = {acc, count, tokens};
  }
  return table;
}

std::string fixed2(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

// The run's table as `mdrl score` prints it.
std::map<std::string, std::vector<std::string>> table_of(const std::vector<json>& rows) {
  std::map<std::string, std::vector<std::string>> t;
  for (const auto& r : rows)
    t[r.at("setup").get<std::string>()] = {fixed2(r.at("accuracy").get<double>()) + "%",
                                           std::to_string(r.at("count").get<int64_t>()),
                                           fixed2(r.at("avg_effective_tokens").get<double>())};
  return t;
}

size_t count_of(const std::string& s, const std::string& part) {
  size_t n = 0;
  for (size_t at = s.find(part); at != std::string::npos; at = s.find(part, at + part.size())) ++n;
  return n;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(eval_cli)

// Batch 1 vs batch 4 vs 2 ranks x batch 3 with length sorting: the same generations and table;
// one row per setup in results.json and results.md; `mdrl score` reproduces the table from the
// JSONL files and from the reference-format files alike.
BOOST_AUTO_TEST_CASE(invariant_to_batch_size_ranks_and_sorting_and_scored_alike) {
  TempDir dir;
  const auto b1 = dir.path() / "b1", b4 = dir.path() / "b4", r2 = dir.path() / "r2";
  const auto a = eval(b1, kSweep + " --eval.batch_size=1");
  BOOST_REQUIRE_MESSAGE(a.status == 0, a.output);
  const auto b = eval(b4, kSweep + " --eval.batch_size=4");
  BOOST_REQUIRE_MESSAGE(b.status == 0, b.output);
  const auto c = eval(r2, kSweep + " --eval.batch_size=3 --eval.sort_by_length=true", 2);
  BOOST_REQUIRE_MESSAGE(c.status == 0, c.output);

  const auto gen1 = generations(b1);
  BOOST_REQUIRE_EQUAL(gen1.size(), kSweepSetups.size());
  for (const auto& s : kSweepSetups) {
    BOOST_REQUIRE_MESSAGE(gen1.count(s) == 1, s);
    BOOST_TEST(gen1.at(s).size() == 10u, s);
    for (size_t i = 0; i < gen1.at(s).size(); ++i) BOOST_TEST(gen1.at(s)[i].at("index") == i);
  }
  BOOST_TEST((gen1 == generations(b4)));
  BOOST_TEST((gen1 == generations(r2)));
  // Countdown prompts of several lengths, so padding was in play.
  std::set<size_t> lengths;
  for (const auto& row : gen1.at("countdown_eoser_ass_16_4_b1"))
    lengths.insert(row.at("prompt").get<std::string>().size());
  BOOST_TEST(lengths.size() > 1u);

  const auto rows = result_rows(b1);
  BOOST_TEST(complete(b1));
  BOOST_REQUIRE_EQUAL(rows.size(), kSweepSetups.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    BOOST_TEST(rows[i].at("setup") == kSweepSetups[i]);
    BOOST_TEST(rows[i].at("count") == 10);
    BOOST_TEST(rows[i].at("pass_at_k").is_null());
    BOOST_TEST(rows[i].at("forwards_per_sample").get<double>() == rows[i].at("steps").get<double>(), rows[i].dump());
  }
  BOOST_TEST((rows == result_rows(b4)));
  BOOST_TEST((rows == result_rows(r2)));
  const std::string md = read_file(b1 / "results.md");
  for (const auto& s : kSweepSetups) BOOST_TEST(count_of(md, "| " + s + " |") == 1u, s << "\n" << md);

  // mdrl score: the JSONL files and the reference files (2 ranks: two per setup, merged).
  const auto expected = table_of(rows);
  BOOST_TEST((score_table(r2) == expected));
  for (const auto& s : kSweepSetups) {
    BOOST_TEST(fs::exists(r2 / "reference" / (s + "_0_generations.json")), s);
    BOOST_TEST(fs::exists(r2 / "reference" / (s + "_1_generations.json")), s);
    BOOST_TEST(!fs::exists(b1 / "reference" / (s + "_1_generations.json")), s);
  }
  BOOST_TEST((score_table(r2 / "reference") == expected));
  BOOST_TEST((score_table(b1 / "reference") == expected));
  // The reference file layout (spec §7.1).
  const auto ref = json::parse(read_file(r2 / "reference" / "countdown_eoser_ass_16_4_b1_1_generations.json"));
  BOOST_TEST(ref.at("generations").size() == 5u);
  for (const char* key : {"question", "prompt_input", "generations", "ground_truth"})
    BOOST_TEST(ref.at("generations")[0].contains(key), key);
  BOOST_TEST(ref.at("generations")[0].at("ground_truth").is_array());
  BOOST_TEST(ref.at("diffusion_steps") == 4);
  // A finished output folder on other layouts: everything skipped (the fingerprint leaves out
  // batch size, ranks and sorting).
  const auto again = eval(b4, kSweep + " --eval.batch_size=2 --log.level=info", 2);
  BOOST_REQUIRE_MESSAGE(again.status == 0, again.output);
  BOOST_TEST(count_of(again.output, "finished in an earlier run, skipped") == kSweepSetups.size(), again.output);
}

// Several completions per prompt with temperature: Pass@k, and the noise of each completion is
// its own (1 rank x batch 2 = 2 ranks x batch 4).
BOOST_AUTO_TEST_CASE(samples_with_temperature_report_pass_at_k_independently_of_the_layout) {
  TempDir dir;
  const std::string args =
      " --eval.tasks=sudoku --eval.strategies=diffusion_lcr --eval.steps=8 --eval.subsample=6 --eval.samples=3"
      " --decode.temperature=1.0";
  const auto a = eval(dir.path() / "a", args + " --eval.batch_size=2");
  BOOST_REQUIRE_MESSAGE(a.status == 0, a.output);
  const auto b = eval(dir.path() / "b", args + " --eval.batch_size=4", 2);
  BOOST_REQUIRE_MESSAGE(b.status == 0, b.output);
  const auto gen = generations(dir.path() / "a");
  BOOST_TEST((gen == generations(dir.path() / "b")));
  const auto& rows = gen.at("sudoku_diffusion_lcr_16_8_b16");
  BOOST_REQUIRE_EQUAL(rows.size(), 18u);
  int differ = 0;
  for (size_t p = 0; p < 6; ++p) {
    BOOST_TEST(rows[3 * p + 2].at("index") == p);
    BOOST_TEST(rows[3 * p + 2].at("sample") == 2);
    differ += rows[3 * p].at("generation") != rows[3 * p + 1].at("generation") ? 1 : 0;
  }
  BOOST_TEST(differ > 0);  // samples of one prompt draw different noise
  const auto res = result_rows(dir.path() / "a");
  BOOST_REQUIRE_EQUAL(res.size(), 1u);
  BOOST_TEST(res[0].at("count") == 18);
  BOOST_TEST(res[0].at("prompts") == 6);
  BOOST_TEST(res[0].at("samples") == 3);
  BOOST_TEST(res[0].at("pass_at_k").is_number());
  BOOST_TEST((res == result_rows(dir.path() / "b")));
  BOOST_TEST(has(read_file(dir.path() / "a" / "results.md"), "pass@k (%)"));
}

// A STOP file: the run stops after its first chunk and exits 0; the rerun continues the setup
// from there and ends with the files of an uninterrupted run. A third run recomputes nothing;
// another batch size is fine, other decode settings are refused (exit 2).
BOOST_AUTO_TEST_CASE(stop_file_then_rerun_equals_straight_run) {
  TempDir dir;
  const auto straight = dir.path() / "straight", split = dir.path() / "split";
  const std::string args =
      " --eval.tasks=sudoku --eval.strategies=eoser_ass,semi-ar_lcr --eval.block_lengths=8 --eval.steps=log2"
      " --eval.subsample=8 --eval.batch_size=2 --eval.traces=true --log.level=info";
  const auto a = eval(straight, args);
  BOOST_REQUIRE_MESSAGE(a.status == 0, a.output);
  fs::create_directories(split);
  std::ofstream(split / "STOP").close();
  const auto b1 = eval(split, args);
  BOOST_REQUIRE_MESSAGE(b1.status == 0, b1.output);
  BOOST_TEST(has(b1.output, "stopped after 2 of 8 completions"), b1.output);
  BOOST_TEST(fs::exists(split / "STOP.done"));
  BOOST_TEST(!fs::exists(split / "sudoku_eoser_ass_16_4_b1.jsonl"));
  BOOST_TEST(!fs::exists(split / "done" / "sudoku_eoser_ass_16_4_b1.json"));
  BOOST_TEST(!complete(split));
  const auto b2 = eval(split, args);
  BOOST_REQUIRE_MESSAGE(b2.status == 0, b2.output);
  BOOST_TEST(has(b2.output, "continuing after 2 of 8 completions"), b2.output);
  BOOST_TEST((generations(straight) == generations(split)));
  BOOST_TEST((result_rows(straight) == result_rows(split)));
  BOOST_TEST(fs::is_empty(split / "partial"));
  BOOST_TEST(complete(split));
  for (const char* s : {"sudoku_eoser_ass_16_4_b1", "sudoku_semi-ar_lcr_16_4_b8"})
    BOOST_TEST(trajectory_dump(straight / "traces" / s) == trajectory_dump(split / "traces" / s), s);

  const auto marker = read_file(split / "done" / "sudoku_semi-ar_lcr_16_4_b8.json");
  const auto b3 = eval(split, args + " --eval.batch_size=4");
  BOOST_REQUIRE_MESSAGE(b3.status == 0, b3.output);
  BOOST_TEST(count_of(b3.output, "finished in an earlier run, skipped") == 2u, b3.output);
  BOOST_TEST(read_file(split / "done" / "sudoku_semi-ar_lcr_16_4_b8.json") == marker);  // not rewritten
  BOOST_TEST((result_rows(straight) == result_rows(split)));

  const auto c = eval(split, args + " --decode.gamma_min=0.3");
  BOOST_TEST(c.status == 2, c.output);
  BOOST_TEST(has(c.output, "made with other settings"), c.output);
  BOOST_TEST(has(c.output, "sudoku_eoser_ass_16_4_b1"), c.output);
  BOOST_TEST(!has(c.output, "sudoku_semi-ar_lcr_16_4_b8"), c.output);  // EOSER is off there: unchanged
}

// SIGTERM to both ranks in the middle of a setup: exit 0; the rerun, on one rank with another batch
// size, ends with the files of an uninterrupted run.
BOOST_AUTO_TEST_CASE(sigterm_then_rerun_on_another_layout_equals_straight_run) {
  TempDir dir;
  const auto straight = dir.path() / "straight", split = dir.path() / "split";
  const std::string args =
      " --eval.tasks=countdown --eval.strategies=semi-ar_lcr,eoser_ass --eval.block_lengths=16 --eval.steps=16,log2"
      " --eval.subsample=64 --eval.batch_size=1";
  const auto a = eval(straight, args + " --eval.batch_size=8");
  BOOST_REQUIRE_MESSAGE(a.status == 0, a.output);
  const fs::path log = dir.path() / "b1.log";
  const std::string exe = env_or_throw("MDRL_EXE");
  const std::string cmd = mpirun2_prefix() + exe + " eval --eval.out_dir=" + split.string() + kTiny + args +
                          " --log.level=debug > " + log.string() +
                          " 2>&1 & for i in $(seq 1200); do grep -q ': 6 of 64 "
                          "completions' " +
                          log.string() + " && break; sleep 0.02; done; pkill -TERM -f '^" + exe +
                          " eval --eval.out_dir=" + split.string() + " '; wait";
  const auto b1 = run_command(cmd);
  const std::string log1 = read_file(log);
  BOOST_TEST(b1.status == 0, log1);
  BOOST_TEST(has(log1, "eval: stopping (SIGTERM"), log1);
  BOOST_TEST(has(log1, "a rerun continues it"), log1);
  BOOST_TEST(!fs::exists(split / "done" / "countdown_eoser_ass_16_4_b1.json"));
  const auto b2 = eval(split, args + " --eval.batch_size=3 --log.level=info");
  BOOST_REQUIRE_MESSAGE(b2.status == 0, b2.output);
  BOOST_TEST(has(b2.output, "continuing after"), b2.output);
  BOOST_TEST((generations(straight) == generations(split)));
  BOOST_TEST((result_rows(straight) == result_rows(split)));
  BOOST_TEST((score_table(split / "reference") == table_of(result_rows(straight))));
}

// Bad settings exit 2 naming the option and what is valid, before a model loads: no output folder.
BOOST_AUTO_TEST_CASE(bad_settings_exit_2_naming_what_is_valid) {
  TempDir dir;
  const auto out = dir.path() / "out";
  struct Case {
    std::string args;
    std::vector<std::string> says;
  };
  const std::vector<Case> cases = {
      {"--eval.tasks=sudoku --eval.strategies=greedy",
       {"eval.strategies", "'greedy'", "eoser_ass, ass, eoser, semi-ar_lcr, semi-ar_rr, diffusion_lcr, diffusion_rr"}},
      {"--eval.tasks=chess --eval.strategies=eoser_ass", {"eval.tasks", "chess", "gsm8k, math, countdown, sudoku"}},
      // ASS over 16 tokens takes floor(log2 16) = 4 steps (Q7).
      {"--eval.tasks=sudoku --eval.strategies=ass --eval.steps=8", {"eval.steps", "floor(log2 16) = 4"}},
      {"--eval.tasks=sudoku --eval.strategies=semi-ar_lcr --eval.steps=8 --eval.block_lengths=5",
       {"block", "valid block lengths"}},
      {"--eval.source=test --eval.tasks=gsm8k --eval.strategies=eoser_ass --tasks.gsm8k_test=" +
           (dir.path() / "missing.jsonl").string(),
       {"tasks.gsm8k_test", "missing.jsonl", "not a file"}},
      {"--eval.tasks=gsm8k --eval.strategies=eoser_ass", {"eval.source = generated", "countdown and sudoku"}},
      {"--eval.tasks=sudoku --eval.strategies=eoser_ass --eval.samples=4", {"eval.samples", "decode.temperature"}},
      {"--eval.tasks=sudoku --eval.strategies=eoser_ass --eval.subsample=100", {"eval.subsample", "generated_count"}},
  };
  for (const auto& c : cases) {
    const auto r = eval(out, c.args + " --log.level=info");
    BOOST_TEST(r.status == 2, c.args << "\n" << r.output);
    for (const auto& s : c.says) BOOST_TEST(has(r.output, s), c.args << ": expected '" << s << "' in\n" << r.output);
    BOOST_TEST(!has(r.output, "setup(s) on"), r.output);  // the model was not loaded
    BOOST_TEST(!fs::exists(out), c.args);
  }
}

// eval.traces: every generation's step map and confidences in the trajectory store's format,
// read by tools/mdrl_trajectories.py (h5py) through the project's Python.
BOOST_AUTO_TEST_CASE(traces_are_readable_by_the_trajectory_tool) {
  TempDir dir;
  const auto out = dir.path() / "out";
  const auto r = eval(out,
                      "--eval.tasks=countdown --eval.strategies=eoser_ass --eval.subsample=6 --eval.batch_size=2 "
                      "--eval.traces=true",
                      2);
  BOOST_REQUIRE_MESSAGE(r.status == 0, r.output);
  const auto trace = out / "traces" / "countdown_eoser_ass_16_4_b1";
  const std::string py =
      "import sys; sys.path.insert(0, sys.argv[1] + '/tools'); import mdrl_trajectories as mt; h = "
      "mt.read_run(sys.argv[2]); "
      "print(len(h['samples/step']), int(h['attrs']['completion_length']), int(h['samples/step_map'].max()), "
      "sorted(int(g) for g in h['samples/group_id']))";
  const auto t = run_command("'" + env_or_throw("MDRL_PYTHON") + "' -c \"" + py + "\" '" +
                             env_or_throw("MDRL_SOURCE_DIR") + "' '" + trace.string() + "'");
  BOOST_REQUIRE_MESSAGE(t.status == 0, t.output);
  BOOST_TEST(has(t.output, "6 16 3 [0, 1, 2, 3, 4, 5]"), t.output);  // 6 completions, 4 ASS steps

  // eval.completion: the reference's text is all 16 tokens (EOS padding and what follows it);
  // until_eos keeps the tokens before the first EOS, a prefix of it.
  const auto u =
      eval(dir.path() / "until_eos",
           "--eval.tasks=countdown --eval.strategies=eoser_ass --eval.subsample=6 --eval.completion=until_eos");
  BOOST_REQUIRE_MESSAGE(u.status == 0, u.output);
  const auto full = generations(out).at("countdown_eoser_ass_16_4_b1");
  const auto cut = generations(dir.path() / "until_eos").at("countdown_eoser_ass_16_4_b1");
  BOOST_REQUIRE_EQUAL(full.size(), cut.size());
  for (size_t i = 0; i < full.size(); ++i) {
    const auto f = full[i].at("generation").get<std::string>(), c = cut[i].at("generation").get<std::string>();
    BOOST_TEST(f.compare(0, c.size(), c) == 0, f << " vs " << c);
  }
}

// The real test files when the development checkout has them (../shared/data): every task's
// parser and ground truth through `mdrl score`, JSONL and reference files alike.
BOOST_AUTO_TEST_CASE(test_files_of_every_task_score_alike) {
  const fs::path data = fs::path(env_or_throw("MDRL_SOURCE_DIR")) / ".." / "shared" / "data";
  if (!fs::exists(data / "gsm8k" / "test.jsonl")) {
    BOOST_TEST_MESSAGE("skipped: " << data << " is absent");
    return;
  }
  TempDir dir;
  const auto out = dir.path() / "out";
  const auto r = eval(out,
                      "--eval.source=test --eval.prompt_style=task --eval.subsample=3 --eval.batch_size=3 "
                      "--eval.strategies=eoser_ass --tasks.gsm8k_test=" +
                          (data / "gsm8k" / "test.jsonl").string() +
                          " --tasks.math_test=" + (data / "math500" / "test.jsonl").string() +
                          " --tasks.countdown_test=" + (data / "countdown" / "test.jsonl").string() +
                          " --tasks.sudoku_test=" + (data / "sudoku" / "test.csv").string());
  BOOST_REQUIRE_MESSAGE(r.status == 0, r.output);
  const auto rows = result_rows(out);
  BOOST_REQUIRE_EQUAL(rows.size(), 4u);
  const auto expected = table_of(rows);
  BOOST_TEST((score_table(out) == expected));
  BOOST_TEST((score_table(out / "reference") == expected));
  const auto gen = generations(out);
  BOOST_TEST(gen.at("gsm8k_eoser_ass_16_4_b1")[0].at("ground_truth").is_number());
  BOOST_TEST(has(gen.at("gsm8k_eoser_ass_16_4_b1")[0].at("prompt").get<std::string>(), "<reasoning>"));
}

BOOST_AUTO_TEST_SUITE_END()
