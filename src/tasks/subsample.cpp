// numpy legacy permutation (spec algorithms.md Appendix A); see subsample.hpp.
#include "tasks/subsample.hpp"

#include <numeric>
#include <random>

#include "core/error.hpp"

namespace mdrl::tasks {
namespace {

// numpy's random_interval(max): a uniform integer in [0, max] by masking and rejection.
uint64_t random_interval(std::mt19937& mt, uint64_t max) {
  if (max == 0) return 0;
  uint64_t mask = max;
  for (int s = 1; s <= 32; s *= 2) mask |= mask >> s;
  uint64_t value;
  if (max <= 0xffffffffULL) {
    do value = mt() & mask;
    while (value > max);
  } else {
    do value = ((static_cast<uint64_t>(mt()) << 32) | mt()) & mask;
    while (value > max);
  }
  return value;
}

}  // namespace

std::vector<int64_t> numpy_legacy_permutation(int64_t n, uint32_t seed) {
  std::vector<int64_t> x(static_cast<size_t>(n));
  std::iota(x.begin(), x.end(), 0);
  std::mt19937 mt(seed);
  for (int64_t i = n - 1; i >= 1; --i) {
    const auto j = static_cast<int64_t>(random_interval(mt, static_cast<uint64_t>(i)));
    std::swap(x[static_cast<size_t>(i)], x[static_cast<size_t>(j)]);
  }
  return x;
}

std::vector<int64_t> eval_rows(int64_t n, int64_t subsample, const std::string& option, uint32_t seed) {
  if (subsample <= 0) {
    std::vector<int64_t> all(static_cast<size_t>(n));
    std::iota(all.begin(), all.end(), 0);
    return all;
  }
  MDRL_CHECK(subsample <= n, core::ConfigError,
             option + " = " + std::to_string(subsample) + " exceeds the " + std::to_string(n) +
                 " rows of the data set; use at most " + std::to_string(n) + " or -1 for all rows");
  auto p = numpy_legacy_permutation(n, seed);
  p.resize(static_cast<size_t>(subsample));
  return p;
}

}  // namespace mdrl::tasks
