// MATH answer normalisation and equivalence (spec algorithms.md §5 "Math string utilities", the
// hendrycks MATH helpers of `math500_utils.py` / `eval/parser_helper.py`): last_boxed_only_string,
// remove_boxed, strip_string, is_equiv. Where the Python raises (failed asserts, IndexError,
// ValueError from int(), TypeError on None) these throw MathError, so callers reproduce the
// reference's try/except fallbacks exactly.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace mdrl::tasks::math {

// A Python exception inside the MATH helpers; never leaves the callers in rewards/parsers.
struct MathError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The last "\boxed{...}" (or "\fbox{...}") with balanced braces; "\boxed " + text up to "$" when
// "\boxed " (with a space) occurs anywhere; the input unchanged without either; nullopt when the
// braces never balance.
std::optional<std::string> last_boxed_only_string(std::string_view s);
// "\boxed X" -> "X", "\boxed{X}" -> "X", else unchanged. nullopt input -> MathError (TypeError).
std::string remove_boxed(const std::optional<std::string>& s);
// remove_boxed(last_boxed_only_string(s)), nullopt where that raises.
std::optional<std::string> boxed_answer(std::string_view s);

std::string strip_string(std::string_view s);  // may throw MathError
// Both nullopt -> true; one -> false; strip_string equality, falling back to raw equality when
// strip_string raises.
bool is_equiv(const std::optional<std::string>& a, const std::optional<std::string>& b);

}  // namespace mdrl::tasks::math
