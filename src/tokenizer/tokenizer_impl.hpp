// Internals of Tokenizer shared by its encoding (tokenizer.cpp) and loading (tokenizer_json.cpp)
// halves. Not part of the module's interface.
#pragma once

#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "tokenizer/added_vocabulary.hpp"
#include "tokenizer/bpe_model.hpp"
#include "tokenizer/normalizer.hpp"
#include "tokenizer/pre_tokenizer.hpp"
#include "tokenizer/tokenizer.hpp"

namespace mdrl::tokenizer {

// Ids the post-processor puts around a single sequence when add_special_tokens is set
// (TemplateProcessing's "single" template; nothing for LLaDA).
struct PostProcessor {
  std::vector<TokenId> prefix, suffix;
};

struct Tokenizer::Impl {
  std::string source;
  std::string config_source;  // tokenizer_config.json, when one was read
  AddedVocabulary added;
  Normalizer normalizer;
  PreTokenizer pre_tokenizer;
  BpeModel model;
  PostProcessor post;
  SpecialTokens special;
  std::string description;  // components, for summary()

  // By id: what the ByteLevel decoder makes of the token (added tokens first, as in Hugging Face),
  // and whether it is a special added token.
  std::vector<std::string> decoded;
  std::vector<uint8_t> has_token, special_flag;

  // The shared encoding context, used by whichever thread gets its lock; others make their own.
  mutable std::mutex context_mutex;
  mutable std::unique_ptr<EncodeContext> context;

  void finish_loading();  // fills the by-id tables
  void encode_into(std::string_view text, EncodeContext& ctx, std::vector<TokenId>& out) const;

 private:
  void encode_normalized(std::string_view text, EncodeContext& ctx, std::vector<TokenId>& out) const;
  void encode_pieces(std::string_view text, EncodeContext& ctx, std::vector<TokenId>& out) const;
};

// Per-thread state of encoding: regex match data, reusable buffers, and the cache of BPE results
// per pre-token (most words repeat, so most pre-tokens skip the merge loop).
struct EncodeContext {
  explicit EncodeContext(const Tokenizer::Impl& impl) : pre(impl.pre_tokenizer) {}

  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Slice {
    uint32_t offset, length;  // into cache_ids
  };
  static constexpr size_t kCacheEntries = 1 << 16;  // bounded memory; cleared when full

  PreTokenizer::Scratch pre;
  BpeModel::Scratch bpe;
  std::vector<AddedVocabulary::Segment> segments, normalized_segments;
  std::vector<std::string_view> pieces;
  std::string normalized;
  std::unordered_map<std::string, Slice, StringHash, std::equal_to<>> cache;
  std::vector<TokenId> cache_ids;
};

}  // namespace mdrl::tokenizer
