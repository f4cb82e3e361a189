// BPE merge loop (spec model.md §5.2 step 5): repeatedly merge the adjacent pair of lowest rank,
// leftmost first among equal ranks (Hugging Face's order). Symbols form a linked list over an
// array and candidate merges sit in a binary heap, checked for staleness when popped, so a piece
// of n bytes costs O(n log n) rather than the O(n^2) of rescanning all pairs after every merge.
#include "tokenizer/bpe_model.hpp"

#include <algorithm>
#include <cstdio>

#include "core/error.hpp"
#include "tokenizer/byte_level.hpp"
#include "tokenizer/utf8.hpp"

namespace mdrl::tokenizer {
namespace {

constexpr TokenId kUnknown = -2;  // byte_ids_ marker: the unk token

struct CandidateLater {
  bool operator()(const BpeModel::Scratch::Candidate& a, const BpeModel::Scratch::Candidate& b) const {
    return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos;
  }
};

}  // namespace

BpeModel::BpeModel(const std::vector<std::pair<std::string, TokenId>>& vocab,
                   const std::vector<std::pair<std::string, std::string>>& merges, Options options,
                   const std::string& where)
    : options_(std::move(options)) {
  int64_t max_id = -1;
  for (const auto& [tok, id] : vocab) {
    MDRL_CHECK(id <= kMaxTokenId, core::FormatError,
               where + ": model.vocab[" + utf8::escape(tok) + "] = " + std::to_string(id) +
                   " is above the largest token id mdrl accepts, " + std::to_string(kMaxTokenId) + " (2^24 - 1)");
    max_id = std::max<int64_t>(max_id, id);
  }
  tokens_.resize(static_cast<size_t>(max_id + 1));
  bytes_.resize(tokens_.size());
  present_.assign(tokens_.size(), 0);
  by_token_.reserve(vocab.size());
  for (const auto& [tok, id] : vocab) {
    MDRL_CHECK(id >= 0, core::FormatError, where + ": model.vocab[" + utf8::escape(tok) + "] = " + std::to_string(id) + " is negative");
    MDRL_CHECK(!present_[static_cast<size_t>(id)], core::FormatError,
               where + ": model.vocab gives id " + std::to_string(id) + " to both " +
                   utf8::escape(tokens_[static_cast<size_t>(id)]) + " and " + utf8::escape(tok));
    present_[static_cast<size_t>(id)] = 1;
    tokens_[static_cast<size_t>(id)] = tok;
    by_token_.emplace(tok, id);
    // ByteLevel decoder rule: alphabet text decodes to its bytes, anything else to its own UTF-8.
    auto raw = byte_level::decode(tok);
    if (raw) by_bytes_.emplace(*raw, id);
    bytes_[static_cast<size_t>(id)] = raw ? std::move(*raw) : tok;
  }

  if (options_.unk_token) {
    const auto it = by_token_.find(*options_.unk_token);
    MDRL_CHECK(it != by_token_.end(), core::FormatError,
               where + ": model.unk_token " + utf8::escape(*options_.unk_token) + " is not in model.vocab");
    unk_id_ = it->second;
  }
  for (unsigned b = 0; b < 256; ++b) {
    if (const auto it = by_token_.find(byte_level::byte_to_utf8(static_cast<uint8_t>(b))); it != by_token_.end()) {
      byte_ids_[b] = it->second;
      continue;
    }
    if (options_.byte_fallback) {
      char name[8];
      std::snprintf(name, sizeof name, "<0x%02X>", b);
      if (const auto it = by_token_.find(name); it != by_token_.end()) {
        byte_ids_[b] = it->second;
        continue;
      }
    }
    byte_ids_[b] = unk_id_ ? kUnknown : kDropped;
  }

  merges_.reserve(merges.size());
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [a, b] = merges[rank];
    const auto ia = by_token_.find(a), ib = by_token_.find(b), im = by_token_.find(a + b);
    const std::string entry = where + ": model.merges[" + std::to_string(rank) + "] (" + utf8::escape(a) + " " +
                              utf8::escape(b) + ")";
    MDRL_CHECK(ia != by_token_.end() && ib != by_token_.end(), core::FormatError,
               entry + " names a token that is not in model.vocab");
    MDRL_CHECK(im != by_token_.end(), core::FormatError,
               entry + ": the merged token " + utf8::escape(a + b) + " is not in model.vocab");
    // A repeated pair keeps its first (best) rank.
    merges_.emplace(key(ia->second, ib->second), Merge{static_cast<uint32_t>(rank), im->second});
  }
  merge_count_ = merges.size();
}

