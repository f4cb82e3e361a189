// The ByteLevel alphabet of GPT-2 style tokenizers (spec model.md §5.1, §5.2 step 4, §5.4): every
// byte 0..255 is shown as one printable Unicode character, so that vocabulary strings never hold
// raw control bytes or spaces. Printable bytes 0x21-0x7E, 0xA1-0xAC and 0xAE-0xFF stand for
// themselves; the 68 others are mapped, in byte order, to U+0100, U+0101, ... (space -> U+0120 'Ġ').
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mdrl::tokenizer::byte_level {

// The code point that stands for byte `b`.
char32_t byte_to_char(uint8_t b);
// The byte a code point stands for, or nothing when it is not in the alphabet.
std::optional<uint8_t> char_to_byte(char32_t c);
// UTF-8 text of the character that stands for byte `b` (1 or 2 bytes long).
const std::string& byte_to_utf8(uint8_t b);

// Maps raw bytes to their alphabet characters (UTF-8): the form vocabulary strings are stored in.
std::string encode(std::string_view bytes);
// The inverse: the raw bytes of a string written in the alphabet, or nothing when the string holds
// a character outside it (such tokens decode to their own UTF-8 text, as in Hugging Face).
std::optional<std::string> decode(std::string_view text);

// The 256 bytes in the order of their alphabet characters' ids in the LLaDA/GPT-2 vocabulary:
// printables first, then the mapped ones (spec §5.1). Index = token id of that byte.
const std::array<uint8_t, 256>& vocabulary_order();

}  // namespace mdrl::tokenizer::byte_level
