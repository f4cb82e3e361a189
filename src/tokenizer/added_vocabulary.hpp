// Added tokens of tokenizer.json (spec model.md §4.1, §5.2 step 1): matched in the text before
// normalization and pre-tokenization, leftmost first and longest among matches starting at the
// same place (Hugging Face's Aho-Corasick "leftmost-longest"). Tokens with `normalized: false`
// (all of LLaDA's) are matched on the raw text; those with `normalized: true` on the normalized
// text of the stretches between the others. `lstrip`/`rstrip` absorb adjacent whitespace.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/bpe_model.hpp"

namespace mdrl::tokenizer {

struct AddedToken {
  TokenId id = 0;
  std::string content;
  bool special = false;
  bool normalized = false;
  bool lstrip = false;
  bool rstrip = false;
};

class AddedVocabulary {
 public:
  // A stretch of text: an added token (id >= 0) or text to tokenize further (id < 0).
  struct Segment {
    size_t begin, end;
    TokenId id;
  };

  AddedVocabulary() = default;
  explicit AddedVocabulary(std::vector<AddedToken> tokens);

  // Splits `text` at the tokens with normalized == `normalized_set`; appends segments covering it.
  void split(std::string_view text, bool normalized_set, std::vector<Segment>& out) const;
  bool has_normalized() const { return tries_[1].tokens > 0; }
  bool empty() const { return tokens_.empty(); }

  const AddedToken* find(TokenId id) const;
  std::optional<TokenId> id_of(std::string_view content) const;
  const std::vector<AddedToken>& tokens() const { return tokens_; }

 private:
  // Byte trie over token contents; `terminal[node]` is the token index ending there or -1.
  struct Trie {
    std::unordered_map<uint64_t, int32_t> next;  // (node << 8 | byte) -> node
    std::vector<int32_t> terminal{-1};
    std::array<bool, 256> first{};  // bytes that can start a token: most positions skip the trie
    size_t tokens = 0;
    void insert(std::string_view s, int32_t token);
  };

  std::vector<AddedToken> tokens_;
  std::unordered_map<TokenId, size_t> by_id_;
  std::unordered_map<std::string, TokenId> by_content_;
  std::array<Trie, 2> tries_;  // [0]: normalized == false, [1]: normalized == true
};

}  // namespace mdrl::tokenizer
