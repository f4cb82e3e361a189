// The pre-tokenizer's Unicode regex, on PCRE2 (spec model.md §5.3): compiled once with UTF and
// Unicode properties (PCRE2_UCP, so \s, \p{L} and case folding are Unicode-aware), JIT-compiled
// when the platform supports it, and tolerant of ill-formed UTF-8 input (PCRE2_MATCH_INVALID_UTF:
// bytes that are not characters never match and end up between matches).
//
// A compiled Regex is immutable and shared between threads; each thread matches with its own
// Regex::Scratch (PCRE2 match data).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mdrl::tokenizer {

// Replaces `\s` and `\S` in a regex by explicit classes of `members` (PCRE2 class syntax, e.g.
// "\\t\\n\\x{85}"), inside and outside character classes, leaving every other escape as it is.
// Each regex dialect we emulate on PCRE2 (Oniguruma for tokenizer.json, Python `re` for the
// rewards) differs from PCRE2's own \s only in its whitespace set.
std::string spell_out_whitespace(const std::string& pattern, std::string_view members);

class Regex {
 public:
  struct Span {
    size_t begin, end;
    bool matched;  // false: text between two matches
  };

  class Scratch {
   public:
    explicit Scratch(const Regex& regex);
    ~Scratch();
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;

   private:
    friend class Regex;
    void* match_data_;  // pcre2_match_data_8*
  };

  // Compiles `pattern` (Oniguruma/HF syntax as found in tokenizer.json; see rewrite_for_pcre2).
  // Throws core::FormatError naming `where` (file and field) when PCRE2 rejects it.
  Regex(const std::string& pattern, const std::string& where);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Every non-empty match of the pattern in `text`, left to right, and the non-empty stretches
  // between them, in text order. Spans cover all of `text`.
  void split(std::string_view text, Scratch& scratch, std::vector<Span>& out) const;

  bool jit() const { return jit_; }
  const std::string& pattern() const { return pattern_; }

  // Oniguruma's \s (what Hugging Face runs) is Unicode White_Space. PCRE2's \s under UCP also
  // takes \h and \v, which include U+180E MONGOLIAN VOWEL SEPARATOR (no longer White_Space since
  // Unicode 6.3), so " \u180e\u180eb" would split differently. The rewrite spells \s and \S out as
  // explicit White_Space classes so both engines agree. Everything else in the LLaDA/Qwen/GPT-2
  // patterns has the same meaning in both.
  static std::string rewrite_for_pcre2(const std::string& pattern);

 private:
  std::string pattern_;
  void* code_ = nullptr;  // pcre2_code_8*
  bool jit_ = false;
};

}  // namespace mdrl::tokenizer
