// UTF-8 helpers for the tokenizer: strict decoding of one character, lossy decoding with U+FFFD
// by "maximal subparts" (the rule Hugging Face's String::from_utf8_lossy and Python's
// errors="replace" follow; spec model.md §5.4), streaming support for sequences cut at a token
// boundary, and Python's str.strip() whitespace for the chat template (spec §4.2).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mdrl::tokenizer::utf8 {

struct Char {
  char32_t code = 0;
  size_t length = 0;  // bytes; 0 when the bytes at the position are not a well-formed character
};

// Decodes the well-formed character at text[pos], or {0, 0}.
Char decode_char(std::string_view text, size_t pos);
std::string encode_char(char32_t c);

// Length of the longest well-formed prefix of text (== text.size() when all of it is valid).
size_t valid_prefix(std::string_view text);
inline bool is_valid(std::string_view text) { return valid_prefix(text) == text.size(); }

// How many bytes at the end of `text` start a character that is well-formed so far but incomplete
// (0..3): a streaming decoder keeps them until the next token arrives.
size_t incomplete_tail(std::string_view text);

// Appends `bytes` to `out` as valid UTF-8, each maximal ill-formed subpart replaced by U+FFFD.
void append_lossy(std::string& out, std::string_view bytes);
inline std::string lossy(std::string_view bytes) {
  std::string out;
  append_lossy(out, bytes);
  return out;
}

// Python's str.isspace() for one code point (what Jinja's `trim` strips).
bool is_python_space(char32_t c);
// `text` without leading and trailing Python whitespace (str.strip()); invalid bytes are kept.
std::string_view strip_python(std::string_view text);

// Readable form for logs and the tokenize mode: printable text as is, control bytes, quotes and
// backslashes escaped, invalid bytes as \xNN.
std::string escape(std::string_view bytes);

}  // namespace mdrl::tokenizer::utf8
