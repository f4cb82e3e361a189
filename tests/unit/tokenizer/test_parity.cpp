// Parity with the Hugging Face `tokenizers` library on fixtures it produced
// (tools/gen_tokenizer_fixtures.py): a byte-level BPE trained with LLaDA's pipeline and
// LLaDA-like added tokens, a few hundred strings, their ids and decodings (spec model.md §5).
#include <boost/test/unit_test.hpp>

#include "tokenizer/builtin.hpp"
#include "tokenizer/byte_level.hpp"
#include "tokenizer/tokenizer.hpp"
#include "tokenizer/utf8.hpp"
#include "tokenizer_test_util.hpp"

using namespace mdrl;
using namespace mdrl::tokenizer;
using mdrl::test::read_jsonl;
using mdrl::test::slurp;
using mdrl::test::tokenizer_data;

namespace {

std::string builtin_json() { return std::string(builtin::byte_level_tokenizer_json()); }

std::vector<TokenId> ids_of(const nlohmann::json& row) { return row["ids"].get<std::vector<TokenId>>(); }

// Checks every row; returns how many matched.
size_t check_rows(const Tokenizer& tok, const std::vector<nlohmann::json>& rows) {
  size_t ok = 0;
  for (const auto& row : rows) {
    const std::string text = row["text"].get<std::string>();
    const auto expected = ids_of(row);
    const auto got = tok.encode(text);
    BOOST_TEST(got == expected, "encode(\"" << utf8::escape(text) << "\")");
    BOOST_TEST(tok.decode(expected) == row["decoded"].get<std::string>(), "decode of \"" << utf8::escape(text) << "\"");
    BOOST_TEST(tok.decode(expected, /*skip_special_tokens=*/true) == row["decoded_skip"].get<std::string>(),
               "decode(skip special) of \"" << utf8::escape(text) << "\"");
    ok += got == expected ? 1 : 0;
  }
  return ok;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tokenizer_parity)

BOOST_AUTO_TEST_CASE(trained_bpe_matches_hugging_face) {
  const auto tok = Tokenizer::load(tokenizer_data("tokenizer.json").string());
  const auto rows = read_jsonl(tokenizer_data("cases.jsonl"));
  BOOST_TEST(rows.size() >= 300u);
  BOOST_TEST(check_rows(tok, rows) == rows.size());
}

BOOST_AUTO_TEST_CASE(decoding_gives_back_the_text) {
  // The fixture texts avoid characters NFC changes only where noted: decode(encode(t)) == NFC(t),
  // which for the test strings in NFC already is t itself.
  const auto tok = Tokenizer::load(tokenizer_data("tokenizer.json").string());
  size_t same = 0;
  for (const auto& row : read_jsonl(tokenizer_data("cases.jsonl"))) {
    const std::string text = row["text"].get<std::string>();
    const std::string back = tok.decode(tok.encode(text));
    BOOST_TEST(back == row["decoded"].get<std::string>());
    same += back == text ? 1 : 0;
  }
  BOOST_TEST(same > 250u);  // all but the strings NFC rewrites
}

BOOST_AUTO_TEST_CASE(pre_tokenizer_pieces_match_hugging_face) {
  // The regex split itself (ids alone can hide a different split of bytes that have no merges,
  // e.g. around U+180E, which PCRE2's \s would match but Oniguruma's does not).
  const auto tok = Tokenizer::load(tokenizer_data("tokenizer.json").string());
  size_t checked = 0;
  for (const auto& row : read_jsonl(tokenizer_data("cases.jsonl"))) {
    if (!row.contains("pieces")) continue;
    const std::string text = row["text"].get<std::string>();
    std::vector<std::string> got;
    for (const auto& p : tok.pre_tokenize(text)) got.push_back(byte_level::encode(p));
    BOOST_TEST(got == row["pieces"].get<std::vector<std::string>>(), "pieces of \"" << utf8::escape(text) << "\"");
    ++checked;
  }
  BOOST_TEST(checked > 200u);
}

BOOST_AUTO_TEST_CASE(other_pre_tokenizers_match_hugging_face) {
  // Every Split behaviour (with invert and literal patterns), ByteLevel with a prefix space and the
  // GPT-2 regex, and Sequence, on the byte-level tokenizer (tools/gen_tokenizer_fixtures.py).
  auto base = nlohmann::json::parse(builtin_json());
  size_t checked = 0;
  for (const auto& row : read_jsonl(tokenizer_data("pre_tokenizers.jsonl"))) {
    base["pre_tokenizer"] = row["pre_tokenizer"];
    const auto tok = Tokenizer::from_json(base.dump(), "variant tokenizer.json");
    const std::string text = row["text"].get<std::string>();
    std::vector<std::string> got;
    for (const auto& p : tok.pre_tokenize(text)) got.push_back(byte_level::encode(p));
    const std::string what = row["pre_tokenizer"].dump() + " on \"" + utf8::escape(text) + "\"";
    BOOST_TEST(got == row["pieces"].get<std::vector<std::string>>(), what);
    BOOST_TEST(tok.encode(text) == ids_of(row), what);
    ++checked;
  }
  BOOST_TEST(checked > 150u);
}

BOOST_AUTO_TEST_CASE(template_post_processor_adds_ids_when_asked) {
  auto j = nlohmann::json::parse(builtin_json());
  j["post_processor"] = {
      {"type", "TemplateProcessing"},
      {"single",
       {{{"SpecialToken", {{"id", "<|startoftext|>"}, {"type_id", 0}}}},
        {{"Sequence", {{"id", "A"}, {"type_id", 0}}}},
        {{"SpecialToken", {{"id", "<|endoftext|>"}, {"type_id", 0}}}}}},
      {"pair", nlohmann::json::array()},
      {"special_tokens", {{"<|endoftext|>", {{"id", "<|endoftext|>"}, {"ids", {257}}, {"tokens", {"<|endoftext|>"}}}}}}};
  const auto tok = Tokenizer::from_json(j.dump(), "template tokenizer.json");
  BOOST_TEST(tok.encode("a") == (std::vector<TokenId>{64}));
  BOOST_TEST(tok.encode("a", /*add_special_tokens=*/true) == (std::vector<TokenId>{256, 64, 257}));
  BOOST_TEST(tok.encode_batch({"a", "b"}, 2, true)[1] == (std::vector<TokenId>{256, 65, 257}));
}

BOOST_AUTO_TEST_CASE(merges_as_strings_give_the_same_ids) {
  // tokenizers < 0.20 wrote merges as "a b"; convert the fixture and compare.
  auto j = nlohmann::json::parse(slurp(tokenizer_data("tokenizer.json")));
  BOOST_REQUIRE(j["model"]["merges"][0].is_array());
  nlohmann::json merges = nlohmann::json::array({"#version: 0.2"});
  for (const auto& m : j["model"]["merges"]) merges.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
  j["model"]["merges"] = merges;
  const auto tok = Tokenizer::from_json(j.dump(), "string-merges tokenizer.json");
  const auto rows = read_jsonl(tokenizer_data("cases.jsonl"));
  BOOST_TEST(check_rows(tok, rows) == rows.size());
}

BOOST_AUTO_TEST_CASE(builtin_byte_level_matches_hugging_face) {
  const auto tok = Tokenizer::load(Tokenizer::kBuiltinByteLevel);
  const auto rows = read_jsonl(tokenizer_data("byte_level.jsonl"));
  BOOST_TEST(check_rows(tok, rows) == rows.size());
  // The shipped file and the compiled-in copy are the same tokenizer.
  const auto file = Tokenizer::load((std::filesystem::path(test::env_or_throw("MDRL_SOURCE_DIR")) / "inputs" /
                                     "tokenizer" / "byte_level")
                                        .string());
  BOOST_TEST(file.vocab_size() == tok.vocab_size());
  BOOST_TEST(file.encode("<|startoftext|>abc\xff") == tok.encode("<|startoftext|>abc\xff"));
}

BOOST_AUTO_TEST_CASE(batch_encode_equals_single_encode) {
  const auto tok = Tokenizer::load(tokenizer_data("tokenizer.json").string());
  std::vector<std::string> texts;
  for (const auto& row : read_jsonl(tokenizer_data("cases.jsonl"))) texts.push_back(row["text"].get<std::string>());
  const auto one = tok.encode_batch(texts, 1);
  const auto four = tok.encode_batch(texts, 4);
  BOOST_REQUIRE_EQUAL(one.size(), texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    BOOST_TEST(one[i] == tok.encode(texts[i]));
    BOOST_TEST(four[i] == one[i]);
  }
}

BOOST_AUTO_TEST_CASE(long_inputs_encode_in_reasonable_time) {
  // No quadratic merge loop: a 200 kB pre-token (one long run of letters) and a long digit run.
  const auto tok = Tokenizer::load(tokenizer_data("tokenizer.json").string());
  const std::string letters(200000, 'a');
  const auto ids = tok.encode(letters);
  BOOST_TEST(tok.decode(ids) == letters);
  const std::string digits(100000, '7');
  BOOST_TEST(tok.encode(digits).size() == digits.size());  // \p{N}: one piece per digit
}

BOOST_AUTO_TEST_SUITE_END()
