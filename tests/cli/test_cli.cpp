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

BOOST_AUTO_TEST_CASE(pending_mode_says_so) {
  const auto r = run_mdrl("eval");
  BOOST_TEST(r.status == 2, r.output);
  BOOST_TEST(has(r.output, "mode 'eval' is not in this build yet"), r.output);
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
