// The PPO-clip token objective with k3 KL (spec algorithms.md §2.0-§2.2) against golden values and
// autograd gradients from plain PyTorch (tools/gen_rl_fixtures.py), plus mu = 1 (Q9), beta = 0
// (Q10), empty masks and garbage outside the mask.
#include <torch/torch.h>

#include <boost/test/unit_test.hpp>
#include <cmath>

#include "core/error.hpp"
#include "rl/grpo_config.hpp"
#include "rl/grpo_objective.hpp"
#include "rl_fixture.hpp"

using namespace mdrl;
using test::json_tensor;
using test::max_abs_diff;

namespace {

struct Case {
  rl::ObjectiveInputs in;
  rl::ObjectiveSettings s;
};

Case make_case(const nlohmann::json& c, torch::Dtype dtype = torch::kDouble) {
  const auto& inputs = test::rl_fixture()["inputs"];
  Case k;
  k.in.logp = json_tensor(inputs["logp"]).to(dtype).requires_grad_(true);
  if (c["use_old"].get<bool>()) k.in.old_logp = json_tensor(inputs["old_logp"]).to(dtype);
  if (c["use_ref"].get<bool>()) k.in.ref_logp = json_tensor(inputs["ref_logp"]).to(dtype);
  k.in.advantages = json_tensor(inputs["advantages"]).to(dtype);
  k.in.mask = json_tensor(c["mask"]).to(torch::kInt32);
  k.s.beta = c["beta"].get<double>();
  k.s.epsilon = c["epsilon"].get<double>();
  k.s.norm = c["norm"].get<std::string>() == "tokens" ? rl::LossNorm::Tokens : rl::LossNorm::Sequences;
  return k;
}

const nlohmann::json& find_case(const std::string& name) {
  for (const auto& c : test::rl_fixture()["objective"])
    if (c["name"].get<std::string>() == name) return c;
  throw std::runtime_error("no fixture case " + name);
}

}  // namespace

BOOST_AUTO_TEST_CASE(objective_matches_golden_loss_metrics_and_gradient) {
  const auto& cases = test::rl_fixture()["objective"];
  BOOST_REQUIRE(cases.size() >= 8);
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("case " << c["name"].get<std::string>()) {
      auto k = make_case(c);
      const auto r = rl::grpo_objective(k.in, k.s);
      BOOST_TEST(r.loss.dim() == 0);
      BOOST_TEST(std::abs(r.loss.item<double>() - c["loss"].get<double>()) < 1e-6);
      BOOST_TEST(std::abs(r.kl.item<double>() - c["kl"].get<double>()) < 1e-6);
      BOOST_TEST(std::abs(r.clip_ratio.item<double>() - c["clip_ratio"].get<double>()) < 1e-6);
      BOOST_TEST(std::abs(r.clip_active_ratio.item<double>() - c["clip_active_ratio"].get<double>()) < 1e-6);
      BOOST_TEST(r.tokens.item<double>() == c["tokens"].get<double>());
      BOOST_TEST(!r.kl.requires_grad());
      BOOST_TEST(!r.clip_ratio.requires_grad());
      r.loss.backward();
      BOOST_REQUIRE(k.in.logp.grad().defined());
      BOOST_TEST(max_abs_diff(k.in.logp.grad(), json_tensor(c["grad"])) < 1e-6);
      const auto t = rl::grpo_token_terms(k.in, k.s);
      const auto valid = k.in.mask.to(torch::kBool);
      BOOST_TEST(max_abs_diff(t.ratio.masked_select(valid), json_tensor(c["ratio"]).masked_select(valid)) < 1e-6);
    }
  }
}

BOOST_AUTO_TEST_CASE(float32_inputs_match_the_f64_golden_values) {
  const auto& c = find_case("full_tokens");
  auto k = make_case(c, torch::kFloat);
  const auto r = rl::grpo_objective(k.in, k.s);
  BOOST_TEST(r.loss.scalar_type() == torch::kFloat);
  BOOST_TEST(std::abs(r.loss.item<double>() - c["loss"].get<double>()) < 1e-5);
  r.loss.backward();
  BOOST_TEST(max_abs_diff(k.in.logp.grad(), json_tensor(c["grad"])) < 1e-5);

  // bf16 log-probs are computed in f32 (the reference casts to f32).
  auto b = make_case(c, torch::kBFloat16);
  BOOST_TEST(rl::grpo_objective(b.in, b.s).loss.scalar_type() == torch::kFloat);
}

BOOST_AUTO_TEST_CASE(mu_1_has_ratio_1_and_loss_minus_token_mean_advantage) {
  // Q9: no stored old log-probs (mu = 1) works, with or without the reference.
  auto k = make_case(find_case("mu1_beta0"));
  const auto t = rl::grpo_token_terms(k.in, k.s);
  BOOST_TEST(max_abs_diff(t.ratio, torch::ones_like(t.ratio)) == 0.0);
  const auto r = rl::grpo_objective(k.in, k.s);
  const auto m = k.in.mask.to(torch::kDouble);
  const double expected = -(k.in.advantages.unsqueeze(1) * m).sum().item<double>() / m.sum().item<double>();
  BOOST_TEST(std::abs(r.loss.item<double>() - expected) < 1e-12);
  BOOST_TEST(r.clip_ratio.item<double>() == 0.0);
  BOOST_TEST(r.kl.item<double>() == 0.0);
  // The gradient is -A / N on valid tokens (rho = 1 has gradient rho), 0 elsewhere.
  r.loss.backward();
  const auto g = -(k.in.advantages.unsqueeze(1) * m) / m.sum();
  BOOST_TEST(max_abs_diff(k.in.logp.grad(), g) < 1e-12);
}

