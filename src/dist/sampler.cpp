#include "dist/sampler.hpp"

#include <numeric>
#include <string>

#include "core/error.hpp"
#include "core/rng.hpp"

namespace mdrl::dist {

ShardedSampler::ShardedSampler(int64_t size, int world, int rank, uint64_t seed, bool shuffle)
    : size_(size), world_(world), rank_(rank), seed_(seed), shuffle_(shuffle) {
  MDRL_CHECK(size > 0, core::ConfigError, "the data set is empty: nothing to sample");
  MDRL_CHECK(world > 0 && rank >= 0 && rank < world, core::InternalError, "ShardedSampler: bad rank/world");
}

std::vector<int64_t> ShardedSampler::permutation(int64_t epoch) const {
  std::vector<int64_t> p(static_cast<size_t>(size_));
  std::iota(p.begin(), p.end(), int64_t{0});
  if (!shuffle_) return p;
  // Fisher-Yates with our own unbiased draws: the same order on every platform and standard library.
  core::RngStream rng(seed_, 0, core::RngPurpose::DataOrder, static_cast<uint64_t>(epoch) * core::rng_block::kEpochStride);
  for (int64_t i = size_ - 1; i > 0; --i) {
    const auto j = static_cast<int64_t>(rng.uniform_int(static_cast<uint64_t>(i + 1)));
    std::swap(p[static_cast<size_t>(i)], p[static_cast<size_t>(j)]);
  }
  return p;
}

std::vector<int64_t> ShardedSampler::next(int64_t batch) {
  const int64_t global = batch * world_;
  MDRL_CHECK(batch > 0 && global <= size_, core::ConfigError,
             "a global batch of " + std::to_string(global) + " samples (" + std::to_string(batch) + " per rank x " +
                 std::to_string(world_) + " ranks) is larger than the data set (" + std::to_string(size_) +
                 " samples); use a smaller batch or fewer ranks");
  if (state_.cursor + global > size_) {
    ++state_.epoch;
    state_.cursor = 0;
  }
  if (perm_epoch_ != state_.epoch) {
    perm_ = permutation(state_.epoch);
    perm_epoch_ = state_.epoch;
  }
  std::vector<int64_t> out;
  out.reserve(static_cast<size_t>(batch));
  for (int64_t k = 0; k < batch; ++k) out.push_back(perm_[static_cast<size_t>(state_.cursor + k * world_ + rank_)]);
  last_start_ = state_.cursor;
  last_global_ = global;
  state_.cursor += global;
  return out;
}

std::vector<int64_t> ShardedSampler::last_global_batch() const {
  if (last_start_ < 0) return {};
  return {perm_.begin() + last_start_, perm_.begin() + last_start_ + last_global_};
}

void ShardedSampler::restore(const State& s) {
  MDRL_CHECK(s.epoch >= 0 && s.cursor >= 0 && s.cursor <= size_, core::FormatError,
             "sampler state (epoch " + std::to_string(s.epoch) + ", cursor " + std::to_string(s.cursor) +
                 ") does not fit a data set of " + std::to_string(size_) + " samples; was the data changed?");
  state_ = s;
  last_start_ = -1;
}

}  // namespace mdrl::dist
