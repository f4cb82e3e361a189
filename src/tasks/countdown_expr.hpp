// A small safe evaluator of Python arithmetic for the Countdown reward and parser (spec
// algorithms.md §5 `countdown_reward_func`, §7.2): the reference runs Python `eval` on strings
// that pass `^[\d+\-*/().\s]+$`, so within that alphabet we reproduce Python's grammar and values:
// int and float literals (leading zeros in ints are a SyntaxError, "1." and ".5" are floats),
// + - * / // ** with Python precedence and associativity, unary signs (-2**2 == -4, 2**-1 == 0.5),
// exact integers, true division, floor division, ZeroDivisionError, and implicit line joining of
// newlines inside parentheses. Never a general eval: anything else is an error.
//
// Limits (documented in README): integers are exact up to 127 bits; beyond that, and where Python
// would produce a complex number (negative base to a fractional power), evaluation fails.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mdrl::tasks::countdown {

struct Value {
  bool is_int = true;
  __int128 i = 0;
  double f = 0;
  double as_double() const { return is_int ? static_cast<double>(i) : f; }
};

// The value of `expr` as Python's eval would give it, or nullopt where Python raises (syntax,
// division by zero, overflow to float) or the expression is outside the supported subset.
std::optional<Value> evaluate(std::string_view expr);

// abs(value - target) < 1e-5 as Python computes it (int - int exact, float - int in floating point).
bool close_to(const Value& v, long long target);

}  // namespace mdrl::tasks::countdown
