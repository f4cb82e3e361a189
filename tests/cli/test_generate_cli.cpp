// `mdrl generate` as a user runs it: a tiny random LLaDA with the byte-level tokenizer decodes
// prompts from the arguments and a file, prints them in order, shows the plan; invalid decode
// settings fail before the model is loaded, with the valid values in the message.
#include <boost/test/unit_test.hpp>

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

BOOST_AUTO_TEST_SUITE_END()
