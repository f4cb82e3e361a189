#include "core/rng.hpp"

#include <cmath>
#include <numbers>

#include "core/error.hpp"

namespace mdrl::core {

std::array<uint32_t, 4> philox4x32_10(std::array<uint32_t, 4> ctr, std::array<uint32_t, 2> key) {
  // Constants of Random123's philox4x32: multipliers and Weyl key increments.
  constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
  constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = uint64_t{kM0} * ctr[0];
    const uint64_t p1 = uint64_t{kM1} * ctr[2];
    const auto hi0 = static_cast<uint32_t>(p0 >> 32), lo0 = static_cast<uint32_t>(p0);
    const auto hi1 = static_cast<uint32_t>(p1 >> 32), lo1 = static_cast<uint32_t>(p1);
    ctr = {hi1 ^ ctr[1] ^ key[0], lo1, hi0 ^ ctr[3] ^ key[1], lo0};
    key[0] += kW0;
    key[1] += kW1;
  }
  return ctr;
}

const char* rng_purpose_name(RngPurpose purpose) {
  switch (purpose) {
    case RngPurpose::Init: return "init";
    case RngPurpose::DataOrder: return "data_order";
    case RngPurpose::Masking: return "masking";
    case RngPurpose::Sampling: return "sampling";
    case RngPurpose::Dropout: return "dropout";
    case RngPurpose::Puzzles: return "puzzles";
    case RngPurpose::Test: return "test";
  }
  return "unknown";
}

uint64_t RngStream::stream_id(int rank, RngPurpose purpose) {
  MDRL_CHECK(rank >= 0, InternalError, "RngStream: negative rank " + std::to_string(rank));
  return (uint64_t{static_cast<uint32_t>(purpose)} << 32) | static_cast<uint32_t>(rank);
}

RngStream::RngStream(uint64_t seed, int rank, RngPurpose purpose) : seed_(seed), stream_(stream_id(rank, purpose)) {}

RngStream::RngStream(uint64_t seed, int rank, RngPurpose purpose, uint64_t first_block)
    : seed_(seed), stream_(stream_id(rank, purpose)), counter_(first_block) {}

RngStream::RngStream(const State& s) : seed_(s.seed), stream_(s.stream), counter_(s.counter), used_(s.used) {
  MDRL_CHECK(s.used <= 4, FormatError, "RNG stream state: buffered word index " + std::to_string(s.used) + " > 4");
  if (used_ < 4) {
    // The buffered block is the one before counter_; recompute it instead of storing it.
    const uint64_t b = counter_ - 1;
    block_ = philox4x32_10({static_cast<uint32_t>(b), static_cast<uint32_t>(b >> 32), static_cast<uint32_t>(stream_),
                            static_cast<uint32_t>(stream_ >> 32)},
                           {static_cast<uint32_t>(seed_), static_cast<uint32_t>(seed_ >> 32)});
  }
}

uint32_t RngStream::next_u32() {
  if (used_ == 4) {
    block_ = philox4x32_10({static_cast<uint32_t>(counter_), static_cast<uint32_t>(counter_ >> 32),
                            static_cast<uint32_t>(stream_), static_cast<uint32_t>(stream_ >> 32)},
                           {static_cast<uint32_t>(seed_), static_cast<uint32_t>(seed_ >> 32)});
    ++counter_;
    used_ = 0;
  }
  return block_[used_++];
}

uint64_t RngStream::next_u64() {
  const uint64_t lo = next_u32();
  return lo | (uint64_t{next_u32()} << 32);
}

double RngStream::uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

double RngStream::normal() {
  // Box-Muller with u1 in (0, 1] so the log is finite; one value per call keeps the state simple.
  const double u1 = 1.0 - uniform();
  const double u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

uint64_t RngStream::uniform_int(uint64_t n) {
  MDRL_CHECK(n > 0, InternalError, "RngStream::uniform_int(0)");
  // Rejection sampling on the top of the 64-bit range: unbiased for every n.
  const uint64_t limit = std::numeric_limits<uint64_t>::max() - (std::numeric_limits<uint64_t>::max() % n);
  uint64_t x;
  do {
    x = next_u64();
  } while (x >= limit);
  return x % n;
}

RngStream::State RngStream::state() const { return State{seed_, stream_, counter_, used_}; }

std::string RngStream::describe() const {
  const auto purpose = static_cast<RngPurpose>(stream_ >> 32);
  return std::string("philox4x32-10 seed=") + std::to_string(seed_) + " rank=" +
         std::to_string(static_cast<uint32_t>(stream_)) + " purpose=" + rng_purpose_name(purpose) +
         " block=" + std::to_string(counter_);
}

}  // namespace mdrl::core
