// The decode plan (spec algorithms.md §1.2-§1.6): computed once from the [decode] options before
// any forward pass, and printable. It fixes the windows (blocks), which global steps run in each
// block, the tokens each step unmasks and the EOSER factor gamma of each step. Invalid
// combinations are rejected here with messages that name the valid values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "decode/decode_config.hpp"

namespace mdrl::decode {

// One window, in completion offsets [begin, end) (0 = first completion token).
struct PlanBlock {
  int64_t begin = 0, end = 0;
  std::vector<int64_t> steps;  // global step indices that run in this block
};

struct PlanStep {
  int64_t index = 0;        // global step index (0-based; also the trace's step number)
  int64_t block = 0;        // which PlanBlock
  int64_t block_step = 0;   // index within the block
  int64_t count = 0;        // tokens to unmask per row when the block starts fully masked
  int64_t gamma_index = 0;  // i fed to the gamma schedule
  double gamma = 1.0;       // EOSER factor on EOS candidates' confidence (1 without EOSER)
};

struct DecodePlan {
  int64_t gen_length = 0;
  Schedule schedule = Schedule::SemiAr;
  bool linear_counts = true;  // semi-AR: counts follow the masks left in the window (spec §1.2)
  std::vector<PlanBlock> blocks;
  std::vector<PlanStep> steps;

  int64_t num_steps() const { return static_cast<int64_t>(steps.size()); }
  // A table: one line per block and per step (window, count, gamma).
  std::string describe() const;
};

// Linear schedule (spec §1.2): m tokens over `steps` steps, the remainder to the first steps.
std::vector<int64_t> linear_counts(int64_t m, int64_t steps);
// floor(log2 L) for L >= 1 (exact integer arithmetic; the reference's float32 log2 agrees for
// every L below 2^24).
int64_t floor_log2(int64_t L);
// ASS block sizes front to back and each block's step indices (spec §1.5).
std::vector<PlanBlock> ass_blocks(int64_t L, int64_t block_num);
// ASS per-step counts (spec §1.5): 1, 2, 4, ..., the last step takes the rest.
std::vector<int64_t> ass_counts(int64_t L, int64_t steps, const std::vector<PlanBlock>& blocks);
// EOSER factors: linear (spec §1.4) and power-of-two (spec §1.6).
double gamma_linear(int64_t i, int64_t total, double gamma_min, double gamma_max);
double gamma_power(int64_t i, int64_t total, double gamma_min, double gamma_max);

// The plan of `cfg`; throws core::ConfigError for invalid combinations.
DecodePlan make_plan(const DecodeConfig& cfg);

}  // namespace mdrl::decode
