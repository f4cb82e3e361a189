// Decode plans (spec algorithms.md §1.2 linear counts, §1.3 semi-AR blocks, §1.4/§1.6 EOSER gamma,
// §1.5 ASS layout), validated up front (quirks Q6, Q7).
#include "decode/decode_plan.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "core/error.hpp"
#include "core/text.hpp"

namespace mdrl::decode {
namespace {

using core::ConfigError;

std::string divisors_of(int64_t L) {
  std::vector<std::string> d;
  for (int64_t i = 1; i <= L; ++i)
    if (L % i == 0) d.push_back(std::to_string(i));
  return core::join(d, ", ");
}

double gamma_of(const DecodeConfig& cfg, GammaSchedule sched, int64_t i, int64_t total) {
  if (!cfg.eoser) return 1.0;
  return sched == GammaSchedule::Power ? gamma_power(i, total, cfg.gamma_min, cfg.gamma_max)
                                       : gamma_linear(i, total, cfg.gamma_min, cfg.gamma_max);
}

DecodePlan semi_ar_plan(const DecodeConfig& cfg) {
  const int64_t L = cfg.gen_length;
  const int64_t block = cfg.schedule == Schedule::Diffusion ? L : cfg.block_length;
  MDRL_CHECK(block >= 1 && block <= L && L % block == 0, ConfigError,
             "decode.block_length = " + std::to_string(block) + " does not divide decode.gen_length = " +
                 std::to_string(L) + "; valid block lengths: " + divisors_of(L));
  const int64_t num_blocks = L / block;
  // The reference's steps per block (spec §1.3): more forwards than `steps` when steps < blocks.
  const int64_t spb = std::max<int64_t>(1, cfg.steps / num_blocks);
  const auto counts = linear_counts(block, spb);
  const GammaSchedule gs = cfg.resolved_gamma_schedule();
  const bool global = cfg.gamma_index == GammaIndex::Global;
  // Global index over the forwards actually run, so gamma reaches gamma_max at the last step; the
  // reference's within-block index is paired with its total `steps` (quirk Q3).
  const int64_t gamma_total = global ? num_blocks * spb : cfg.steps;
  DecodePlan plan;
  plan.gen_length = L;
  plan.schedule = cfg.schedule;
  plan.linear_counts = true;
  for (int64_t k = 0; k < num_blocks; ++k) {
    PlanBlock b{k * block, (k + 1) * block, {}};
    for (int64_t i = 0; i < spb; ++i) {
      PlanStep s;
      s.index = k * spb + i;
      s.block = k;
      s.block_step = i;
      s.count = counts[static_cast<size_t>(i)];
      s.gamma_index = global ? s.index : i;
      s.gamma = gamma_of(cfg, gs, s.gamma_index, gamma_total);
      b.steps.push_back(s.index);
      plan.steps.push_back(s);
    }
    plan.blocks.push_back(std::move(b));
  }
  return plan;
}

DecodePlan ass_plan(const DecodeConfig& cfg) {
  const int64_t L = cfg.gen_length;
  const int64_t S = floor_log2(L);
  MDRL_CHECK(cfg.steps == S, ConfigError,
             "decode.steps = " + std::to_string(cfg.steps) + " is invalid with decode.schedule = ass and decode.gen_length = " +
                 std::to_string(L) + ": ASS needs steps = floor(log2 gen_length) = " + std::to_string(S) +
                 " (spec §1.5)");
  MDRL_CHECK(cfg.block_num >= 1 && cfg.block_num <= cfg.steps, ConfigError,
             "decode.block_num = " + std::to_string(cfg.block_num) + " is invalid with decode.steps = " +
                 std::to_string(cfg.steps) + "; valid values: 1 to " + std::to_string(cfg.steps));
  DecodePlan plan;
  plan.gen_length = L;
  plan.schedule = Schedule::Ass;
  plan.linear_counts = false;
  plan.blocks = ass_blocks(L, cfg.block_num);
  const auto counts = ass_counts(L, cfg.steps, plan.blocks);
  const GammaSchedule gs = cfg.resolved_gamma_schedule();
  for (size_t k = 0; k < plan.blocks.size(); ++k) {
    const auto& b = plan.blocks[k];
    for (size_t j = 0; j < b.steps.size(); ++j) {
      PlanStep s;
      s.index = b.steps[j];
      s.block = static_cast<int64_t>(k);
      s.block_step = static_cast<int64_t>(j);
      s.count = counts[static_cast<size_t>(s.index)];
      s.gamma_index = s.index;  // ASS step indices are global in the reference too (spec §1.6)
      s.gamma = gamma_of(cfg, gs, s.gamma_index, cfg.steps);
      plan.steps.push_back(s);
    }
  }
  return plan;
}

}  // namespace

std::vector<int64_t> linear_counts(int64_t m, int64_t steps) {
  MDRL_ASSERT(steps >= 1 && m >= 0);
  std::vector<int64_t> n(static_cast<size_t>(steps), m / steps);
  for (int64_t i = 0; i < m % steps; ++i) n[static_cast<size_t>(i)] += 1;
  return n;
}

int64_t floor_log2(int64_t L) {
  MDRL_ASSERT(L >= 1);
  int64_t s = 0;
  while ((int64_t{1} << (s + 1)) <= L) ++s;
  return s;
}

std::vector<PlanBlock> ass_blocks(int64_t L, int64_t block_num) {
  const int64_t S = floor_log2(L);
  const int64_t r = L - (int64_t{1} << S);
  MDRL_ASSERT(block_num >= 1 && block_num <= S);
  if (block_num == 1) {
    PlanBlock b{0, L, {}};
    for (int64_t i = 0; i < S; ++i) b.steps.push_back(i);
    return {b};
  }
  // Sizes from the back: the last block 2^(S-1) + 1 + r with step S-1, middle block j with
  // 2^(S-n+j) and the step of that exponent, the first block the rest (steps 0 .. S-n).
  std::vector<int64_t> sizes(static_cast<size_t>(block_num));
  sizes.back() = (int64_t{1} << (S - 1)) + 1 + r;
  for (int64_t j = block_num - 2; j >= 1; --j) sizes[static_cast<size_t>(j)] = int64_t{1} << (S - block_num + j);
  int64_t rest = L;
  for (int64_t j = 1; j < block_num; ++j) rest -= sizes[static_cast<size_t>(j)];
  sizes[0] = rest;
  MDRL_ASSERT(rest == (int64_t{1} << (S - block_num + 1)) - 1);
  std::vector<PlanBlock> blocks;
  int64_t at = 0;
  for (int64_t j = 0; j < block_num; ++j) {
    PlanBlock b{at, at + sizes[static_cast<size_t>(j)], {}};
    if (j == 0) {
      for (int64_t i = 0; i <= S - block_num; ++i) b.steps.push_back(i);
    } else {
      b.steps.push_back(S - block_num + j);
    }
    at = b.end;
    blocks.push_back(std::move(b));
  }
  return blocks;
}

std::vector<int64_t> ass_counts(int64_t L, int64_t steps, const std::vector<PlanBlock>& blocks) {
  std::vector<int64_t> n(static_cast<size_t>(steps));
  for (int64_t i = 0; i + 1 < steps; ++i) n[static_cast<size_t>(i)] = int64_t{1} << i;
  const int64_t half = int64_t{1} << (steps - 1);
  if (blocks.size() == 1) {
    n.back() = L - (half - 1);
  } else {
    const int64_t last = blocks.back().end - blocks.back().begin;
    n.back() = last > half ? last : 0;  // the reference's branch; 0 never happens with steps = S
  }
  return n;
}

double gamma_linear(int64_t i, int64_t total, double gamma_min, double gamma_max) {
  if (total <= 1) return gamma_max;
  const double t = static_cast<double>(std::clamp<int64_t>(i, 0, total - 1)) / static_cast<double>(total - 1);
  return gamma_min + (gamma_max - gamma_min) * t;
}

double gamma_power(int64_t i, int64_t total, double gamma_min, double gamma_max) {
  if (total <= 1) return gamma_max;
  const double t = (std::ldexp(1.0, static_cast<int>(i + 1)) - 1.0) / std::ldexp(1.0, static_cast<int>(total));
  return gamma_min + (gamma_max - gamma_min) * t;
}

DecodePlan make_plan(const DecodeConfig& cfg) {
  MDRL_CHECK(cfg.gen_length >= 1, ConfigError,
             "decode.gen_length = " + std::to_string(cfg.gen_length) + "; it must be at least 1");
  MDRL_CHECK(cfg.steps >= 1, ConfigError, "decode.steps = " + std::to_string(cfg.steps) + "; it must be at least 1");
  return cfg.schedule == Schedule::Ass ? ass_plan(cfg) : semi_ar_plan(cfg);
}

std::string DecodePlan::describe() const {
  std::ostringstream out;
  out << "decode plan: " << schedule_name(schedule) << ", gen_length " << gen_length << ", " << blocks.size()
      << " block(s), " << steps.size() << " step(s)"
      << (linear_counts ? " (counts per row from the masks left in the window)" : "") << "\n";
  for (size_t k = 0; k < blocks.size(); ++k) {
    const auto& b = blocks[k];
    out << "  block " << k << ": completion [" << b.begin << ", " << b.end << ") size " << (b.end - b.begin)
        << ", steps " << b.steps.front() << ".." << b.steps.back() << "\n";
  }
  out << "  step  block  window        count  gamma_index  gamma\n";
  for (const auto& s : steps) {
    const auto& b = blocks[static_cast<size_t>(s.block)];
    char line[128];
    std::snprintf(line, sizeof line, "  %4ld  %5ld  [%4ld, %4ld)  %5ld  %11ld  %.4f\n", static_cast<long>(s.index),
                  static_cast<long>(s.block), static_cast<long>(b.begin), static_cast<long>(b.end),
                  static_cast<long>(s.count), static_cast<long>(s.gamma_index), s.gamma);
    out << line;
  }
  return out.str();
}

}  // namespace mdrl::decode