const BpeModel::Merge* BpeModel::find_merge(TokenId a, TokenId b) const {
  const auto it = merges_.find(key(a, b));
  return it == merges_.end() ? nullptr : &it->second;
}

void BpeModel::encode_piece(std::string_view piece, Scratch& scratch, std::vector<TokenId>& out) const {
  if (piece.empty()) return;
  if (options_.ignore_merges) {
    if (const auto it = by_bytes_.find(std::string(piece)); it != by_bytes_.end()) {
      out.push_back(it->second);
      return;
    }
  }
  auto& syms = scratch.symbols;
  syms.clear();
  bool last_unknown = false;
  for (const char ch : piece) {
    TokenId id = byte_ids_[static_cast<uint8_t>(ch)];
    if (id == kDropped) continue;
    const bool unknown = id == kUnknown;
    if (unknown) {
      if (options_.fuse_unk && last_unknown) {
        ++syms.back().len;
        continue;
      }
      id = *unk_id_;
    }
    last_unknown = unknown;
    const auto n = static_cast<int32_t>(syms.size());
    syms.push_back({id, n - 1, n + 1, 1});
  }
  if (syms.empty()) return;
  syms.back().next = -1;
  if (syms.size() == 1) {
    out.push_back(syms[0].id);
    return;
  }

  auto& heap = scratch.heap;
  heap.clear();
  const CandidateLater later;
  for (size_t i = 0; i + 1 < syms.size(); ++i)
    if (const Merge* m = find_merge(syms[i].id, syms[i + 1].id))
      heap.push_back({m->rank, static_cast<int32_t>(i), m->merged});
  std::make_heap(heap.begin(), heap.end(), later);

  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), later);
    const Scratch::Candidate c = heap.back();
    heap.pop_back();
    auto& s = syms[static_cast<size_t>(c.pos)];
    if (s.len == 0 || s.next < 0) continue;
    auto& right = syms[static_cast<size_t>(s.next)];
    // Stale candidate: one side was merged with something else since it was pushed.
    const Merge* m = find_merge(s.id, right.id);
    if (m == nullptr || m->merged != c.merged) continue;
    s.id = c.merged;
    s.len += right.len;
    right.len = 0;
    s.next = right.next;
    if (s.next >= 0) syms[static_cast<size_t>(s.next)].prev = c.pos;
    if (s.prev >= 0) {
      if (const Merge* mp = find_merge(syms[static_cast<size_t>(s.prev)].id, s.id)) {
        heap.push_back({mp->rank, s.prev, mp->merged});
        std::push_heap(heap.begin(), heap.end(), later);
      }
    }
    if (s.next >= 0) {
      if (const Merge* mn = find_merge(s.id, syms[static_cast<size_t>(s.next)].id)) {
        heap.push_back({mn->rank, c.pos, mn->merged});
        std::push_heap(heap.begin(), heap.end(), later);
      }
    }
  }
  for (int32_t i = 0; i >= 0; i = syms[static_cast<size_t>(i)].next) out.push_back(syms[static_cast<size_t>(i)].id);
}

const std::string* BpeModel::token(TokenId id) const {
  if (id < 0 || id >= id_bound() || !present_[static_cast<size_t>(id)]) return nullptr;
  return &tokens_[static_cast<size_t>(id)];
}

const std::string* BpeModel::bytes(TokenId id) const {
  if (id < 0 || id >= id_bound() || !present_[static_cast<size_t>(id)]) return nullptr;
  return &bytes_[static_cast<size_t>(id)];
}

std::optional<TokenId> BpeModel::id_of(std::string_view token) const {
  const auto it = by_token_.find(std::string(token));
  if (it == by_token_.end()) return std::nullopt;
  return it->second;
}

}  // namespace mdrl::tokenizer
