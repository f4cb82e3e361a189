// UTF-8 decoding per the Unicode Standard's table of well-formed byte sequences (Table 3-7).
#include "tokenizer/utf8.hpp"

#include <cstdio>

namespace mdrl::tokenizer::utf8 {
namespace {

// How many bytes a lead byte announces (0: not a lead byte) and the allowed range of the second
// byte (narrower than 80..BF after E0, ED, F0, F4: no overlongs, surrogates or values > U+10FFFF).
struct Lead {
  int length;
  unsigned char lo, hi;
};

Lead lead_of(unsigned char b) {
  if (b < 0x80) return {1, 0, 0};
  if (b >= 0xC2 && b <= 0xDF) return {2, 0x80, 0xBF};
  if (b == 0xE0) return {3, 0xA0, 0xBF};
  if (b == 0xED) return {3, 0x80, 0x9F};
  if (b >= 0xE1 && b <= 0xEF) return {3, 0x80, 0xBF};
  if (b == 0xF0) return {4, 0x90, 0xBF};
  if (b >= 0xF1 && b <= 0xF3) return {4, 0x80, 0xBF};
  if (b == 0xF4) return {4, 0x80, 0x8F};
  return {0, 0, 0};
}

// Number of bytes at text[pos] that form a well-formed (possibly incomplete) prefix of a character,
// and whether the character is complete. At least 1 byte is always consumed by callers.
struct Scan {
  size_t taken;
  bool complete;
};

Scan scan(std::string_view text, size_t pos) {
  const auto b0 = static_cast<unsigned char>(text[pos]);
  const Lead lead = lead_of(b0);
  if (lead.length == 0) return {0, false};
  if (lead.length == 1) return {1, true};
  size_t taken = 1;
  for (int k = 1; k < lead.length; ++k) {
    if (pos + taken >= text.size()) return {taken, false};
    const auto b = static_cast<unsigned char>(text[pos + taken]);
    const unsigned char lo = k == 1 ? lead.lo : 0x80, hi = k == 1 ? lead.hi : 0xBF;
    if (b < lo || b > hi) return {taken, false};
    ++taken;
  }
  return {taken, true};
}

}  // namespace

Char decode_char(std::string_view text, size_t pos) {
  const Scan s = scan(text, pos);
  if (!s.complete) return {};
  const auto* p = reinterpret_cast<const unsigned char*>(text.data()) + pos;
  switch (s.taken) {
    case 1: return {p[0], 1};
    case 2: return {static_cast<char32_t>(((p[0] & 0x1Fu) << 6) | (p[1] & 0x3Fu)), 2};
    case 3: return {static_cast<char32_t>(((p[0] & 0x0Fu) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu)), 3};
    default:
      return {static_cast<char32_t>(((p[0] & 0x07u) << 18) | ((p[1] & 0x3Fu) << 12) | ((p[2] & 0x3Fu) << 6) |
                                    (p[3] & 0x3Fu)),
              4};
  }
}

std::string encode_char(char32_t c) {
  std::string s;
  if (c < 0x80) {
    s.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    s.push_back(static_cast<char>(0xC0 | (c >> 6)));
    s.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    s.push_back(static_cast<char>(0xE0 | (c >> 12)));
    s.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    s.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    s.push_back(static_cast<char>(0xF0 | (c >> 18)));
    s.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    s.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    s.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
  return s;
}

size_t valid_prefix(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    if (static_cast<unsigned char>(text[i]) < 0x80) {  // ASCII runs dominate real text
      ++i;
      continue;
    }
    const Scan s = scan(text, i);
    if (!s.complete) return i;
    i += s.taken;
  }
  return i;
}

size_t incomplete_tail(std::string_view text) {
  // A character is at most 4 bytes: the incomplete one, if any, starts in the last 3.
  const size_t from = text.size() > 3 ? text.size() - 3 : 0;
  for (size_t i = from; i < text.size(); ++i) {
    if (lead_of(static_cast<unsigned char>(text[i])).length < 2) continue;
    const Scan s = scan(text, i);
    if (!s.complete && i + s.taken == text.size()) return text.size() - i;
  }
  return 0;
}

void append_lossy(std::string& out, std::string_view bytes) {
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  size_t i = 0;
  while (i < bytes.size()) {
    const size_t ok = valid_prefix(bytes.substr(i));
    out.append(bytes.substr(i, ok));
    i += ok;
    if (i == bytes.size()) break;
    // One U+FFFD per maximal subpart: the bytes that began a character that never completed.
    const Scan s = scan(bytes, i);
    out.append(kReplacement);
    i += s.taken == 0 ? 1 : s.taken;
  }
}

bool is_python_space(char32_t c) {
  // str.isspace(): bidirectional class WS, B or S, or category Zs (Python's unicodeobject rules).
  switch (c) {
    case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D: case 0x1C: case 0x1D: case 0x1E: case 0x1F:
    case 0x20: case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F:
    case 0x3000:
      return true;
    default:
      return c >= 0x2000 && c <= 0x200A;
  }
}

std::string_view strip_python(std::string_view text) {
  size_t begin = 0;
  while (begin < text.size()) {
    const Char ch = decode_char(text, begin);
    if (ch.length == 0 || !is_python_space(ch.code)) break;
    begin += ch.length;
  }
  size_t end = text.size();
  while (end > begin) {
    // Step back to the start of the last character (at most 4 bytes back).
    size_t start = end - 1;
    while (start > begin && end - start < 4 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
    const Char ch = decode_char(text, start);
    if (ch.length != end - start || !is_python_space(ch.code)) break;
    end = start;
  }
  return text.substr(begin, end - begin);
}

std::string escape(std::string_view bytes) {
  std::string out;
  size_t i = 0;
  char buf[8];
  while (i < bytes.size()) {
    const Char ch = decode_char(bytes, i);
    if (ch.length == 0) {
      std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned>(static_cast<unsigned char>(bytes[i])));
      out += buf;
      ++i;
      continue;
    }
    switch (ch.code) {
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      default:
        if (ch.code < 0x20 || ch.code == 0x7F || (ch.code >= 0x80 && ch.code < 0xA0)) {
          std::snprintf(buf, sizeof buf, "\\u%04X", static_cast<unsigned>(ch.code));
          out += buf;
        } else {
          out.append(bytes.substr(i, ch.length));
        }
    }
    i += ch.length;
  }
  return out;
}

}  // namespace mdrl::tokenizer::utf8
