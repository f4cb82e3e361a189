// libFuzzer harness: tokenizer.json and tokenizer_config.json (tokenizer/tokenizer.hpp,
// Tokenizer::from_json) and, for a tokenizer that loads, encoding and decoding of text.
// Input: tokenizer.json, NUL, tokenizer_config.json (may be empty), NUL, text. A malformed file is
// a FormatError naming it; a loaded tokenizer encodes any text, decodes any ids (also ids it does
// not have) and its stream decoder gives the same text as decode.
#include <cstdint>

#include "fuzz_support.hpp"
#include "tokenizer/chat_template.hpp"
#include "tokenizer/tokenizer.hpp"

using mdrl::tokenizer::TokenId;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto parts = mdrl::fuzz::split_parts(mdrl::fuzz::as_text(data, size), 3);
  const std::string& json = parts[0];
  const std::string config = parts.size() > 1 ? parts[1] : std::string();
  const std::string text = parts.size() > 2 ? parts[2] : std::string("Hello, world! 123 \xF0\x9F\x98\x80");
  std::optional<mdrl::tokenizer::Tokenizer> tok;
  mdrl::fuzz::expect_clean(
      [&] {
        tok = mdrl::tokenizer::Tokenizer::from_json(json, "fuzzdir/tokenizer.json", config,
                                                    "fuzzdir/tokenizer_config.json");
      },
      "fuzzdir/tokenizer");
  if (!tok) return 0;
  auto nothrow = [](const char* what, auto&& f) {
    try {
      f();
    } catch (const std::exception& e) {
      mdrl::fuzz::finding(what, e.what());
    }
  };
  nothrow("use of a loaded tokenizer threw", [&] {
    (void)tok->summary();
    const std::vector<TokenId> ids = tok->encode(text);
    (void)tok->encode(text, true);
    (void)tok->pre_tokenize(text);
    const std::string decoded = tok->decode(ids);
    (void)tok->decode(ids, true);
    (void)tok->decode_bytes(ids);
    mdrl::tokenizer::StreamDecoder stream(*tok);
    std::string streamed;
    for (TokenId id : ids) streamed += stream.push(id);
    streamed += stream.finish();
    if (streamed != decoded) mdrl::fuzz::finding("StreamDecoder differs from decode", text.c_str());
    // Ids the tokenizer does not have, and every id of the vocabulary's ends.
    const int64_t v = tok->vocab_size();
    std::vector<TokenId> odd{-1, 0, static_cast<TokenId>(v), static_cast<TokenId>(v - 1), INT32_MAX, INT32_MIN};
    for (TokenId id : odd) {
      (void)tok->id_to_token(id);
      (void)tok->is_special(id);
    }
    (void)tok->decode(odd);
    (void)tok->decode(odd, true);
    (void)tok->token_to_id(text);
    for (const auto& id : {tok->special().bos, tok->special().eos, tok->special().mask, tok->special().pad})
      if (id) (void)tok->id_to_token(*id);
  });
  try {
    const auto tmpl = mdrl::tokenizer::ChatTemplate::for_tokenizer(*tok);
    nothrow("encoding a chat prompt threw", [&] { (void)tok->encode(tmpl.render_user(text)); });
  } catch (const mdrl::core::Error& e) {
    if (e.exit_code() != 2) mdrl::fuzz::finding(e.kind(), e.what());
  }
  return 0;
}
