// Python str semantics on UTF-8 (see py_text.hpp; spec algorithms.md §5, §7.2).
#include "tasks/py_text.hpp"

#include <utf8proc.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "tokenizer/utf8.hpp"

namespace mdrl::tasks::py {
namespace u8 = tokenizer::utf8;

std::vector<char32_t> chars(std::string_view s) {
  std::vector<char32_t> out;
  for (size_t i = 0; i < s.size();) {
    const auto c = u8::decode_char(s, i);
    if (c.length == 0) {
      out.push_back(0xDC00u + static_cast<unsigned char>(s[i]));  // surrogateescape-like stand-in
      ++i;
    } else {
      out.push_back(c.code);
      i += c.length;
    }
  }
  return out;
}

size_t len(std::string_view s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++n) {
    const auto c = u8::decode_char(s, i);
    i += c.length == 0 ? 1 : c.length;
  }
  return n;
}

bool is_digit_char(char32_t c) {
  if (c >= '0' && c <= '9') return true;
  if (c < 0x80) return false;
  // Numeric_Type Decimal (category Nd) plus the Numeric_Type Digit characters Python also accepts:
  // superscripts and subscripts, circled/parenthesized/full-stop digits, dingbat digits.
  if (utf8proc_category(static_cast<utf8proc_int32_t>(c)) == UTF8PROC_CATEGORY_ND) return true;
  return c == 0xB2 || c == 0xB3 || c == 0xB9 || c == 0x2070 || (c >= 0x2074 && c <= 0x2079) ||
         (c >= 0x2080 && c <= 0x2089) || (c >= 0x2460 && c <= 0x2468) || (c >= 0x2474 && c <= 0x247C) ||
         (c >= 0x2488 && c <= 0x2490) || c == 0x24EA || (c >= 0x24F5 && c <= 0x24FD) || c == 0x24FF ||
         (c >= 0x2776 && c <= 0x277E) || (c >= 0x2780 && c <= 0x2788) || (c >= 0x278A && c <= 0x2792) ||
         (c >= 0x1369 && c <= 0x1371) || c == 0x19DA || (c >= 0x1F100 && c <= 0x1F10A);
}

bool isdigit(std::string_view s) {
  if (s.empty()) return false;
  for (char32_t c : chars(s))
    if (!is_digit_char(c)) return false;
  return true;
}

std::string strip(std::string_view s) {
  return std::string(u8::strip_python(s));
}

size_t count(std::string_view s, std::string_view sub) {
  size_t n = 0;
  for (size_t pos = s.find(sub); pos != std::string_view::npos; pos = s.find(sub, pos + sub.size())) ++n;
  return n;
}

std::vector<std::string> split(std::string_view s, std::string_view sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t pos = s.find(sep); pos != std::string_view::npos; pos = s.find(sep, start)) {
    out.emplace_back(s.substr(start, pos - start));
    start = pos + sep.size();
  }
  out.emplace_back(s.substr(start));
  return out;
}

std::string split_last(std::string_view s, std::string_view sep) {
  // Left to right like str.split, not rfind: with a separator that overlaps itself ("\n</answer>\n"
  // in "\n</answer>\n</answer>\n") the last piece differs.
  size_t start = 0;
  for (size_t pos = s.find(sep); pos != std::string_view::npos; pos = s.find(sep, start)) start = pos + sep.size();
  return std::string(s.substr(start));
}

std::string split_first(std::string_view s, std::string_view sep) {
  return std::string(s.substr(0, s.find(sep)));
}

std::string replace(std::string_view s, std::string_view from, std::string_view to) {
  std::string out;
  size_t start = 0;
  for (size_t pos = s.find(from); pos != std::string_view::npos; pos = s.find(from, start)) {
    out.append(s.substr(start, pos - start)).append(to);
    start = pos + from.size();
  }
  out.append(s.substr(start));
  return out;
}

bool contains(std::string_view s, std::string_view sub) {
  return s.find(sub) != std::string_view::npos;
}

namespace {

// Digits with single underscores between them (PEP 515), starting at i; appends the digits to out.
bool digit_run(std::string_view s, size_t& i, std::string& out) {
  const size_t start = out.size();
  while (i < s.size()) {
    if (s[i] >= '0' && s[i] <= '9') {
      out += s[i++];
    } else if (s[i] == '_' && out.size() > start && i + 1 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '9') {
      ++i;
    } else {
      break;
    }
  }
  return out.size() > start;
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

}  // namespace

std::optional<double> parse_float(std::string_view text) {
  const std::string s = strip(text);
  size_t i = 0;
  std::string norm;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) norm += s[i++];
  const std::string rest = lower_ascii(std::string_view(s).substr(i));
  if (rest == "inf" || rest == "infinity") return norm == "-" ? -INFINITY : INFINITY;
  if (rest == "nan") return NAN;
  const bool int_part = digit_run(s, i, norm);
  bool frac_part = false;
  if (i < s.size() && s[i] == '.') {
    norm += s[i++];
    frac_part = digit_run(s, i, norm);
  }
  if (!int_part && !frac_part) return std::nullopt;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    norm += s[i++];
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) norm += s[i++];
    if (!digit_run(s, i, norm)) return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  errno = 0;
  return std::strtod(norm.c_str(), nullptr);  // correctly rounded; overflow gives ±inf as Python does
}

bool parses_as_int(std::string_view text) {
  const auto cs = chars(strip(text));
  size_t i = 0;
  if (i < cs.size() && (cs[i] == '+' || cs[i] == '-')) ++i;
  bool any = false, last_underscore = false;
  for (; i < cs.size(); ++i) {
    if (cs[i] == '_') {
      if (!any || last_underscore) return false;
      last_underscore = true;
    } else if ((cs[i] >= '0' && cs[i] <= '9') ||
               (cs[i] >= 0x80 && utf8proc_category(static_cast<utf8proc_int32_t>(cs[i])) == UTF8PROC_CATEGORY_ND)) {
      any = true;
      last_underscore = false;
    } else {
      return false;
    }
  }
  return any && !last_underscore;
}

bool is_canonical_int(std::string_view s) {
  size_t i = s.size() > 0 && s[0] == '-' ? 1 : 0;
  if (i == s.size()) return false;
  if (s[i] == '0') return s.size() == 1;  // "0" only; "-0" and "007" are not str(int(...))
  for (; i < s.size(); ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  return true;
}

}  // namespace mdrl::tasks::py
