// The LLaDA chat template byte for byte against the spec's example (model.md §4.2), the eval
// prompt form (algorithms.md §6.2), content stripping, and the template encoded by a tokenizer.
#include <boost/test/unit_test.hpp>

#include <algorithm>

#include "core/error.hpp"
#include "tokenizer/chat_template.hpp"
#include "tokenizer/tokenizer.hpp"
#include "tokenizer_test_util.hpp"

using namespace mdrl;
using namespace mdrl::tokenizer;

namespace {
const std::string kQuestion =
    "Lily can run 12 kilometers per hour for 4 hours. After that, she runs 6 kilometers per hour. How many "
    "kilometers can she run in 8 hours?";
// Spec model.md §4.2, the rendered example.
const std::string kExample =
    "<|startoftext|><|start_header_id|>user<|end_header_id|>\n\nLily can run 12 kilometers per hour for 4 hours. "
    "After that, she runs 6 kilometers per hour. How many kilometers can she run in 8 hours?<|eot_id|>"
    "<|start_header_id|>assistant<|end_header_id|>\n\n";
}  // namespace

BOOST_AUTO_TEST_SUITE(chat_template)

BOOST_AUTO_TEST_CASE(spec_example_byte_for_byte) {
  const ChatTemplate t;
  BOOST_TEST(t.render({{"user", kQuestion}}) == kExample);
  BOOST_TEST(t.render_user(kQuestion) == kExample);
  BOOST_TEST(t.render_user("  \n" + kQuestion + "\n\t ") == kExample);  // content is stripped
  BOOST_TEST(t.render_user(kQuestion, PromptForm::ChatReasoning) == kExample + "<reasoning>");
  BOOST_TEST(t.render_user(kQuestion, PromptForm::Raw) == kQuestion);
}

BOOST_AUTO_TEST_CASE(several_messages_one_bos) {
  const ChatTemplate t;
  const std::string out = t.render({{"system", "\nBe brief.\n"}, {"user", "Hi"}, {"assistant", " Hello "}});
  BOOST_TEST(out ==
             "<|startoftext|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
             "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
             "<|start_header_id|>assistant<|end_header_id|>\n\nHello<|eot_id|>"
             "<|start_header_id|>assistant<|end_header_id|>\n\n");
  BOOST_TEST(t.render({}) == "<|start_header_id|>assistant<|end_header_id|>\n\n");
  // Jinja's trim is Python's str.strip(): Unicode whitespace such as U+3000 and U+0085 goes too,
  // a zero-width space (not whitespace to Python) stays.
  BOOST_TEST(t.render_user("\xE3\x80\x80q\xC2\x85") == t.render_user("q"));
  BOOST_TEST(t.render_user("\xE2\x80\x8Bq") != t.render_user("q"));
}

BOOST_AUTO_TEST_CASE(encoded_with_the_fixture_tokenizer) {
  const auto tok = Tokenizer::load(test::tokenizer_data("tokenizer.json").string());
  const auto t = ChatTemplate::for_tokenizer(tok);
  const auto ids = tok.encode(t.render_user(kQuestion, PromptForm::ChatReasoning));
  const auto& s = tok.special();
  BOOST_REQUIRE(s.bos && s.start_header && s.end_header && s.eot);
  BOOST_TEST(ids.front() == *s.bos);
  BOOST_TEST(ids[1] == *s.start_header);
  BOOST_TEST(std::count(ids.begin(), ids.end(), *s.bos) == 1);
  BOOST_TEST(std::count(ids.begin(), ids.end(), *s.eot) == 1);
  BOOST_TEST(std::count(ids.begin(), ids.end(), *s.start_header) == 2);
  BOOST_TEST(tok.decode(ids) == kExample + "<reasoning>");
  BOOST_TEST(tok.decode(ids, /*skip_special_tokens=*/true) ==
             "user\n\n" + kQuestion + "assistant\n\n<reasoning>");
}

BOOST_AUTO_TEST_CASE(template_needs_the_header_tokens) {
  // A tokenizer without the LLaDA chat tokens is refused by name.
  auto j = nlohmann::json::parse(test::slurp(test::tokenizer_data("tokenizer.json")));
  nlohmann::json kept = nlohmann::json::array();
  for (const auto& t : j["added_tokens"])
    if (t["content"] != "<|eot_id|>") kept.push_back(t);
  j["added_tokens"] = kept;
  const auto tok = Tokenizer::from_json(j.dump(), "no-eot.json");
  try {
    ChatTemplate::for_tokenizer(tok);
    BOOST_FAIL("no error");
  } catch (const core::FormatError& e) {
    BOOST_TEST(std::string(e.what()).find("no-eot.json has no added token '<|eot_id|>'") != std::string::npos, e.what());
  }
}

BOOST_AUTO_TEST_CASE(optional_real_llada_tokenizer) {
  // Spec §5.5 vectors, when a real LLaDA tokenizer folder is given in MDRL_LLADA_TOKENIZER.
  const char* path = std::getenv("MDRL_LLADA_TOKENIZER");
  if (path == nullptr) {
    BOOST_TEST_MESSAGE("MDRL_LLADA_TOKENIZER not set: skipping the real-tokenizer vectors");
    return;
  }
  const auto tok = Tokenizer::load(path);
  BOOST_TEST(tok.encode("hello world") == (std::vector<TokenId>{25752, 1931}));
  BOOST_TEST(tok.encode(" \t\n\r  x") == (std::vector<TokenId>{220, 197, 198, 201, 220, 1529}));
  BOOST_TEST(tok.encode("caf\xC3\xA9 \xCE\xA9 \xE4\xB8\xAD\xE6\x96\x87") == (std::vector<TokenId>{66, 2610, 2900, 47037, 79911}));
  BOOST_TEST(tok.encode("cafe\xCC\x81 A\xCC\x8A") == (std::vector<TokenId>{66, 2610, 2900, 66425}));
  BOOST_TEST(tok.encode(ChatTemplate::for_tokenizer(tok).render_user(kQuestion)) ==
             (std::vector<TokenId>{126080, 126346, 3840, 126347, 198, 198, 86059, 560, 2001, 220, 16, 17, 44137,
                                   854, 6984, 352, 220, 19, 3871, 13, 4474, 378, 11, 1285, 9660, 220, 21, 44137,
                                   854, 6984, 13, 2071, 1494, 44137, 560, 1285, 2001, 296, 220, 23, 3871, 30,
                                   126348, 126346, 598, 10450, 126347, 198, 198}));
  BOOST_TEST(tok.special().mask.value() == 126336);
  BOOST_TEST(tok.special().eos.value() == 126081);
}

BOOST_AUTO_TEST_SUITE_END()
