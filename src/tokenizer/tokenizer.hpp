// A Hugging Face tokenizer.json with a byte-level BPE model (spec model.md §4, §5), read natively:
// added tokens, normalizer, pre-tokenizer, BPE with a per-pre-token cache, post-processor and the
// ByteLevel decoder, plus the special tokens of tokenizer_config.json. LLaDA's tokenizer, the
// test fixtures trained with the `tokenizers` library and the embedded default's byte-level
// tokenizer all load through this one class.
//
// A Tokenizer is immutable after loading, cheap to copy (copies share the loaded data) and safe
// to use from several threads at once.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/bpe_model.hpp"

namespace mdrl::tokenizer {

// Ids and strings of the tokens the models, templates and decoders need. A field is empty when the
// tokenizer has no such token.
struct SpecialTokens {
  std::optional<TokenId> bos, eos, pad, mask, eot, start_header, end_header;
  std::string bos_text, eos_text, pad_text, mask_text;  // as named by tokenizer_config.json or defaults
};

struct EncodeContext;

class Tokenizer {
 public:
  // Name of the embedded default's byte-level tokenizer (inputs/tokenizer/byte_level/), usable
  // wherever a path is.
  static constexpr const char* kBuiltinByteLevel = "builtin:byte_level";

  // `path`: a tokenizer.json file, a folder holding tokenizer.json (a Hugging Face checkpoint
  // folder), or kBuiltinByteLevel. tokenizer_config.json beside tokenizer.json is read when present.
  // Throws core::InputError (missing files) or core::FormatError (naming the file and the field).
  static Tokenizer load(const std::string& path);
  // From text already in memory; `source` names it in messages. `config_json` may be empty.
  static Tokenizer from_json(std::string_view tokenizer_json, const std::string& source,
                             std::string_view config_json = {}, const std::string& config_source = {});

  // Token ids of `text` (UTF-8; ill-formed bytes are kept and encoded byte by byte).
  // add_special_tokens applies the post-processor (LLaDA's adds nothing, spec §4.2).
  std::vector<TokenId> encode(std::string_view text, bool add_special_tokens = false) const;
  // Encodes every text; with threads > 1 the texts are shared out over that many threads.
  std::vector<std::vector<TokenId>> encode_batch(const std::vector<std::string>& texts, int threads = 1,
                                                 bool add_special_tokens = false) const;

  // Text of `ids` (spec §5.4): bytes concatenated across tokens, then UTF-8 with U+FFFD for
  // ill-formed sequences. Ids without a token produce nothing. skip_special_tokens drops every
  // added token marked special.
  std::string decode(std::span<const TokenId> ids, bool skip_special_tokens = false) const;
  // The raw bytes, without the UTF-8 repair: decode_bytes(encode(b)) == b for any bytes b when
  // the tokenizer has no normalizer (the byte-level tokenizer).
  std::string decode_bytes(std::span<const TokenId> ids, bool skip_special_tokens = false) const;

  // The pieces BPE sees (raw bytes, after added-token splitting, normalization and pre-tokenization);
  // an added token is one piece. For debugging and tests of the regex.
  std::vector<std::string> pre_tokenize(std::string_view text) const;

  // The token string as tokenizer.json stores it ("Ġworld", "<|eot_id|>"), or nothing.
  std::optional<std::string> id_to_token(TokenId id) const;
  // Id of an added token's content or a vocabulary string, or nothing.
  std::optional<TokenId> token_to_id(std::string_view token) const;
  bool is_special(TokenId id) const;
  // One past the largest id in the vocabulary or the added tokens.
  int64_t vocab_size() const;
  const SpecialTokens& special() const;
  // What was loaded (file path or builtin name), for logs.
  const std::string& source() const;
  // One line on the components, for logs and `mdrl tokenize`.
  std::string summary() const;

  struct Impl;

 private:
  explicit Tokenizer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

// Incremental decoding for live output: text for each new token as soon as its bytes form whole
// characters; bytes of a character cut at a token boundary wait for the next token (spec §5.4).
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tokenizer, bool skip_special_tokens = false)
      : tokenizer_(tokenizer), skip_special_(skip_special_tokens) {}
  std::string push(TokenId id);
  // Whatever is still buffered, with U+FFFD for an unfinished character.
  std::string finish();

 private:
  Tokenizer tokenizer_;
  bool skip_special_;
  std::string pending_;
};

}  // namespace mdrl::tokenizer
