// Split behaviours and the ByteLevel pre-tokenizer (spec model.md §5.2 steps 3-4).
#include "tokenizer/pre_tokenizer.hpp"

namespace mdrl::tokenizer {

const char* PreTokenizer::gpt2_pattern() {
  return R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
}

PreTokenizer::Scratch::Scratch(const PreTokenizer& pre) {
  for (const auto& step : pre.steps_)
    regex_.push_back(step.regex ? std::make_unique<Regex::Scratch>(*step.regex) : nullptr);
}

void PreTokenizer::apply_split(const PreTokenizerStep& step, std::string_view piece, Regex::Scratch& rs,
                               Scratch& scratch, std::vector<std::string_view>& out) const {
  auto& spans = scratch.spans_;
  spans.clear();
  step.regex->split(piece, rs, spans);
  if (step.invert)
    for (auto& s : spans) s.matched = !s.matched;
  const auto view = [&](size_t b, size_t e) { return piece.substr(b, e - b); };
  switch (step.behavior) {
    case SplitBehavior::Isolated:
      for (const auto& s : spans) out.push_back(view(s.begin, s.end));
      return;
    case SplitBehavior::Removed:
      for (const auto& s : spans)
        if (!s.matched) out.push_back(view(s.begin, s.end));
      return;
    case SplitBehavior::MergedWithPrevious:
    case SplitBehavior::Contiguous: {
      // MergedWithPrevious: a match joins the piece before it unless that piece ended in a match.
      // Contiguous: neighbouring spans of the same kind join.
      bool previous_matched = false;
      size_t start = 0, end = 0;
      bool open = false;
      for (const auto& s : spans) {
        const bool join = step.behavior == SplitBehavior::Contiguous ? s.matched == previous_matched
                                                                     : s.matched && !previous_matched;
        if (join && open) {
          end = s.end;
        } else {
          if (open) out.push_back(view(start, end));
          start = s.begin, end = s.end, open = true;
        }
        previous_matched = s.matched;
      }
      if (open) out.push_back(view(start, end));
      return;
    }
    case SplitBehavior::MergedWithNext: {
      // A match joins the piece after it unless that piece starts with a match; walk backwards.
      std::vector<std::string_view>& rev = scratch.other_;
      rev.clear();
      bool next_matched = false;
      size_t start = 0, end = 0;
      bool open = false;
      for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
        if (it->matched && !next_matched && open) {
          start = it->begin;
        } else {
          if (open) rev.push_back(view(start, end));
          start = it->begin, end = it->end, open = true;
        }
        next_matched = it->matched;
      }
      if (open) rev.push_back(view(start, end));
      out.insert(out.end(), rev.rbegin(), rev.rend());
      return;
    }
  }
}

void PreTokenizer::apply_step(size_t k, std::string_view piece, Scratch& scratch,
                              std::vector<std::string_view>& out) const {
  const auto& step = steps_[k];
  if (step.kind == PreTokenizerStep::Kind::ByteLevel && step.add_prefix_space && piece.substr(0, 1) != " ") {
    scratch.owned_.push_back(" " + std::string(piece));
    piece = scratch.owned_.back();
  }
  if (step.regex) {
    apply_split(step, piece, *scratch.regex_[k], scratch, out);
  } else {
    out.push_back(piece);
  }
}

void PreTokenizer::split(std::string_view text, Scratch& scratch, std::vector<std::string_view>& pieces) const {
  scratch.owned_.clear();
  const size_t base = pieces.size();
  bool first = true;
  for (size_t k = 0; k < steps_.size(); ++k) {
    const auto& step = steps_[k];
    // ByteLevel without prefix space or regex only maps bytes, which the BPE model does itself.
    if (step.kind == PreTokenizerStep::Kind::ByteLevel && !step.add_prefix_space && !step.regex) continue;
    if (first) {  // the common case of one splitting step writes straight into `pieces`
      apply_step(k, text, scratch, pieces);
      first = false;
      continue;
    }
    auto& next = scratch.next_;
    next.clear();
    for (size_t p = base; p < pieces.size(); ++p) apply_step(k, pieces[p], scratch, next);
    pieces.resize(base);
    pieces.insert(pieces.end(), next.begin(), next.end());
  }
  if (first) pieces.push_back(text);
}

}  // namespace mdrl::tokenizer
