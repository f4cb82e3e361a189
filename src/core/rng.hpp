// Seeded random number streams, one per (seed, rank, purpose) (DESIGN.md "Determinism").
//
// The generator is Philox4x32-10 (Salmon et al., SC'11, "Random123"), a counter-based generator:
// output block i of a stream is Philox(key = seed, counter = {i_lo, i_hi, stream_lo, stream_hi}).
// A stream's id packs its purpose and rank, so streams never overlap, need no seeding arithmetic,
// and the whole state is four integers that a checkpoint stores exactly. With the same seed and
// stream id the output equals ATen's at::philox_engine(seed, subsequence = stream id).
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace mdrl::core {

// Keys 2x32 bits, counters 4x32 bits; ten rounds.
std::array<uint32_t, 4> philox4x32_10(std::array<uint32_t, 4> counter, std::array<uint32_t, 2> key);

// What a stream is used for. The numeric values are part of the checkpoint format: never reorder.
enum class RngPurpose : uint32_t {
  Init = 1,       // parameter initialisation
  DataOrder = 2,  // prompt sampling and shuffling
  Masking = 3,    // masked-diffusion noise (SFT t and masks, diffu-GRPO prompt masks)
  Sampling = 4,   // Gumbel noise and random remasking while decoding
  Dropout = 5,    // LoRA dropout
  Puzzles = 6,    // generated Sudoku / Countdown training data
  Test = 100,     // tests and tools
};
const char* rng_purpose_name(RngPurpose purpose);

// Named parts of one (purpose, rank) stream, as first_block offsets, so two uses of one purpose
// never overlap. Like RngPurpose, the values are part of the reproducibility contract (a resumed
// or rerun job draws the same numbers): never change one.
namespace rng_block {
inline constexpr uint64_t kEpochStride = uint64_t{1} << 32;  // DataOrder: epoch e starts at e * kEpochStride
inline constexpr uint64_t kLoraInit = uint64_t{1} << 40;     // Init: LoRA A factors (base weights at 0)
inline constexpr uint64_t kHeldOut = uint64_t{1} << 48;      // Masking / Sampling: held-out evaluation at kHeldOut + step
inline constexpr uint64_t kPromptMask = uint64_t{1} << 52;   // Masking: diffu-GRPO per-iteration prompt-mask seeds
inline constexpr uint64_t kHeldOutSplit = uint64_t{1} << 62; // DataOrder (rank 0): the one shuffle before a held-out split
}  // namespace rng_block

class RngStream {
 public:
  // Everything needed to continue a stream exactly (checkpoints store it).
  struct State {
    uint64_t seed = 0;
    uint64_t stream = 0;   // (purpose << 32) | rank
    uint64_t counter = 0;  // index of the next 128-bit block
    uint32_t used = 4;     // words of the current block already handed out (4 = none buffered)
    bool operator==(const State&) const = default;
  };

  RngStream(uint64_t seed, int rank, RngPurpose purpose);
  // The same stream, starting at block `first_block`: splits one stream into disjoint parts, e.g.
  // one per epoch at first_block = epoch << 32 (2^32 blocks = 2^34 values each).
  RngStream(uint64_t seed, int rank, RngPurpose purpose, uint64_t first_block);
  explicit RngStream(const State& state);

  static uint64_t stream_id(int rank, RngPurpose purpose);

  // UniformRandomBitGenerator, so <random> distributions and std::shuffle accept it.
  using result_type = uint32_t;
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return std::numeric_limits<uint32_t>::max(); }
  result_type operator()() { return next_u32(); }

  uint32_t next_u32();
  uint64_t next_u64();
  double uniform();                     // [0, 1), 53 random bits
  double normal();                      // standard normal, Box-Muller
  uint64_t uniform_int(uint64_t n);     // uniform in [0, n), unbiased; n > 0
  // A 64-bit seed for another generator (e.g. a torch::Generator), drawn from this stream.
  uint64_t derive_seed() { return next_u64(); }

  State state() const;
  std::string describe() const;  // for logs: seed, stream, position

 private:
  uint64_t seed_;
  uint64_t stream_;
  uint64_t counter_ = 0;
  std::array<uint32_t, 4> block_{};
  uint32_t used_ = 4;
};

// Fisher-Yates shuffle of `v` with draws from `rng` (the same order on every platform, unlike
// std::shuffle, whose algorithm the standard leaves open).
template <class T>
void shuffle(std::vector<T>& v, RngStream& rng) {
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[static_cast<size_t>(rng.uniform_int(i))]);
}

}  // namespace mdrl::core
