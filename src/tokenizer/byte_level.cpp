// ByteLevel alphabet tables (spec model.md §5.1): built once, read-only afterwards.
#include "tokenizer/byte_level.hpp"

#include <vector>

#include "tokenizer/utf8.hpp"

namespace mdrl::tokenizer::byte_level {
namespace {

bool stands_for_itself(unsigned b) { return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE); }

struct Tables {
  std::array<char32_t, 256> to_char{};
  std::array<std::string, 256> to_utf8;
  std::array<uint8_t, 256> order{};
  // Alphabet characters all lie below U+0144; index by code point.
  std::array<int16_t, 0x200> to_byte{};

  Tables() {
    to_byte.fill(-1);
    unsigned next = 0;
    size_t k = 0;
    for (unsigned b = 0; b < 256; ++b)
      if (stands_for_itself(b)) order[k++] = static_cast<uint8_t>(b);
    for (unsigned b = 0; b < 256; ++b) {
      if (!stands_for_itself(b)) order[k++] = static_cast<uint8_t>(b);
      const char32_t c = stands_for_itself(b) ? static_cast<char32_t>(b) : static_cast<char32_t>(0x100 + next++);
      to_char[b] = c;
      to_byte[c] = static_cast<int16_t>(b);
      to_utf8[b] = utf8::encode_char(c);
    }
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

}  // namespace

char32_t byte_to_char(uint8_t b) { return tables().to_char[b]; }

std::optional<uint8_t> char_to_byte(char32_t c) {
  if (c >= 0x200) return std::nullopt;
  const int16_t b = tables().to_byte[c];
  if (b < 0) return std::nullopt;
  return static_cast<uint8_t>(b);
}

const std::string& byte_to_utf8(uint8_t b) { return tables().to_utf8[b]; }

std::string encode(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char ch : bytes) out += byte_to_utf8(static_cast<uint8_t>(ch));
  return out;
}

std::optional<std::string> decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const auto [c, len] = utf8::decode_char(text, i);
    if (len == 0) return std::nullopt;  // invalid UTF-8 is not alphabet text
    const auto b = char_to_byte(c);
    if (!b) return std::nullopt;
    out.push_back(static_cast<char>(*b));
    i += len;
  }
  return out;
}

const std::array<uint8_t, 256>& vocabulary_order() { return tables().order; }

}  // namespace mdrl::tokenizer::byte_level
