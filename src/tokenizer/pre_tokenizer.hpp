// Pre-tokenizers of tokenizer.json (spec model.md §5.1 `pre_tokenizer`, §5.2 steps 3-4): `Split`
// on a regex or a literal with Hugging Face's five behaviours and `invert`, `ByteLevel` (its
// optional prefix space and GPT-2 regex), and `Sequence` of these, each step applied to every
// piece the previous one produced. LLaDA's is Sequence[Split(R, Isolated), ByteLevel(no prefix,
// no regex)]. The ByteLevel byte-to-character mapping itself is folded into the BPE model, which
// works on raw bytes, so pieces here are plain byte strings.
#pragma once

#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/regex.hpp"

namespace mdrl::tokenizer {

enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

struct PreTokenizerStep {
  enum class Kind { Split, ByteLevel };
  Kind kind = Kind::Split;
  std::shared_ptr<const Regex> regex;  // Split pattern, or ByteLevel's GPT-2 regex when use_regex
  SplitBehavior behavior = SplitBehavior::Isolated;
  bool invert = false;
  bool add_prefix_space = false;  // ByteLevel
};

class PreTokenizer {
 public:
  // Per-thread buffers: PCRE2 match data for each regex, and storage for pieces that are not
  // views of the input (a prepended space).
  class Scratch {
   public:
    explicit Scratch(const PreTokenizer& pre);

   private:
    friend class PreTokenizer;
    std::vector<std::unique_ptr<Regex::Scratch>> regex_;
    std::vector<Regex::Span> spans_;
    std::vector<std::string_view> other_, next_;
    std::deque<std::string> owned_;
  };

  PreTokenizer() = default;
  explicit PreTokenizer(std::vector<PreTokenizerStep> steps) : steps_(std::move(steps)) {}

  // Appends the pieces of `text` to `pieces`. Views point into `text` or into `scratch`, valid
  // until the scratch is used again.
  void split(std::string_view text, Scratch& scratch, std::vector<std::string_view>& pieces) const;

  const std::vector<PreTokenizerStep>& steps() const { return steps_; }

  // GPT-2's pattern, used by ByteLevel when use_regex is true.
  static const char* gpt2_pattern();

 private:
  void apply_step(size_t k, std::string_view piece, Scratch& scratch, std::vector<std::string_view>& out) const;
  void apply_split(const PreTokenizerStep& step, std::string_view piece, Regex::Scratch& rs, Scratch& scratch,
                   std::vector<std::string_view>& out) const;
  std::vector<PreTokenizerStep> steps_;
};

}  // namespace mdrl::tokenizer
