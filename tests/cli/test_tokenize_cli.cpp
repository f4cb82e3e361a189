// `mdrl tokenize` as a user runs it: ids and pieces of a text, the chat and eval prompt forms,
// decoding ids, and the errors for a missing tokenizer, missing arguments or unknown ids.
#include <boost/test/unit_test.hpp>

#include "test_support.hpp"

using namespace mdrl::test;

namespace {
bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }
}  // namespace

BOOST_AUTO_TEST_SUITE(tokenize_cli)

BOOST_AUTO_TEST_CASE(encodes_with_the_builtin_tokenizer) {
  const auto r = run_mdrl("tokenize 'hi there'");
  BOOST_TEST(r.status == 0, r.output);
  BOOST_TEST(has(r.output, "text: \"hi there\" (8 bytes) -> 8 tokens"), r.output);
  BOOST_TEST(has(r.output, "ids: [71, 72, 220, 83, 71, 68, 81, 68]"), r.output);
}

BOOST_AUTO_TEST_CASE(eval_form_with_a_trained_tokenizer) {
  const std::string dir = env_or_throw("MDRL_SOURCE_DIR") + "/tests/data/tokenizer";
  const auto r = run_mdrl("tokenize --tokenizer.path=" + dir + " --tokenize.form=eval 'What is 2+2?'");
  BOOST_TEST(r.status == 0, r.output);
  BOOST_TEST(has(r.output, "<|startoftext|><|start_header_id|>user<|end_header_id|>\\n\\nWhat is 2+2?<|eot_id|>"),
             r.output);
  BOOST_TEST(has(r.output, "<|startoftext|>         \"<|startoftext|>\"  (special)"), r.output);
}

BOOST_AUTO_TEST_CASE(decodes_ids) {
  const auto r = run_mdrl("tokenize --tokenize.decode=true 71,72 261 220 83");
  BOOST_TEST(r.status == 0, r.output);
  BOOST_TEST(r.output == "hi<|eot_id|> t\n", r.output);
  const auto s = run_mdrl("tokenize --tokenize.decode=true --tokenize.skip_special=true 71,72 261 220 83");
  BOOST_TEST(s.output == "hi t\n", s.output);
}

BOOST_AUTO_TEST_CASE(errors_name_the_problem) {
  const auto none = run_mdrl("tokenize");
  BOOST_TEST(none.status == 2, none.output);
  BOOST_TEST(has(none.output, "mdrl tokenize needs the text"), none.output);
  const auto missing = run_mdrl("tokenize --tokenizer.path=/nonexistent/tok.json x");
  BOOST_TEST(missing.status == 2, missing.output);
  BOOST_TEST(has(missing.output, "tokenizer.path = '/nonexistent/tok.json' does not exist"), missing.output);
  const auto bad_id = run_mdrl("tokenize --tokenize.decode=true 12x");
  BOOST_TEST(bad_id.status == 2, bad_id.output);
  BOOST_TEST(has(bad_id.output, "'12x' is not a token id"), bad_id.output);
  // Ids of another tokenizer (LLaDA's "hello world") used to print an empty line and exit 0.
  const auto oov = run_mdrl("tokenize --tokenize.decode=true 25752,1931");
  BOOST_TEST(oov.status == 2, oov.output);
  BOOST_TEST(has(oov.output,
                 "token id 25752 is not in the vocabulary of builtin:byte_level tokenizer.json, which has "
                 "262 ids (0 to 261)"),
             oov.output);
}

BOOST_AUTO_TEST_SUITE_END()
