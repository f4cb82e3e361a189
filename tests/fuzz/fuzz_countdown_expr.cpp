// libFuzzer harness: the Countdown expression evaluator (tasks/countdown_expr.hpp), which stands in
// for Python's eval on model output. Any text gives a value or nullopt, never a crash, an exception
// or undefined behaviour (exact 127-bit integers: overflow must be caught, not wrapped); a valid
// expression has the same value inside parentheses.
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "fuzz_support.hpp"
#include "tasks/countdown_expr.hpp"

namespace cd = mdrl::tasks::countdown;

namespace {
bool same(const cd::Value& a, const cd::Value& b) {
  if (a.is_int != b.is_int) return false;
  if (a.is_int) return a.i == b.i;
  return (std::isnan(a.f) && std::isnan(b.f)) || std::memcmp(&a.f, &b.f, sizeof a.f) == 0;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string expr(mdrl::fuzz::as_text(data, size));
  try {
    const auto v = cd::evaluate(expr);
    if (!v) return 0;
    for (long long target : {0LL, 1LL, -1LL, 24LL, LLONG_MAX, LLONG_MIN}) (void)cd::close_to(*v, target);
    const auto w = cd::evaluate("(" + expr + ")");
    if (!w || !same(*v, *w)) mdrl::fuzz::finding("value changes inside parentheses", expr.c_str());
  } catch (const std::exception& e) {
    mdrl::fuzz::finding("countdown::evaluate threw", e.what());
  }
  return 0;
}
