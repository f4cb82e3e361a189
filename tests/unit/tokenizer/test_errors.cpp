// Malformed and unsupported tokenizer files: each is refused with a message naming the file and
// the field (DESIGN.md principle 5).
#include <boost/test/unit_test.hpp>

#include <functional>

#include "core/error.hpp"
#include "tokenizer/builtin.hpp"
#include "tokenizer/tokenizer.hpp"
#include "tokenizer/tokenizer_config.hpp"
#include "tokenizer_test_util.hpp"

using namespace mdrl;
using namespace mdrl::tokenizer;
using json = nlohmann::json;

namespace {

json base() { return json::parse(builtin::byte_level_tokenizer_json()); }

// Loads `j` as "bad.json" and returns the FormatError's message ("" when it loaded).
std::string error_of(const json& j, std::string_view config = {}) {
  try {
    Tokenizer::from_json(j.dump(), "bad.json", config, "bad_config.json");
  } catch (const core::FormatError& e) {
    return e.what();
  }
  return "";
}

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

void expect(const std::function<void(json&)>& mutate, const std::string& message) {
  json j = base();
  mutate(j);
  const std::string err = error_of(j);
  BOOST_TEST(has(err, message), "expected '" << message << "' in '" << err << "'");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tokenizer_errors)

BOOST_AUTO_TEST_CASE(the_base_file_loads) { BOOST_TEST(error_of(base()).empty()); }

BOOST_AUTO_TEST_CASE(json_syntax) {
  try {
    Tokenizer::from_json("{\"model\": [1, 2", "bad.json");
    BOOST_FAIL("no error");
  } catch (const core::FormatError& e) {
    BOOST_TEST(has(e.what(), "bad.json: not valid JSON"), e.what());
  }
}

BOOST_AUTO_TEST_CASE(model_fields) {
  expect([](json& j) { j.erase("model"); }, "bad.json: model is missing");
  expect([](json& j) { j["model"]["type"] = "WordPiece"; }, "bad.json: model.type is 'WordPiece'; mdrl reads byte-level BPE");
  expect([](json& j) { j["model"]["vocab"] = json::array(); }, "bad.json: model.vocab must be an object");
  expect([](json& j) { j["model"]["vocab"]["!"] = "zero"; }, "bad.json: model.vocab[\"!\"] must be a token id");
  expect([](json& j) { j["model"]["vocab"]["x"] = 0; }, "model.vocab gives id 0 to both");
  expect([](json& j) { j["model"]["merges"] = json::array({"a b c"}); },
         "bad.json: model.merges[0] is \"a b c\"; a merge string must be two tokens");
  expect([](json& j) { j["model"]["merges"] = json::array({json::array({"a", "zz"})}); },
         "bad.json: model.merges[0] (a zz) names a token that is not in model.vocab");
  expect([](json& j) { j["model"]["merges"] = json::array({json::array({"a", "b"})}); },
         "model.merges[0] (a b): the merged token ab is not in model.vocab");
  expect([](json& j) { j["model"]["merges"] = json::array({42}); }, "bad.json: model.merges[0] is 42");
  expect([](json& j) { j["model"]["dropout"] = 0.1; }, "bad.json: model.dropout is 0.1");
  expect([](json& j) { j["model"]["continuing_subword_prefix"] = "##"; }, "bad.json: model.continuing_subword_prefix");
  expect([](json& j) { j["model"]["unk_token"] = "<unk>"; }, "bad.json: model.unk_token <unk> is not in model.vocab");
}

BOOST_AUTO_TEST_CASE(pipeline_components) {
  expect([](json& j) { j["normalizer"] = {{"type", "Lowercase"}}; }, "bad.json: normalizer.type is 'Lowercase'");
  expect([](json& j) { j["normalizer"] = {{"type", "Sequence"}, {"normalizers", {{{"type", "NFC"}}, {{"type", "Strip"}}}}}; },
         "bad.json: normalizer.normalizers[1].type is 'Strip'");
  expect([](json& j) { j["pre_tokenizer"] = {{"type", "Whitespace"}}; }, "bad.json: pre_tokenizer.type is 'Whitespace'");
  expect([](json& j) { j["pre_tokenizer"] = nullptr; }, "bad.json: pre_tokenizer has no ByteLevel step");
  expect([](json& j) { j["pre_tokenizer"].erase("type"); }, "bad.json: pre_tokenizer.type is missing");
  expect(
      [](json& j) {
        j["pre_tokenizer"] = {{"type", "Sequence"},
                              {"pretokenizers",
                               {{{"type", "Split"}, {"pattern", {{"Regex", "\\s+"}}}, {"behavior", "Sideways"}},
                                {{"type", "ByteLevel"}}}}};
      },
      "bad.json: pre_tokenizer.pretokenizers[0].behavior is 'Sideways'; expected one of Removed, Isolated");
  expect(
      [](json& j) {
        j["pre_tokenizer"] = {{"type", "Sequence"},
                              {"pretokenizers",
                               {{{"type", "Split"}, {"pattern", {{"Regex", "(a"}}}, {"behavior", "Isolated"}},
                                {{"type", "ByteLevel"}}}}};
      },
      "bad.json: pre_tokenizer.pretokenizers[0].pattern: the regex (a does not compile");
  expect(
      [](json& j) {
        j["pre_tokenizer"] = {{"type", "Sequence"},
                              {"pretokenizers",
                               {{{"type", "Split"}, {"pattern", {{"Glob", "*"}}}, {"behavior", "Isolated"}},
                                {{"type", "ByteLevel"}}}}};
      },
      "bad.json: pre_tokenizer.pretokenizers[0].pattern must be {\"Regex\": ...} or {\"String\": ...}");
  expect([](json& j) { j["decoder"] = nullptr; }, "bad.json: decoder is missing or null");
  expect([](json& j) { j["decoder"] = {{"type", "WordPiece"}}; }, "bad.json: decoder.type is 'WordPiece'");
  expect([](json& j) { j["post_processor"] = {{"type", "BertProcessing"}}; }, "bad.json: post_processor.type is 'BertProcessing'");
}

BOOST_AUTO_TEST_CASE(added_tokens) {
  expect([](json& j) { j["added_tokens"][0]["id"] = -3; }, "bad.json: added_tokens[0].id must be a token id");
  expect([](json& j) { j["added_tokens"][1].erase("content"); }, "bad.json: added_tokens[1].content is missing");
  expect([](json& j) { j["added_tokens"][2]["single_word"] = true; }, "bad.json: added_tokens[2].single_word is true");
  expect([](json& j) { j["added_tokens"][0]["special"] = "yes"; }, "bad.json: added_tokens[0].special must be true or false");
}

BOOST_AUTO_TEST_CASE(token_ids_are_bounded) {
  // The by-id tables are dense: id 2^31 - 1 used to overflow its size (a write out of bounds), 2^30
  // gave a bare std::bad_alloc and 10^8 took 10 GB and 15 s. Each is refused before any table is
  // allocated, naming the field, the token and the id.
  for (const int64_t id : {int64_t{2147483647}, int64_t{1} << 30, int64_t{100000000}}) {
    const std::string n = std::to_string(id);
    expect([&](json& j) { j["model"]["vocab"]["zz"] = id; },
           "bad.json: model.vocab[\"zz\"] is " + n + ", above the largest token id mdrl accepts, 16777215 (2^24 - 1");
    expect([&](json& j) { j["added_tokens"][0]["id"] = id; },
           "bad.json: added_tokens[0].id is " + n + " (token \"<|startoftext|>\"), above the largest token id");
  }
  expect([](json& j) { j["model"]["vocab"]["zz"] = -1; },
         "bad.json: model.vocab[\"zz\"] must be a token id (an integer from 0 to 16777215), not -1");
  expect([](json& j) { j["added_tokens"][0]["id"] = -1; },
         "bad.json: added_tokens[0].id must be a token id (an integer from 0 to 16777215), not -1 (token "
         "\"<|startoftext|>\")");
  // Below the maximum but far beyond the 262 tokens present (256 bytes + 6 added tokens).
  expect([](json& j) { j["added_tokens"][5]["id"] = 10000000; },
         "bad.json: added_tokens[5].id is 10000000 (token \"<|eot_id|>\"), but the file has only 262 tokens; mdrl's "
         "tables are indexed by id, so ids must stay below 2 x tokens + 131072 = 131596");
  expect([](json& j) { j["model"]["vocab"]["zz"] = 10000000; },
         "bad.json: model.vocab[\"zz\"] is 10000000, but the file has only 263 tokens");
  // Gaps as in LLaDA (added tokens at 126080 and up, the mask at 126336) load, even over a small
  // vocabulary, up to the bound.
  json j = base();
  for (size_t i = 0; i < j["added_tokens"].size(); ++i) j["added_tokens"][i]["id"] = 126080 + static_cast<int64_t>(i);
  j["added_tokens"][2]["id"] = 126336;
  const auto tok = Tokenizer::from_json(j.dump(), "gaps.json");
  BOOST_TEST(tok.token_to_id("<|mdm_mask|>").value() == 126336);
  BOOST_TEST(tok.vocab_size() == 126337);
  BOOST_TEST(tok.decode(tok.encode("a<|endoftext|>")) == "a<|endoftext|>");
  j["added_tokens"][2]["id"] = 131595;
  BOOST_TEST(Tokenizer::from_json(j.dump(), "edge.json").vocab_size() == 131596);
  j["added_tokens"][2]["id"] = 131596;
  BOOST_TEST(has(error_of(j), "added_tokens[2].id is 131596"));
}

BOOST_AUTO_TEST_CASE(tokenizer_config) {
  BOOST_TEST(has(error_of(base(), R"({"bos_token": "<nope>"})"),
                 "bad_config.json: bos_token is '<nope>', which is not a token of bad.json"));
  BOOST_TEST(has(error_of(base(), R"({"eos_token": 5})"), "bad_config.json: eos_token is 5; expected a token string"));
  BOOST_TEST(has(error_of(base(), "{oops"), "bad_config.json: not valid JSON"));
  // The {"content": ...} form (AddedToken objects) is accepted.
  const auto tok = Tokenizer::from_json(base().dump(), "ok.json", R"({"eos_token": {"content": "<|eot_id|>"}})", "c.json");
  BOOST_TEST(tok.special().eos.value() == 261);
  BOOST_TEST(tok.special().pad.value() == 261);  // pad defaults to the EOS
}

BOOST_AUTO_TEST_CASE(missing_files_and_bad_options) {
  test::TempDir dir;
  try {
    Tokenizer::load((dir.path() / "nothing.json").string());
    BOOST_FAIL("no error");
  } catch (const core::InputError& e) {
    BOOST_TEST(has(e.what(), "nothing.json does not exist"), e.what());
  }
  const std::string path = dir.write("tokenizer.json", "[]");
  try {
    Tokenizer::load(dir.path().string());  // a folder: its tokenizer.json is read
    BOOST_FAIL("no error");
  } catch (const core::FormatError& e) {
    BOOST_TEST(has(e.what(), path + ": the top level must be a JSON object"), e.what());
  }
  TokenizerConfig cfg;
  cfg.path = (dir.path() / "missing").string();
  try {
    cfg.validate();
    BOOST_FAIL("no error");
  } catch (const core::ConfigError& e) {
    BOOST_TEST(has(e.what(), "tokenizer.path = '" + cfg.path + "' does not exist"), e.what());
  }
}

BOOST_AUTO_TEST_SUITE_END()
