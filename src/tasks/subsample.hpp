// Evaluation subsample indices (spec algorithms.md §6.3, Appendix A): the reference draws
// `np.random.choice(N, k, replace=False)` after `np.random.seed(42)`, which is numpy's legacy
// MT19937 `RandomState(seed).permutation(N)[:k]`. We reproduce that permutation: MT19937 seeded by
// init_genrand (what std::mt19937 does), then numpy's Fisher-Yates from the last element with the
// bounded draws of its `random_interval` (mask, reject, retry).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mdrl::tasks {

// numpy.random.RandomState(seed).permutation(n).
std::vector<int64_t> numpy_legacy_permutation(int64_t n, uint32_t seed);

// The rows an evaluation visits, in order, as the reference's dataset constructor picks them:
// subsample <= 0 keeps all rows in file order; otherwise the first `subsample` entries of the
// permutation (so subsample == n visits every row, permuted, as Countdown's evaluation does).
// core::ConfigError when subsample > n (numpy raises there too); `option` names the setting.
std::vector<int64_t> eval_rows(int64_t n, int64_t subsample, const std::string& option = "eval.subsample",
                               uint32_t seed = 42);

}  // namespace mdrl::tasks
