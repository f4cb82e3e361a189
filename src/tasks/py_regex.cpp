// PCRE2 wrapper with Python `re` semantics (see py_regex.hpp; spec algorithms.md §5, §7.2).
#define PCRE2_CODE_UNIT_WIDTH 8
#include "tasks/py_regex.hpp"

#include <pcre2.h>

#include <memory>

#include "core/error.hpp"
#include "tokenizer/regex.hpp"

namespace mdrl::tasks {
namespace {

// Python's str.isspace() set, which `\s` matches in a str pattern.
constexpr const char* kPySpace =
    "\\t\\n\\x{0B}\\f\\r\\x{1C}-\\x{1F} \\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}"
    "\\x{205F}\\x{3000}";

struct MatchData {
  pcre2_match_data* p;
  explicit MatchData(const pcre2_code* code) : p(pcre2_match_data_create_from_pattern(code, nullptr)) {
    if (p == nullptr) throw std::bad_alloc();
  }
  ~MatchData() { pcre2_match_data_free(p); }
};

}  // namespace

PyRegex::PyRegex(const std::string& pattern, bool dotall) : pattern_(pattern) {
  const std::string pcre = tokenizer::spell_out_whitespace(pattern, kPySpace);
  std::unique_ptr<pcre2_compile_context, void (*)(pcre2_compile_context*)> ctx(pcre2_compile_context_create(nullptr),
                                                                               pcre2_compile_context_free);
  pcre2_set_newline(ctx.get(), PCRE2_NEWLINE_LF);  // Python: only "\n" is a line end for `.` and `$`
  int err = 0;
  PCRE2_SIZE offset = 0;
  uint32_t flags = PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF;
  if (dotall) flags |= PCRE2_DOTALL;
  code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pcre.data()), pcre.size(), flags, &err, &offset, ctx.get());
  if (code_ == nullptr) {
    PCRE2_UCHAR buf[256];
    pcre2_get_error_message(err, buf, sizeof buf);
    throw core::InternalError("regex '" + pattern + "' does not compile: " + reinterpret_cast<const char*>(buf));
  }
  pcre2_jit_compile(static_cast<pcre2_code*>(code_), PCRE2_JIT_COMPLETE);  // interpreter when unsupported
}

PyRegex::~PyRegex() {
  pcre2_code_free(static_cast<pcre2_code*>(code_));
}

std::optional<PyRegex::Match> PyRegex::run(std::string_view text, size_t start, unsigned options) const {
  const auto* code = static_cast<const pcre2_code*>(code_);
  MatchData md(code);
  const int rc =
      pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), start, options, md.p, nullptr);
  if (rc == PCRE2_ERROR_NOMATCH) return std::nullopt;
  if (rc < 0)
    throw core::InternalError("regex '" + pattern_ + "' failed to match (PCRE2 code " + std::to_string(rc) + ")");
  uint32_t groups = 0;
  pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &groups);
  const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md.p);
  Match m;
  m.begin = ov[0];
  m.end = ov[1];
  for (uint32_t g = 0; g <= groups; ++g) {
    if (g < static_cast<uint32_t>(rc) && ov[2 * g] != PCRE2_UNSET)
      m.groups.emplace_back(text.substr(ov[2 * g], ov[2 * g + 1] - ov[2 * g]));
    else
      m.groups.emplace_back(std::nullopt);
  }
  return m;
}

std::optional<PyRegex::Match> PyRegex::search(std::string_view text, size_t start) const {
  return run(text, start, 0);
}

std::optional<PyRegex::Match> PyRegex::match(std::string_view text) const {
  return run(text, 0, PCRE2_ANCHORED);
}

bool PyRegex::fullmatch(std::string_view text) const {
  return run(text, 0, PCRE2_ANCHORED | PCRE2_ENDANCHORED).has_value();
}

std::vector<PyRegex::Match> PyRegex::finditer(std::string_view text) const {
  std::vector<Match> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    auto m = run(text, pos, 0);
    if (!m) break;
    // Python moves one character past an empty match; skip a whole UTF-8 character.
    if (m->end == m->begin) {
      pos = m->end + 1;
      while (pos < text.size() && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80) ++pos;
    } else {
      pos = m->end;
    }
    out.push_back(std::move(*m));
  }
  return out;
}

std::vector<std::string> PyRegex::findall(std::string_view text) const {
  std::vector<std::string> out;
  for (const auto& m : finditer(text)) out.emplace_back(m.groups.size() > 1 ? m.group(1) : m.group(0));
  return out;
}

}  // namespace mdrl::tasks
