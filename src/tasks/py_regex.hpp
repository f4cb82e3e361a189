// Python `re` semantics on PCRE2, for the reward functions and evaluation parsers of spec
// algorithms.md §5 and §7.2, whose rules are Python regexes. Python's str patterns are Unicode:
// \d is Unicode Nd, \s is str.isspace(), `.` excludes only "\n" (unless DOTALL), `$` matches at the
// end or before a final "\n". PCRE2 with UTF + UCP and LF newlines agrees on all of that once \s is
// spelled out as Python's whitespace set (PCRE2's \s also takes U+180E and misses U+001C-U+001F).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mdrl::tasks {

class PyRegex {
 public:
  // One match: group 0 and the capture groups (nullopt for a group that did not take part).
  struct Match {
    size_t begin = 0, end = 0;
    std::vector<std::optional<std::string_view>> groups;
    std::string_view group(size_t i) const { return groups.at(i).value_or(std::string_view{}); }
  };

  // Compiles a Python-syntax pattern; `dotall` = re.DOTALL. Patterns are program constants, so a
  // pattern PCRE2 rejects is an internal error.
  explicit PyRegex(const std::string& pattern, bool dotall = false);
  ~PyRegex();
  PyRegex(const PyRegex&) = delete;
  PyRegex& operator=(const PyRegex&) = delete;

  std::optional<Match> search(std::string_view text, size_t start = 0) const;  // re.search
  std::optional<Match> match(std::string_view text) const;                     // re.match (anchored at 0)
  bool fullmatch(std::string_view text) const;                                 // re.fullmatch
  std::vector<Match> finditer(std::string_view text) const;                    // re.finditer
  // re.findall for a pattern with at most one group: group 1 (or group 0 when there is none).
  std::vector<std::string> findall(std::string_view text) const;

 private:
  std::optional<Match> run(std::string_view text, size_t start, unsigned options) const;
  std::string pattern_;
  void* code_ = nullptr;  // pcre2_code_8*
};

}  // namespace mdrl::tasks
