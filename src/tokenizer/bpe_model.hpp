// The byte-level BPE model of tokenizer.json (spec model.md §5.1 `model`, §5.2 step 5): the
// vocabulary, the ranked merges, and the merge loop for one pre-token. The model works on raw
// bytes: vocabulary strings, which tokenizer.json stores in the ByteLevel alphabet, are unmapped
// once at load, so encoding never builds alphabet strings and decoding is a concatenation.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace mdrl::tokenizer {

using TokenId = int32_t;

// Largest token id a tokenizer.json may use (2^24 - 1, 60x the largest real vocabularies): tables
// are indexed by id, so a stray id of 2^31 - 1 would overflow and one of 10^8 take gigabytes.
constexpr int64_t kMaxTokenId = (int64_t{1} << 24) - 1;
// Ids may leave gaps (LLaDA's 126464 model rows past its 126349 tokens, small test vocabularies
// that keep LLaDA's special ids at 126080+), but the id range must stay within twice the tokens
// present plus this much, so that the by-id tables stay proportional to the file.
constexpr int64_t kIdGapAllowance = int64_t{1} << 17;
inline int64_t max_id_bound(int64_t tokens) {
  return 2 * tokens + kIdGapAllowance;
}

class BpeModel {
 public:
  struct Options {
    std::optional<std::string> unk_token;  // null in LLaDA: bytes missing from the vocabulary vanish
    bool fuse_unk = false;
    bool byte_fallback = false;  // <0xNN> tokens for bytes missing from the vocabulary
    bool ignore_merges = false;  // a pre-token that is a whole vocabulary entry skips the merges
  };

  // Reusable buffers for encode_piece (one per encoding thread).
  struct Scratch {
    struct Symbol {
      TokenId id;
      int32_t prev, next;
      int32_t len;  // bytes covered; 0 once merged into its left neighbour
    };
    struct Candidate {
      uint32_t rank;
      int32_t pos;
      TokenId merged;
    };
    std::vector<Symbol> symbols;
    std::vector<Candidate> heap;
  };

  BpeModel() = default;
  // `vocab`: token string (ByteLevel alphabet) and id; `merges`: pairs of token strings, rank =
  // index. `where` names the file in messages. Throws core::FormatError naming the bad entry.
  BpeModel(const std::vector<std::pair<std::string, TokenId>>& vocab,
           const std::vector<std::pair<std::string, std::string>>& merges, Options options, const std::string& where);

  // Appends the ids of one pre-token (raw bytes) to `out`.
  void encode_piece(std::string_view piece, Scratch& scratch, std::vector<TokenId>& out) const;

  // Token string as stored in tokenizer.json ("Ġworld"), or nothing for ids outside the vocabulary.
  const std::string* token(TokenId id) const;
  // Raw bytes a token decodes to (ByteLevel decoder rule of spec §5.4), or nullptr.
  const std::string* bytes(TokenId id) const;
  std::optional<TokenId> id_of(std::string_view token) const;
  // One past the largest id.
  int64_t id_bound() const { return static_cast<int64_t>(tokens_.size()); }
  size_t size() const { return by_token_.size(); }
  size_t merge_count() const { return merge_count_; }

 private:
  struct Merge {
    uint32_t rank;
    TokenId merged;
  };
  static uint64_t key(TokenId a, TokenId b) { return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b); }
  const Merge* find_merge(TokenId a, TokenId b) const;

  std::vector<std::string> tokens_;  // by id; empty string for gaps
  std::vector<std::string> bytes_;   // by id
  std::vector<uint8_t> present_;     // by id
  std::unordered_map<std::string, TokenId> by_token_;
  std::unordered_map<std::string, TokenId> by_bytes_;  // for ignore_merges
  std::unordered_map<uint64_t, Merge> merges_;
  size_t merge_count_ = 0;
  // Initial symbol of each byte: its id, kUnknown (unk token, fused or not) or kDropped.
  static constexpr TokenId kDropped = -1;
  std::vector<TokenId> byte_ids_ = std::vector<TokenId>(256, kDropped);
  std::optional<TokenId> unk_id_;
  Options options_;
};

}  // namespace mdrl::tokenizer
