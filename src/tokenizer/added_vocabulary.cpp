// Leftmost-longest matching of added tokens (spec model.md §5.2 step 1).
#include "tokenizer/added_vocabulary.hpp"

#include "tokenizer/utf8.hpp"

namespace mdrl::tokenizer {
namespace {

// Unicode White_Space (Rust's char::is_whitespace, which Hugging Face's lstrip/rstrip use).
bool is_white_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

// Bytes of whitespace just before `end` (not reaching back past `floor`) and just after `begin`.
size_t white_before(std::string_view text, size_t end, size_t floor) {
  size_t b = end;
  while (b > floor) {
    size_t s = b - 1;
    while (s > floor && b - s < 4 && (static_cast<unsigned char>(text[s]) & 0xC0) == 0x80) --s;
    const auto ch = utf8::decode_char(text, s);
    if (ch.length != b - s || !is_white_space(ch.code)) break;
    b = s;
  }
  return end - b;
}

size_t white_after(std::string_view text, size_t begin) {
  size_t e = begin;
  while (e < text.size()) {
    const auto ch = utf8::decode_char(text, e);
    if (ch.length == 0 || !is_white_space(ch.code)) break;
    e += ch.length;
  }
  return e - begin;
}

}  // namespace

void AddedVocabulary::Trie::insert(std::string_view s, int32_t token) {
  int32_t node = 0;
  for (const char ch : s) {
    const uint64_t k = (static_cast<uint64_t>(node) << 8) | static_cast<uint8_t>(ch);
    auto it = next.find(k);
    if (it == next.end()) {
      it = next.emplace(k, static_cast<int32_t>(terminal.size())).first;
      terminal.push_back(-1);
    }
    node = it->second;
  }
  first[static_cast<uint8_t>(s[0])] = true;
  // Two entries with the same content: the first one wins, as in Hugging Face.
  if (terminal[static_cast<size_t>(node)] < 0) {
    terminal[static_cast<size_t>(node)] = token;
    ++tokens;
  }
}

AddedVocabulary::AddedVocabulary(std::vector<AddedToken> tokens) : tokens_(std::move(tokens)) {
  for (size_t i = 0; i < tokens_.size(); ++i) {
    const auto& t = tokens_[i];
    by_id_.emplace(t.id, i);
    by_content_.emplace(t.content, t.id);
    if (!t.content.empty()) tries_[t.normalized ? 1 : 0].insert(t.content, static_cast<int32_t>(i));
  }
}

void AddedVocabulary::split(std::string_view text, bool normalized_set, std::vector<Segment>& out) const {
  const Trie& trie = tries_[normalized_set ? 1 : 0];
  size_t done = 0;  // text before this is already in `out`
  size_t i = 0;
  const size_t n = text.size();
  while (i < n && trie.tokens > 0) {
    if (!trie.first[static_cast<uint8_t>(text[i])]) {
      ++i;
      continue;
    }
    int32_t node = 0, best = -1;
    size_t best_end = 0;
    for (size_t j = i; j < n; ++j) {
      const auto it = trie.next.find((static_cast<uint64_t>(node) << 8) | static_cast<uint8_t>(text[j]));
      if (it == trie.next.end()) break;
      node = it->second;
      if (trie.terminal[static_cast<size_t>(node)] >= 0) {
        best = trie.terminal[static_cast<size_t>(node)];
        best_end = j + 1;
      }
    }
    if (best < 0) {
      ++i;
      continue;
    }
    const AddedToken& tok = tokens_[static_cast<size_t>(best)];
    size_t begin = i, end = best_end;
    if (tok.lstrip) begin -= white_before(text, begin, done);
    if (tok.rstrip) end += white_after(text, end);
    if (begin > done) out.push_back({done, begin, -1});
    out.push_back({begin, end, tok.id});
    done = i = end;
  }
  if (done < n) out.push_back({done, n, -1});
}

const AddedToken* AddedVocabulary::find(TokenId id) const {
  const auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &tokens_[it->second];
}

std::optional<TokenId> AddedVocabulary::id_of(std::string_view content) const {
  const auto it = by_content_.find(std::string(content));
  if (it == by_content_.end()) return std::nullopt;
  return it->second;
}

}  // namespace mdrl::tokenizer
