// Rank-strided data sharding (DESIGN.md data flow step 1): every rank computes the same permutation
// of the data set for each epoch (Philox stream of purpose data_order, rank 0, one disjoint part per
// epoch), and rank r takes positions r, r + W, r + 2W, ... of each global batch. So W ranks with
// batch b see exactly the samples one rank with batch W*b sees, and resume continues from the saved
// cursor without replaying data.
#pragma once

#include <cstdint>
#include <vector>

namespace mdrl::dist {

class ShardedSampler {
 public:
  struct State {
    int64_t epoch = 0;
    int64_t cursor = 0;  // global position in the epoch's permutation
    bool operator==(const State&) const = default;
  };

  // `size` samples, `world` ranks, this is `rank`. shuffle=false keeps the file order.
  ShardedSampler(int64_t size, int world, int rank, uint64_t seed, bool shuffle = true);

  // The next per-rank batch of `batch` sample indices. A global batch (world * batch) never spans
  // two epochs: the incomplete tail of an epoch is dropped (as with drop_last), and the next epoch
  // starts with a new permutation.
  std::vector<int64_t> next(int64_t batch);

  // The sample indices of the global batch the last next() was part of: every rank's share, in
  // permutation order (rank r's are positions r, r + W, ...); empty before the first next(). The
  // same on every rank and for any split of that global batch into ranks x batch (logs, tests).
  std::vector<int64_t> last_global_batch() const;

  State state() const { return state_; }
  void restore(const State& s);
  // The permutation of an epoch (for tests and tools).
  std::vector<int64_t> permutation(int64_t epoch) const;

 private:
  int64_t size_;
  int world_, rank_;
  uint64_t seed_;
  bool shuffle_;
  State state_;
  int64_t perm_epoch_ = -1;
  int64_t last_start_ = -1, last_global_ = 0;  // position and size of the last global batch
  std::vector<int64_t> perm_;
};

}  // namespace mdrl::dist
