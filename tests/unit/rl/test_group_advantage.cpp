// Group-relative advantages (spec algorithms.md §2.0 step 9) against plain-PyTorch golden values
// (tools/gen_rl_fixtures.py), plus the properties the loop relies on.
#include <torch/torch.h>

#include <boost/test/unit_test.hpp>
#include <cmath>
#include <limits>

#include "core/error.hpp"
#include "rl/group_advantage.hpp"
#include "rl_fixture.hpp"

using namespace mdrl;
using test::json_tensor;
using test::max_abs_diff;

BOOST_AUTO_TEST_CASE(advantages_match_golden_values) {
  const auto& cases = test::rl_fixture()["advantages"];
  BOOST_REQUIRE(cases.size() >= 8);
  for (const auto& c : cases) {
    const auto G = c["num_generations"].get<int64_t>();
    const auto scale = c["scale"].get<std::string>();
    BOOST_TEST_CONTEXT("G " << G << " scale " << scale) {
      const auto rewards = json_tensor(c["rewards"]);
      const auto a = rl::group_advantages(rewards, G,
                                          scale == "group" ? rl::AdvantageScaling::Group : rl::AdvantageScaling::None);
      BOOST_TEST(max_abs_diff(a.advantages, json_tensor(c["advantages"])) < 1e-6);
      BOOST_TEST(max_abs_diff(a.group_std, json_tensor(c["group_std"])) < 1e-6);
      BOOST_TEST(std::abs(a.reward_std.item<double>() - c["reward_std"].get<double>()) < 1e-6);
      BOOST_TEST(std::abs(a.zero_std_ratio.item<double>() - c["zero_std_ratio"].get<double>()) < 1e-12);
      BOOST_TEST(a.advantages.size(0) == rewards.size(0));
      BOOST_TEST(a.group_mean.size(0) == rewards.size(0) / G);
    }
  }
}

BOOST_AUTO_TEST_CASE(groups_are_consecutive_and_centred) {
  // Rewards of 3 groups of 4: each group's advantages sum to 0 and equal r - its own mean.
  const auto r = torch::tensor({1.f, 0.f, 0.f, 1.f, 2.f, 2.f, 2.f, 2.f, 0.f, 0.f, 0.f, 3.f});
  const auto a = rl::group_advantages(r, 4, rl::AdvantageScaling::None);
  BOOST_TEST(a.advantages.scalar_type() == torch::kFloat);
  BOOST_TEST(a.advantages.view({3, 4}).sum(1).abs().max().item<double>() < 1e-7);
  BOOST_TEST(max_abs_diff(a.group_mean, torch::tensor({0.5, 2.0, 0.75})) < 1e-7);
  BOOST_TEST(max_abs_diff(a.advantages.slice(0, 8, 12), torch::tensor({-0.75, -0.75, -0.75, 2.25})) < 1e-7);
  // One group of four equal rewards: zero std, zero advantages.
  BOOST_TEST(std::abs(a.zero_std_ratio.item<double>() - 1.0 / 3.0) < 1e-7);
  BOOST_TEST(a.advantages.slice(0, 4, 8).abs().max().item<double>() == 0.0);
  // Unbiased std: group {1, 0, 0, 1} has std sqrt(1/3).
  BOOST_TEST(std::abs(a.group_std[0].item<double>() - std::sqrt(1.0 / 3.0)) < 1e-6);
  // Group scaling: (r - mean) / (std + 1e-4); a zero-std group stays 0, never NaN.
  const auto s = rl::group_advantages(r, 4, rl::AdvantageScaling::Group);
  BOOST_TEST(std::abs(s.advantages[0].item<double>() - 0.5 / (std::sqrt(1.0 / 3.0) + 1e-4)) < 1e-6);
  BOOST_TEST(torch::isfinite(s.advantages).all().item<bool>());
  BOOST_TEST(!s.advantages.requires_grad());
}

BOOST_AUTO_TEST_CASE(bad_inputs_throw) {
  BOOST_CHECK_THROW(rl::group_advantages(torch::zeros({5}), 2, rl::AdvantageScaling::None), core::InternalError);
  BOOST_CHECK_THROW(rl::group_advantages(torch::zeros({4}), 1, rl::AdvantageScaling::None), core::InternalError);
  BOOST_CHECK_THROW(rl::group_advantages(torch::zeros({2, 2}), 2, rl::AdvantageScaling::None), core::InternalError);
  auto r = torch::zeros({4});
  r[1] = std::numeric_limits<float>::quiet_NaN();
  BOOST_CHECK_THROW(rl::group_advantages(r, 2, rl::AdvantageScaling::None), core::NumericError);
}
