// Trajectory batches whose every value encodes (step, rank, sample, position), so tests can check
// that a reader sees exactly what each rank appended, in order. Shared by the unit and mpirun tests.
#pragma once

#include <torch/torch.h>

#include <boost/test/unit_test.hpp>

#include "io/trajectory_store.hpp"

namespace mdrl::test {

inline constexpr int64_t kPromptWidth = 5, kCompletionLength = 16;
inline const std::vector<std::string> kRewardNames = {"correctness", "format"};

inline double reward_value(int64_t step, int rank, int64_t i, int64_t k) { return step + rank * 0.5 + i * 0.25 + k; }

// `b` samples of rank `rank` at `step`; sample i has (i % 3) left-padding prompt tokens.
inline io::TrajectoryBatch make_batch(int64_t step, int rank, int64_t b, bool logprob = true) {
  io::TrajectoryBatch t;
  t.step = step;
  t.decoding = R"({"steps": 4, "block_length": 16, "remasking": "low_confidence"})";
  if (b == 0) return t;
  const int64_t p = kPromptWidth, l = kCompletionLength;
  auto i = torch::arange(b, torch::kLong).unsqueeze(1);
  auto jp = torch::arange(p, torch::kLong).unsqueeze(0);
  auto jl = torch::arange(l, torch::kLong).unsqueeze(0);
  t.prompt_ids = 1000 * step + 100 * rank + 10 * i + jp;
  t.prompt_mask = jp >= (i % 3);
  t.completion_ids = step * 10000 + rank * 1000 + i * 20 + jl;
  t.step_map = ((jl * 7 + i) % 4).to(torch::kInt);
  auto id = i.to(torch::kDouble), jd = jl.to(torch::kDouble);
  t.confidence = (0.5 + 0.01 * jd + 0.001 * id).to(torch::kFloat);
  auto k = torch::arange(2, torch::kDouble).unsqueeze(0);
  t.rewards = (step + rank * 0.5 + id * 0.25 + k).to(torch::kFloat);
  t.reward = t.rewards.sum(1);
  t.advantage = t.reward - 1;
  t.group_id = (step * 100 + rank * 10 + i.squeeze(1) / 2);
  if (logprob) t.old_logprob = (-0.1 * jd - id).to(torch::kFloat);
  return t;
}

// Checks a stored sample against make_batch(step, rank, ...)'s row i.
inline void check_sample(const io::TrajectorySample& s, int64_t step, int rank, int64_t i, bool logprob = true) {
  BOOST_TEST_CONTEXT("sample " << s.index << " (step " << step << " rank " << rank << " i " << i << ")") {
    BOOST_TEST(s.step == step);
    BOOST_TEST(s.rank == rank);
    BOOST_TEST(s.group_id == step * 100 + rank * 10 + i / 2);
    BOOST_REQUIRE_EQUAL(s.prompt_ids.size(), static_cast<size_t>(kPromptWidth - i % 3));
    for (size_t j = 0; j < s.prompt_ids.size(); ++j)
      BOOST_TEST(s.prompt_ids[j] == 1000 * step + 100 * rank + 10 * i + static_cast<int64_t>(j) + i % 3);
    BOOST_REQUIRE_EQUAL(s.completion_ids.size(), static_cast<size_t>(kCompletionLength));
    for (int64_t j = 0; j < kCompletionLength; ++j) {
      const auto u = static_cast<size_t>(j);
      BOOST_TEST(s.completion_ids[u] == step * 10000 + rank * 1000 + i * 20 + j);
      BOOST_TEST(s.step_map[u] == (j * 7 + i) % 4);
      BOOST_TEST(s.confidence[u] == static_cast<float>(0.5 + 0.01 * j + 0.001 * i));
      if (logprob) BOOST_TEST(s.old_logprob[u] == static_cast<float>(-0.1 * j - i));
    }
    if (!logprob) BOOST_TEST(s.old_logprob.empty());
    BOOST_REQUIRE_EQUAL(s.rewards.size(), 2u);
    double total = 0;
    for (int64_t k = 0; k < 2; ++k) {
      const float want = static_cast<float>(reward_value(step, rank, i, k));
      BOOST_TEST(s.rewards[static_cast<size_t>(k)] == want);
      total += want;
    }
    BOOST_TEST(s.reward == static_cast<double>(static_cast<float>(total)));
    BOOST_TEST(s.advantage == static_cast<double>(static_cast<float>(total) - 1.0f));
  }
}

}  // namespace mdrl::test
