// AdamW against PyTorch's own AdamW, bf16 master weights, the exact state round trip, global-norm
// clipping against torch::nn::utils::clip_grad_norm_, and the Hugging Face LR schedules at
// hand-computed points.
#include <torch/torch.h>

#include <boost/test/unit_test.hpp>
#include <cmath>
#include <numbers>

#include "core/error.hpp"
#include "train/optimizer.hpp"

using namespace mdrl;

namespace {

// Deterministic parameters and gradients for several steps.
struct Problem {
  std::vector<torch::Tensor> params;
  explicit Problem(torch::ScalarType dtype = torch::kFloat) {
    torch::manual_seed(3);
    params.push_back(torch::randn({8, 5}).to(dtype).set_requires_grad(true));
    params.push_back(torch::randn({5}).to(dtype).set_requires_grad(true));
  }
  train::NamedParams named() const { return {{"w", params[0]}, {"b", params[1]}}; }
  // The gradient of a fixed quadratic at the current parameters.
  void backward(int step) const {
    torch::manual_seed(100 + step);
    auto loss = torch::zeros({}, torch::kFloat);
    for (const auto& p : params) loss = loss + (p.to(torch::kFloat) * torch::randn(p.sizes())).pow(2).sum();
    loss.backward();
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(adamw_matches_pytorch_adamw) {
  Problem ours, theirs;
  train::AdamW opt(ours.named(), {0.9, 0.999, 1e-8, 0.1, /*decay_1d=*/true});
  torch::optim::AdamW ref(theirs.params, torch::optim::AdamWOptions(1e-2).betas({0.9, 0.999}).eps(1e-8).weight_decay(0.1));
  for (int s = 0; s < 20; ++s) {
    ours.backward(s);
    theirs.backward(s);
    opt.step(1e-2);
    ref.step();
    opt.zero_grad();
    ref.zero_grad();
  }
  for (size_t i = 0; i < ours.params.size(); ++i) {
    const double diff = (ours.params[i] - theirs.params[i]).abs().max().item<double>();
    BOOST_TEST_MESSAGE("param " << i << " max |ours - torch| = " << diff);
    BOOST_TEST(diff < 1e-6);
  }
  // And the parameters really moved.
  Problem start;
  BOOST_TEST((ours.params[0] - start.params[0]).abs().max().item<double>() > 0.05);
}

BOOST_AUTO_TEST_CASE(one_dimensional_parameters_are_not_decayed_by_default) {
  Problem p;
  train::AdamW opt(p.named(), {0.9, 0.999, 1e-8, 0.5, /*decay_1d=*/false});
  const auto b0 = p.params[1].detach().clone(), w0 = p.params[0].detach().clone();
  // A zero gradient: only the decay could move the parameters.
  for (auto& t : p.params) t.mutable_grad() = torch::zeros_like(t);
  opt.step(0.1);
  BOOST_TEST(torch::equal(p.params[1], b0));
  BOOST_TEST(torch::allclose(p.params[0], w0 * (1 - 0.1 * 0.5)));
}

BOOST_AUTO_TEST_CASE(bf16_parameters_keep_f32_master_weights) {
  Problem p(torch::kBFloat16);
  train::AdamW opt(p.named(), {0.9, 0.999, 1e-8, 0.0, false});
  const auto start = p.params[0].detach().clone();
  // Updates far below bf16's resolution at |w| ~ 1 accumulate in the master copy.
  for (int s = 0; s < 50; ++s) {
    p.backward(s);
    opt.step(1e-4);
    opt.zero_grad();
  }
  const auto state = opt.state_tensors();
  torch::Tensor master;
  for (const auto& [name, t] : state)
    if (name == "master/w") master = t;
  BOOST_REQUIRE(master.defined());
  BOOST_TEST(master.scalar_type() == torch::kFloat);
  // The bf16 parameter is the rounded master copy.
  BOOST_TEST(torch::equal(p.params[0], master.to(torch::kBFloat16)));
  BOOST_TEST((master - start.to(torch::kFloat)).abs().max().item<double>() > 1e-3);
}

BOOST_AUTO_TEST_CASE(state_round_trip_continues_bit_for_bit) {
  Problem a, b;
  train::AdamW oa(a.named(), {0.9, 0.95, 1e-8, 0.1, false});
  for (int s = 0; s < 5; ++s) {
    a.backward(s);
    oa.step(1e-2);
    oa.zero_grad();
  }
  // b takes a's parameters and optimizer state, then both continue.
  {
    torch::NoGradGuard ng;
    for (size_t i = 0; i < a.params.size(); ++i) b.params[i].copy_(a.params[i]);
  }
  train::AdamW ob(b.named(), {0.9, 0.95, 1e-8, 0.1, false});
  ob.load_state(oa.state_tensors(), oa.state_scalars());
  BOOST_TEST(ob.steps() == 5);
  for (int s = 5; s < 10; ++s) {
    a.backward(s);
    b.backward(s);
    oa.step(1e-2);
    ob.step(1e-2);
    oa.zero_grad();
    ob.zero_grad();
  }
  for (size_t i = 0; i < a.params.size(); ++i) BOOST_TEST(torch::equal(a.params[i], b.params[i]));
  // A state for another model is refused with the entry named.
  Problem c;
  train::AdamW oc({{"other", c.params[0]}}, {});
  BOOST_CHECK_EXCEPTION(oc.load_state(oa.state_tensors(), oa.state_scalars()), core::FormatError,
                        [](const core::FormatError& e) { return std::string(e.what()).find("exp_avg/other") != std::string::npos; });
}

BOOST_AUTO_TEST_CASE(clipping_matches_pytorch) {
  Problem a, b;
  a.backward(0);
  b.backward(0);
  const double ours = train::clip_grad_norm(a.params, 0.5);
  const double theirs = torch::nn::utils::clip_grad_norm_(b.params, 0.5);
  BOOST_TEST(std::abs(ours - theirs) < 1e-4 * theirs);
  BOOST_TEST(ours > 0.5);  // so the clipping did something
  for (size_t i = 0; i < a.params.size(); ++i) BOOST_TEST(torch::allclose(a.params[i].grad(), b.params[i].grad(), 1e-6, 1e-7));
  // Measuring only (max_norm 0) leaves the gradients alone.
  Problem c;
  c.backward(0);
  const auto g = c.params[0].grad().clone();
  BOOST_TEST(std::abs(train::clip_grad_norm(c.params, 0) - theirs) < 1e-4 * theirs);
  BOOST_TEST(torch::equal(c.params[0].grad(), g));
}

BOOST_AUTO_TEST_CASE(schedules_follow_hugging_face) {
  using train::ScheduleKind;
  const double peak = 1e-3;
  auto lr = [&](ScheduleKind k, int64_t s, int64_t w, int64_t t) { return train::scheduled_lr(k, peak, s, w, t); };
  // linear, no warmup (the reference SFT): step 0 at the peak, down to 0 at the end.
  BOOST_TEST(lr(ScheduleKind::Linear, 0, 0, 100) == peak);
  BOOST_TEST(std::abs(lr(ScheduleKind::Linear, 25, 0, 100) - 0.75 * peak) < 1e-15);
  BOOST_TEST(lr(ScheduleKind::Linear, 100, 0, 100) == 0.0);
  // Warmup from 0.
  BOOST_TEST(lr(ScheduleKind::Linear, 0, 10, 110) == 0.0);
  BOOST_TEST(std::abs(lr(ScheduleKind::Linear, 5, 10, 110) - 0.5 * peak) < 1e-15);
  BOOST_TEST(std::abs(lr(ScheduleKind::Linear, 60, 10, 110) - 0.5 * peak) < 1e-15);
  BOOST_TEST(std::abs(lr(ScheduleKind::ConstantWithWarmup, 5, 10, 110) - 0.5 * peak) < 1e-15);
  BOOST_TEST(lr(ScheduleKind::ConstantWithWarmup, 90, 10, 110) == peak);
  BOOST_TEST(lr(ScheduleKind::Constant, 0, 10, 110) == peak);
  // Cosine: half way through the decay = half the peak; a quarter = (1 + cos(pi/4)) / 2.
  BOOST_TEST(std::abs(lr(ScheduleKind::Cosine, 60, 10, 110) - 0.5 * peak) < 1e-15);
  BOOST_TEST(std::abs(lr(ScheduleKind::Cosine, 35, 10, 110) - peak * 0.5 * (1 + std::cos(std::numbers::pi / 4))) < 1e-15);
  BOOST_TEST(lr(ScheduleKind::Cosine, 110, 10, 110) == 0.0);
}
