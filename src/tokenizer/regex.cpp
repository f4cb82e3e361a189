// PCRE2 wrapper for the Split pre-tokenizer (spec model.md §5.2 step 3, §5.3).
#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/regex.hpp"

#include <pcre2.h>

#include "core/error.hpp"
#include "tokenizer/utf8.hpp"

namespace mdrl::tokenizer {
namespace {

// Unicode White_Space, which Oniguruma's \s matches in UTF-8 mode.
constexpr const char* kWhiteSpace = "\\t\\n\\x{0B}\\f\\r \\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}"
                                    "\\x{202F}\\x{205F}\\x{3000}";

std::string pcre2_message(int code) {
  PCRE2_UCHAR buf[256];
  pcre2_get_error_message(code, buf, sizeof buf);
  return reinterpret_cast<const char*>(buf);
}

}  // namespace

std::string spell_out_whitespace(const std::string& pattern, std::string_view members) {
  const std::string ws(members);
  std::string out;
  out.reserve(pattern.size() + 64);
  bool in_class = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      const char n = pattern[i + 1];
      if (n == 's') {
        out += in_class ? ws : "[" + ws + "]";
      } else if (n == 'S' && !in_class) {
        out += "[^" + ws + "]";
      } else {
        out += c;
        out += n;  // any other escape (including \S inside a class, left to PCRE2) is copied
      }
      ++i;
      continue;
    }
    if (c == '[' && !in_class) {
      in_class = true;
      out += c;
      // A ']' right after '[' or '[^' is a literal member, not the end of the class.
      if (i + 1 < pattern.size() && pattern[i + 1] == '^') out += pattern[++i];
      if (i + 1 < pattern.size() && pattern[i + 1] == ']') out += pattern[++i];
      continue;
    }
    if (c == ']' && in_class) in_class = false;
    out += c;
  }
  return out;
}

std::string Regex::rewrite_for_pcre2(const std::string& pattern) { return spell_out_whitespace(pattern, kWhiteSpace); }

Regex::Regex(const std::string& pattern, const std::string& where) : pattern_(pattern) {
  const std::string rewritten = rewrite_for_pcre2(pattern);
  int err = 0;
  PCRE2_SIZE offset = 0;
  code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(rewritten.data()), rewritten.size(),
                        PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &err, &offset, nullptr);
  MDRL_CHECK(code_ != nullptr, core::FormatError,
             where + ": the regex " + utf8::escape(pattern) + " does not compile (PCRE2: " + pcre2_message(err) +
                 " at offset " + std::to_string(offset) + " of the PCRE2 form " + utf8::escape(rewritten) + ")");
  // JIT makes matching several times faster; without it (unsupported CPU) the interpreter is used.
  jit_ = pcre2_jit_compile(static_cast<pcre2_code*>(code_), PCRE2_JIT_COMPLETE) == 0;
}

Regex::~Regex() { pcre2_code_free(static_cast<pcre2_code*>(code_)); }

Regex::Scratch::Scratch(const Regex& regex)
    : match_data_(pcre2_match_data_create_from_pattern(static_cast<pcre2_code*>(regex.code_), nullptr)) {
  if (match_data_ == nullptr) throw std::bad_alloc();
}

Regex::Scratch::~Scratch() { pcre2_match_data_free(static_cast<pcre2_match_data*>(match_data_)); }

void Regex::split(std::string_view text, Scratch& scratch, std::vector<Span>& out) const {
  auto* code = static_cast<pcre2_code*>(code_);
  auto* md = static_cast<pcre2_match_data*>(scratch.match_data_);
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  const size_t n = text.size();
  size_t gap_begin = 0;  // end of the last non-empty match
  size_t start = 0;
  while (start < n) {
    const int rc = jit_ ? pcre2_jit_match(code, subject, n, start, 0, md, nullptr)
                        : pcre2_match(code, subject, n, start, 0, md, nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0)
      throw core::FormatError("pre-tokenizer regex " + utf8::escape(pattern_) + " failed on a text of " +
                              std::to_string(n) + " bytes (PCRE2: " + pcre2_message(rc) + ")");
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    const size_t b = ov[0], e = ov[1];
    if (e == b) {
      if (b >= n) break;
      // An empty match splits nothing; step over one character (or one stray byte) and go on.
      const size_t len = utf8::decode_char(text, b).length;
      start = b + (len == 0 ? 1 : len);
      continue;
    }
    if (b > gap_begin) out.push_back({gap_begin, b, false});
    out.push_back({b, e, true});
    gap_begin = start = e;
  }
  if (gap_begin < n) out.push_back({gap_begin, n, false});
}

}  // namespace mdrl::tokenizer