BOOST_AUTO_TEST_CASE(beta_0_has_no_kl_term) {
  // Q10: beta = 0 computes the loss (no reference forward needed); a ref given anyway only feeds the metric.
  auto no_ref = make_case(find_case("beta0_no_ref"));
  auto with_ref = make_case(find_case("beta0_with_ref"));
  const auto a = rl::grpo_objective(no_ref.in, no_ref.s);
  const auto b = rl::grpo_objective(with_ref.in, with_ref.s);
  BOOST_TEST(a.loss.item<double>() == b.loss.item<double>());
  BOOST_TEST(a.kl.item<double>() == 0.0);
  BOOST_TEST(b.kl.item<double>() > 0.0);
  // With beta > 0 the difference is exactly beta * kl under the token mean.
  auto full = make_case(find_case("eps05_tokens"));
  const auto f = rl::grpo_objective(full.in, full.s);
  BOOST_TEST(std::abs(f.loss.item<double>() - b.loss.item<double>() - 0.04 * b.kl.item<double>()) < 1e-12);
}

BOOST_AUTO_TEST_CASE(k3_kl_is_non_negative_and_zero_at_the_reference) {
  auto k = make_case(find_case("full_tokens"));
  const auto t = rl::grpo_token_terms(k.in, k.s);
  BOOST_TEST(t.kl.min().item<double>() >= 0.0);
  k.in.ref_logp = k.in.logp.detach().clone();
  BOOST_TEST(rl::grpo_token_terms(k.in, k.s).kl.abs().max().item<double>() == 0.0);
}

BOOST_AUTO_TEST_CASE(empty_mask_gives_zero_not_nan) {
  for (const char* name : {"empty_mask", "empty_mask_sequences"}) {
    BOOST_TEST_CONTEXT(name) {
      auto k = make_case(find_case(name));
      const auto r = rl::grpo_objective(k.in, k.s);
      BOOST_TEST(r.loss.item<double>() == 0.0);
      BOOST_TEST(r.kl.item<double>() == 0.0);
      BOOST_TEST(r.clip_ratio.item<double>() == 0.0);
      BOOST_TEST(r.tokens.item<double>() == 0.0);
      r.loss.backward();
      BOOST_TEST(k.in.logp.grad().abs().max().item<double>() == 0.0);
    }
  }
}

BOOST_AUTO_TEST_CASE(values_outside_the_mask_do_not_matter) {
  // Padding positions may carry -inf / NaN log-probs: the loss and gradient must not see them.
  for (const char* name : {"full_tokens", "full_sequences", "mu1"}) {
    BOOST_TEST_CONTEXT(name) {
      const auto& c = find_case(name);
      auto clean = make_case(c);
      auto dirty = make_case(c);
      const auto invalid = dirty.in.mask == 0;
      dirty.in.logp = dirty.in.logp.detach().masked_fill(invalid, -INFINITY).requires_grad_(true);
      if (dirty.in.old_logp.defined()) dirty.in.old_logp = dirty.in.old_logp.masked_fill(invalid, NAN);
      if (dirty.in.ref_logp.defined()) dirty.in.ref_logp = dirty.in.ref_logp.masked_fill(invalid, INFINITY);
      const auto a = rl::grpo_objective(clean.in, clean.s);
      const auto b = rl::grpo_objective(dirty.in, dirty.s);
      BOOST_TEST(a.loss.item<double>() == b.loss.item<double>());
      BOOST_TEST(a.kl.item<double>() == b.kl.item<double>());
      a.loss.backward();
      b.loss.backward();
      BOOST_TEST(torch::isfinite(dirty.in.logp.grad()).all().item<bool>());
      BOOST_TEST(max_abs_diff(clean.in.logp.grad(), dirty.in.logp.grad()) == 0.0);
    }
  }
}

BOOST_AUTO_TEST_CASE(bool_mask_and_settings_from_config) {
  rl::GrpoConfig cfg;
  const auto s = rl::objective_settings(cfg);
  BOOST_TEST(s.beta == 0.04);
  BOOST_TEST(s.epsilon == 0.5);
  BOOST_TEST((s.norm == rl::LossNorm::Tokens));
  auto k = make_case(find_case("eps05_tokens"));
  k.in.mask = k.in.mask.to(torch::kBool);
  BOOST_TEST(std::abs(rl::grpo_objective(k.in, s).loss.item<double>() - find_case("eps05_tokens")["loss"].get<double>()) <
             1e-6);
}

BOOST_AUTO_TEST_CASE(mismatched_shapes_are_internal_errors) {
  auto k = make_case(find_case("full_tokens"));
  k.in.advantages = k.in.advantages.slice(0, 0, 3);
  BOOST_CHECK_THROW(rl::grpo_objective(k.in, k.s), core::InternalError);
  auto m = make_case(find_case("full_tokens"));
  m.in.old_logp = m.in.old_logp.slice(1, 0, 2);
  BOOST_CHECK_THROW(rl::grpo_objective(m.in, m.s), core::InternalError);
}
