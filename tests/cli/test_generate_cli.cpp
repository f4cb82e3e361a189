// `mdrl generate` as a user runs it: a tiny random LLaDA with the byte-level tokenizer decodes
// prompts from the arguments and a file, prints them in order, shows the plan; invalid decode
// settings fail before the model is loaded, with the valid values in the message; with
// generate.traces under mpirun -np 2 every prompt's unmasking is written to a trajectory file that
// tools/mdrl_trajectories.py (h5py) reads back.
#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include "test_support.hpp"

using namespace mdrl::test;

namespace {
bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }
const std::string kSmall = "--model.preset=tiny --decode.gen_length=16 --decode.block_length=8 --decode.steps=8 ";
}  // namespace

BOOST_AUTO_TEST_SUITE(generate_cli)

BOOST_AUTO_TEST_CASE(decodes_prompts_from_arguments_and_file) {
  TempDir dir;
  const auto file = dir.write("prompts.txt", "first prompt\nsecond one\n");
  const auto r = run_mdrl("generate " + kSmall + "--generate.prompt_file=" + file + " --generate.batch_size=2 'What is 2+3?'");
  BOOST_TEST(r.status == 0, r.output);
  BOOST_TEST(has(r.output, "=== 0: What is 2+3?\n"), r.output);
  BOOST_TEST(has(r.output, "=== 1: first prompt\n"), r.output);
  BOOST_TEST(has(r.output, "=== 2: second one\n"), r.output);
}

BOOST_AUTO_TEST_CASE(eoser_ass_with_plan) {
  const auto r = run_mdrl("generate --model.preset=tiny --decode.gen_length=32 --decode.schedule=ass --decode.steps=5 "
                          "--decode.block_num=2 --decode.eoser=true --generate.show_plan=true hello");
  BOOST_TEST(r.status == 0, r.output);
  BOOST_TEST(has(r.output, "decode plan: ass, gen_length 32, 2 block(s), 5 step(s)"), r.output);
  BOOST_TEST(has(r.output, "=== 0: hello"), r.output);
}

BOOST_AUTO_TEST_CASE(invalid_settings_fail_up_front) {
  const auto a = run_mdrl("generate --decode.schedule=ass --decode.gen_length=128 --decode.steps=32 hi");
  BOOST_TEST(a.status == 2, a.output);
  BOOST_TEST(has(a.output, "floor(log2 gen_length) = 7"), a.output);
  const auto b = run_mdrl("generate --decode.gen_length=100 --decode.block_length=32 hi");
  BOOST_TEST(b.status == 2, b.output);
  BOOST_TEST(has(b.output, "valid block lengths: 1, 2, 4, 5, 10, 20, 25, 50, 100"), b.output);
  const auto c = run_mdrl("generate " + kSmall);
  BOOST_TEST(c.status == 2, c.output);
  BOOST_TEST(has(c.output, "needs a prompt"), c.output);
}

// 3 prompts on 2 ranks, 32 tokens in 2 semi-AR blocks of 8 steps (2 tokens a step): one trajectory
// step holding every prompt once (group_id = prompt index), each row's step map unmasking exactly
// 2 positions at each of the 16 steps, inside the block of its step.
BOOST_AUTO_TEST_CASE(decode_traces_for_every_prompt) {
  TempDir dir;
  const auto file = dir.write("prompts.txt", "first prompt\nsecond one\nthird\n");
  const std::string traces = (dir.path() / "traces").string();
  const auto r = run_command(env_or_throw("MPIEXEC") + " -np 2 --oversubscribe --bind-to none " + env_or_throw("MDRL_EXE") +
                             " generate --model.preset=tiny --decode.gen_length=32 --decode.block_length=16"
                             " --decode.steps=16 --generate.batch_size=1 --generate.prompt_file=" + file +
                             " --generate.traces=" + traces + " --log.level=warn");
  BOOST_TEST_REQUIRE(r.status == 0, r.output);
  const std::string py =
      "import sys, json, numpy as np\n"
      "sys.path.insert(0, sys.argv[2])\n"
      "import mdrl_trajectories as t\n"
      "d = t.read_run(sys.argv[1])\n"
      "sm = np.asarray(d['samples/step_map'])\n"
      "print(json.dumps({'groups': sorted(int(g) for g in d['samples/group_id']),"
      " 'steps': sorted(set(int(s) for s in d['samples/step'])),"
      " 'per_step': [[int((row == k).sum()) for k in range(16)] for row in sm],"
      " 'in_block': bool(all(((row // 8) == (np.arange(32) // 16)).all() for row in sm))}))\n";
  dir.write("check.py", py);
  const auto c = run_command("'" + env_or_throw("MDRL_PYTHON") + "' " + (dir.path() / "check.py").string() + " " + traces +
                             " " + env_or_throw("MDRL_SOURCE_DIR") + "/tools");
  BOOST_TEST_REQUIRE(c.status == 0, c.output);
  const auto j = nlohmann::json::parse(c.output.substr(c.output.find('{')));
  BOOST_TEST(j["groups"] == nlohmann::json::parse("[0, 1, 2]"), c.output);
  BOOST_TEST(j["steps"] == nlohmann::json::parse("[0]"), c.output);
  for (const auto& row : j["per_step"])
    for (const auto& n : row) BOOST_TEST(n.get<int>() == 2, c.output);
  BOOST_TEST(j["in_block"].get<bool>(), c.output);
}

BOOST_AUTO_TEST_SUITE_END()
