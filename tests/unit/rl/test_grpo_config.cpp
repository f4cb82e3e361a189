// [grpo] options (spec algorithms.md §4.1 defaults), their validation, the batch arithmetic of
// spec §2.0 step 3 and the diffu-GRPO iteration index (Q8).
#include <boost/test/unit_test.hpp>
#include <set>
#include <string>
#include <vector>

#include "config/options.hpp"
#include "core/error.hpp"
#include "rl/grpo_config.hpp"

using namespace mdrl;

namespace {

// The ConfigError's message, or "" when none is thrown.
template <class F>
std::string config_error(F&& f) {
  try {
    f();
  } catch (const core::ConfigError& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

BOOST_AUTO_TEST_CASE(defaults_are_the_effective_reference_settings) {
  const rl::GrpoConfig c;
  BOOST_TEST(c.num_generations == 6);
  BOOST_TEST(c.num_iterations == 8);
  BOOST_TEST(c.beta == 0.04);
  BOOST_TEST(c.epsilon == 0.5);
  BOOST_TEST(c.max_prompt_length == 200);
  BOOST_TEST((c.scale_rewards == rl::AdvantageScaling::None));
  BOOST_TEST((c.loss_norm == rl::LossNorm::Tokens));
  BOOST_TEST(c.p_mask_prompt == 0.15);
  BOOST_TEST(c.random_masking);
  BOOST_TEST((c.iteration_index == rl::IterationIndex::Sequential));
  BOOST_TEST(!c.rollout_dropout);
  BOOST_CHECK_NO_THROW(c.validate());
  // The launch batch: per-device 6, 8 ranks, GA 2 -> 16 unique prompts per optimizer step.
  BOOST_CHECK_NO_THROW(rl::validate_batch(c, 6, 8, 2));
  BOOST_TEST(rl::unique_prompts_per_step(c, 6, 8, 2) == 16);
}

BOOST_AUTO_TEST_CASE(options_parse_by_name) {
  rl::GrpoConfig c;
  config::Options opts{"diffu-grpo"};
  c.add_options(opts);
  opts.parse({"--grpo.num_generations=4", "--grpo.scale_rewards=group", "--grpo.loss_norm=sequences",
              "--grpo.iteration_index=reference", "--grpo.rollout_dropout", "--grpo.beta=0"});
  BOOST_TEST(c.num_generations == 4);
  BOOST_TEST((c.scale_rewards == rl::AdvantageScaling::Group));
  BOOST_TEST((c.loss_norm == rl::LossNorm::Sequences));
  BOOST_TEST((c.iteration_index == rl::IterationIndex::Reference));
  BOOST_TEST(c.rollout_dropout);
  BOOST_TEST(c.beta == 0.0);
  BOOST_TEST(std::string(rl::scaling_name(c.scale_rewards)) == "group");
  BOOST_TEST(std::string(rl::loss_norm_name(c.loss_norm)) == "sequences");

  rl::GrpoConfig d;
  config::Options bad{"diffu-grpo"};
  d.add_options(bad);
  BOOST_TEST(contains(config_error([&] { bad.parse({"--grpo.epsilon=1.5"}); }), "grpo.epsilon"));
}

BOOST_AUTO_TEST_CASE(validate_names_the_option) {
  auto check = [](auto set, const std::string& key) {
    rl::GrpoConfig c;
    set(c);
    const auto msg = config_error([&] { c.validate(); });
    BOOST_TEST_CONTEXT(key) { BOOST_TEST(contains(msg, key)); }
  };
  check([](rl::GrpoConfig& c) { c.num_generations = 1; }, "grpo.num_generations");
  check([](rl::GrpoConfig& c) { c.num_iterations = 0; }, "grpo.num_iterations");
  check([](rl::GrpoConfig& c) { c.beta = -0.1; }, "grpo.beta");
  check([](rl::GrpoConfig& c) { c.epsilon = 0; }, "grpo.epsilon");
  check([](rl::GrpoConfig& c) { c.max_prompt_length = -1; }, "grpo.max_prompt_length");
  check([](rl::GrpoConfig& c) { c.generation_batch_size = -2; }, "grpo.generation_batch_size");
  check([](rl::GrpoConfig& c) { c.p_mask_prompt = 1.5; }, "grpo.p_mask_prompt");
  rl::GrpoConfig ok;
  ok.beta = 0;
  ok.num_iterations = 1;  // Q9/Q10 settings are valid
  BOOST_CHECK_NO_THROW(ok.validate());
}

BOOST_AUTO_TEST_CASE(bad_batch_arithmetic_names_the_option_and_valid_values) {
  rl::GrpoConfig c;
  // G 4 divides the 96 completions of a step but not the per-device 6: a group would span ranks.
  c.num_generations = 4;
  auto msg = config_error([&] { rl::validate_batch(c, 6, 8, 2); });
  BOOST_TEST(contains(msg, "grpo.num_generations = 4"));
  BOOST_TEST(contains(msg, "train.batch_size = 6"));
  BOOST_TEST(contains(msg, "2, 3, 6"));
  // G 5: the unique prompts per step are not whole.
  c.num_generations = 5;
  msg = config_error([&] { rl::validate_batch(c, 6, 8, 2); });
  BOOST_TEST(contains(msg, "grpo.num_generations = 5"));
  BOOST_TEST(contains(msg, "not a whole number"));
  BOOST_TEST(contains(msg, "2, 3, 6"));
  // Per-device batch 1 has no valid G; the message says to raise train.batch_size.
  c.num_generations = 2;
  msg = config_error([&] { rl::validate_batch(c, 1, 2, 1); });
  BOOST_TEST(contains(msg, "grpo.num_generations = 2"));
  BOOST_TEST(contains(msg, "train.batch_size"));
  // Valid layouts.
  BOOST_CHECK_NO_THROW(rl::validate_batch(c, 4, 1, 1));
  BOOST_TEST(rl::unique_prompts_per_step(c, 4, 2, 3) == 12);
  c.num_generations = 3;
  BOOST_CHECK_NO_THROW(rl::validate_batch(c, 6, 3, 1));
  BOOST_TEST((rl::valid_num_generations(12) == std::vector<int64_t>{2, 3, 4, 6, 12}));
  BOOST_TEST(rl::valid_num_generations(1).empty());
}

BOOST_AUTO_TEST_CASE(iteration_index_sequential_and_reference_q8) {
  rl::GrpoConfig c;
  c.num_iterations = 12;
  const int64_t GA = 2;
  for (int64_t k = 0; k < GA; ++k) {
    std::multiset<int64_t> seq, ref;
    for (int64_t j = 0; j < c.num_iterations; ++j) {
      c.iteration_index = rl::IterationIndex::Sequential;
      seq.insert(rl::mask_iteration_index(c, j, k, GA));
      BOOST_TEST(rl::mask_iteration_index(c, j, k, GA) == j);
      c.iteration_index = rl::IterationIndex::Reference;
      const auto idx = rl::mask_iteration_index(c, j, k, GA);
      BOOST_TEST(idx == (j * GA + k + 1) % 12);
      ref.insert(idx);
    }
    // Sequential visits all 12 masks once; the reference only 12 / gcd(2, 12) = 6, each twice.
    BOOST_TEST(std::set<int64_t>(seq.begin(), seq.end()).size() == 12u);
    const std::set<int64_t> distinct(ref.begin(), ref.end());
    BOOST_TEST(distinct.size() == 6u);
    for (auto v : distinct) BOOST_TEST(ref.count(v) == 2u);
    for (auto v : distinct) BOOST_TEST(v % 2 == (k + 1) % 2);
  }
  // mu = 1: always mask 0.
  c.num_iterations = 1;
  BOOST_TEST(rl::mask_iteration_index(c, 0, 1, GA) == 0);
}
