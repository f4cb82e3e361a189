// Encoding and decoding (spec model.md §5.2, §5.4): added tokens on the raw text, then NFC, added
// tokens marked `normalized`, the pre-tokenizer, and BPE per pre-token through a cache; decoding
// concatenates each token's bytes and repairs UTF-8 once at the end.
#include "tokenizer/tokenizer.hpp"

#include <algorithm>
#include <thread>

#include "core/error.hpp"
#include "tokenizer/byte_level.hpp"
#include "tokenizer/tokenizer_impl.hpp"
#include "tokenizer/utf8.hpp"

namespace mdrl::tokenizer {

void Tokenizer::Impl::finish_loading() {
  int64_t bound = model.id_bound();
  for (const auto& t : added.tokens()) bound = std::max<int64_t>(bound, int64_t{t.id} + 1);
  MDRL_ASSERT(bound <= kMaxTokenId + 1);  // tokenizer_json.cpp refuses larger ids
  decoded.assign(static_cast<size_t>(bound), {});
  has_token.assign(static_cast<size_t>(bound), 0);
  special_flag.assign(static_cast<size_t>(bound), 0);
  for (TokenId id = 0; id < model.id_bound(); ++id) {
    if (const std::string* b = model.bytes(id)) {
      decoded[static_cast<size_t>(id)] = *b;
      has_token[static_cast<size_t>(id)] = 1;
    }
  }
  for (const auto& t : added.tokens()) {
    // Added tokens go through the ByteLevel decoder too: alphabet text becomes its bytes.
    auto raw = byte_level::decode(t.content);
    decoded[static_cast<size_t>(t.id)] = raw ? *raw : t.content;
    has_token[static_cast<size_t>(t.id)] = 1;
    special_flag[static_cast<size_t>(t.id)] = t.special ? 1 : 0;
  }
}

void Tokenizer::Impl::encode_pieces(std::string_view text, EncodeContext& ctx, std::vector<TokenId>& out) const {
  auto& pieces = ctx.pieces;
  pieces.clear();
  pre_tokenizer.split(text, ctx.pre, pieces);
  for (const std::string_view piece : pieces) {
    if (piece.size() <= 1) {  // single bytes: a table lookup, not worth a cache entry
      model.encode_piece(piece, ctx.bpe, out);
      continue;
    }
    if (const auto it = ctx.cache.find(piece); it != ctx.cache.end()) {
      const auto* ids = ctx.cache_ids.data() + it->second.offset;
      out.insert(out.end(), ids, ids + it->second.length);
      continue;
    }
    const size_t from = out.size();
    model.encode_piece(piece, ctx.bpe, out);
    if (ctx.cache.size() >= EncodeContext::kCacheEntries || ctx.cache_ids.size() > (1u << 30)) {
      ctx.cache.clear();
      ctx.cache_ids.clear();
    }
    const auto offset = static_cast<uint32_t>(ctx.cache_ids.size());
    ctx.cache_ids.insert(ctx.cache_ids.end(), out.begin() + static_cast<std::ptrdiff_t>(from), out.end());
    ctx.cache.emplace(std::string(piece), EncodeContext::Slice{offset, static_cast<uint32_t>(out.size() - from)});
  }
}

void Tokenizer::Impl::encode_normalized(std::string_view text, EncodeContext& ctx, std::vector<TokenId>& out) const {
  const std::string_view norm = normalizer.apply(text, ctx.normalized);
  if (!added.has_normalized()) {
    encode_pieces(norm, ctx, out);
    return;
  }
  auto& segs = ctx.normalized_segments;
  segs.clear();
  added.split(norm, /*normalized_set=*/true, segs);
  for (const auto& s : segs) {
    if (s.id >= 0)
      out.push_back(s.id);
    else
      encode_pieces(norm.substr(s.begin, s.end - s.begin), ctx, out);
  }
}

void Tokenizer::Impl::encode_into(std::string_view text, EncodeContext& ctx, std::vector<TokenId>& out) const {
  if (added.empty()) {
    encode_normalized(text, ctx, out);
    return;
  }
  auto& segs = ctx.segments;
  segs.clear();
  added.split(text, /*normalized_set=*/false, segs);
  for (const auto& s : segs) {
    if (s.id >= 0)
      out.push_back(s.id);
    else
      encode_normalized(text.substr(s.begin, s.end - s.begin), ctx, out);
  }
}

std::vector<TokenId> Tokenizer::encode(std::string_view text, bool add_special_tokens) const {
  std::vector<TokenId> out;
  out.reserve(text.size() / 3 + 4);
  if (add_special_tokens) out = impl_->post.prefix;
  // Use the shared context (and its warm cache) unless another thread holds it right now.
  std::unique_lock<std::mutex> lock(impl_->context_mutex, std::try_to_lock);
  if (lock.owns_lock()) {
    if (!impl_->context) impl_->context = std::make_unique<EncodeContext>(*impl_);
    impl_->encode_into(text, *impl_->context, out);
  } else {
    EncodeContext ctx(*impl_);
    impl_->encode_into(text, ctx, out);
  }
  if (add_special_tokens) out.insert(out.end(), impl_->post.suffix.begin(), impl_->post.suffix.end());
  return out;
}

std::vector<std::vector<TokenId>> Tokenizer::encode_batch(const std::vector<std::string>& texts, int threads,
                                                          bool add_special_tokens) const {
  std::vector<std::vector<TokenId>> out(texts.size());
  const size_t workers = std::clamp<size_t>(static_cast<size_t>(std::max(threads, 1)), 1, std::max<size_t>(texts.size(), 1));
  const auto work = [&](size_t w) {
    EncodeContext ctx(*impl_);
    // Strided shares: texts of similar length are often neighbours, so this balances the load.
    for (size_t i = w; i < texts.size(); i += workers) {
      auto& ids = out[i];
      if (add_special_tokens) ids = impl_->post.prefix;
      impl_->encode_into(texts[i], ctx, ids);
      if (add_special_tokens) ids.insert(ids.end(), impl_->post.suffix.begin(), impl_->post.suffix.end());
    }
  };
  if (workers == 1) {
    for (size_t i = 0; i < texts.size(); ++i) out[i] = encode(texts[i], add_special_tokens);
    return out;
  }
  std::vector<std::thread> pool;
  for (size_t w = 0; w < workers; ++w) pool.emplace_back(work, w);
  for (auto& t : pool) t.join();
  return out;
}

std::vector<std::string> Tokenizer::pre_tokenize(std::string_view text) const {
  const auto& impl = *impl_;
  EncodeContext ctx(impl);
  std::vector<std::string> out;
  const auto add_pieces = [&](std::string_view span) {
    ctx.pieces.clear();
    impl.pre_tokenizer.split(span, ctx.pre, ctx.pieces);
    for (const auto p : ctx.pieces) out.emplace_back(p);
  };
  std::vector<AddedVocabulary::Segment> raw, normalized;
  impl.added.split(text, false, raw);
  for (const auto& s : raw) {
    const std::string_view span = text.substr(s.begin, s.end - s.begin);
    if (s.id >= 0) {
      out.emplace_back(span);
      continue;
    }
    std::string buffer;
    const std::string_view norm = impl.normalizer.apply(span, buffer);
    normalized.clear();
    impl.added.split(norm, true, normalized);
    for (const auto& n : normalized) {
      if (n.id >= 0)
        out.emplace_back(norm.substr(n.begin, n.end - n.begin));
      else
        add_pieces(norm.substr(n.begin, n.end - n.begin));
    }
  }
  return out;
}

std::string Tokenizer::decode_bytes(std::span<const TokenId> ids, bool skip_special_tokens) const {
  std::string out;
  const auto& impl = *impl_;
  const auto bound = static_cast<TokenId>(impl.decoded.size());
  for (const TokenId id : ids) {
    if (id < 0 || id >= bound || !impl.has_token[static_cast<size_t>(id)]) continue;  // no string (spec §5.4)
    if (skip_special_tokens && impl.special_flag[static_cast<size_t>(id)]) continue;
    out += impl.decoded[static_cast<size_t>(id)];
  }
  return out;
}

std::string Tokenizer::decode(std::span<const TokenId> ids, bool skip_special_tokens) const {
  const std::string bytes = decode_bytes(ids, skip_special_tokens);
  if (utf8::is_valid(bytes)) return bytes;
  return utf8::lossy(bytes);
}

std::optional<std::string> Tokenizer::id_to_token(TokenId id) const {
  if (const AddedToken* t = impl_->added.find(id)) return t->content;
  if (const std::string* s = impl_->model.token(id)) return *s;
  return std::nullopt;
}

std::optional<TokenId> Tokenizer::token_to_id(std::string_view token) const {
  if (auto id = impl_->added.id_of(token)) return id;
  return impl_->model.id_of(token);
}

bool Tokenizer::is_special(TokenId id) const {
  return id >= 0 && static_cast<size_t>(id) < impl_->special_flag.size() && impl_->special_flag[static_cast<size_t>(id)];
}

int64_t Tokenizer::vocab_size() const { return static_cast<int64_t>(impl_->decoded.size()); }
const SpecialTokens& Tokenizer::special() const { return impl_->special; }
const std::string& Tokenizer::source() const { return impl_->source; }
std::string Tokenizer::summary() const { return impl_->source + ": " + impl_->description; }

std::string StreamDecoder::push(TokenId id) {
  pending_ += tokenizer_.decode_bytes(std::span<const TokenId>(&id, 1), skip_special_);
  // Hold back the start of a character whose remaining bytes come with a later token.
  const size_t keep = utf8::incomplete_tail(pending_);
  std::string out = utf8::lossy(std::string_view(pending_).substr(0, pending_.size() - keep));
  pending_.erase(0, pending_.size() - keep);
  return out;
}

std::string StreamDecoder::finish() {
  std::string out = utf8::lossy(pending_);
  pending_.clear();
  return out;
}

}  // namespace mdrl::tokenizer
