// Python str operations the reward functions and parsers are defined with (spec algorithms.md §5,
// §7.2): lengths and indices count characters (code points), not bytes; str.isdigit, str.strip,
// str.count, str.split, float() and int() parsing. Text is UTF-8; ill-formed bytes count as one
// character each (they cannot occur in decoded model output, which is repaired to valid UTF-8).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mdrl::tasks::py {

// The characters of `s` (code points; an ill-formed byte is its own "character").
std::vector<char32_t> chars(std::string_view s);
size_t len(std::string_view s);                          // len(s)
bool is_digit_char(char32_t c);                          // str.isdigit() of one character
bool isdigit(std::string_view s);                        // str.isdigit(): non-empty, every character a digit
std::string strip(std::string_view s);                   // str.strip()
size_t count(std::string_view s, std::string_view sub);  // str.count(sub), non-overlapping, sub non-empty
std::vector<std::string> split(std::string_view s, std::string_view sep);             // str.split(sep)
std::string split_last(std::string_view s, std::string_view sep);                     // s.split(sep)[-1]
std::string split_first(std::string_view s, std::string_view sep);                    // s.split(sep)[0]
std::string replace(std::string_view s, std::string_view from, std::string_view to);  // str.replace
bool contains(std::string_view s, std::string_view sub);

// float(s): surrounding whitespace, sign, digits with single underscores between them, fraction,
// exponent, inf/infinity/nan in any case. nullopt where Python raises ValueError.
std::optional<double> parse_float(std::string_view s);
// int(s) would succeed (whitespace, sign, digits with single underscores; Unicode decimal digits).
bool parses_as_int(std::string_view s);
// str(int(s)) == s: the canonical decimal form ("0", "17", "-3"; not "007", "+3", "-0").
bool is_canonical_int(std::string_view s);

}  // namespace mdrl::tasks::py
