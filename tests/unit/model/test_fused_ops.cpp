// The fused CPU kernels (RMSNorm, RoPE, SwiGLU) against the composite ATen expressions they
// replace: values and gradients, odd widths, strided inputs, and a whole model's
// logits and parameter gradients with the kernels on and off.
#include <torch/torch.h>

#include <boost/test/unit_test.hpp>

#include "model/fused_ops.hpp"
#include "model/llada.hpp"

using namespace mdrl;
namespace fused = model::fused;

namespace {
double max_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat) - b.to(torch::kFloat)).abs().max().item<double>();
}
double max_abs(const torch::Tensor& a) { return a.to(torch::kFloat).abs().max().item<double>(); }

// Runs f with the kernels on and off; returns {fused, composite}.
template <typename F>
std::pair<torch::Tensor, torch::Tensor> both(F&& f) {
  fused::set_enabled(true);
  torch::Tensor on = f();
  fused::set_enabled(false);
  torch::Tensor off = f();
  fused::set_enabled(true);
  return {on, off};
}

// Value and input gradients of op(inputs) . probe, with the kernels on and off.
template <typename F>
void check_grads(std::vector<torch::Tensor> inputs, F&& op, double tol_value, double tol_grad) {
  const auto run = [&](bool on) {
    fused::set_enabled(on);
    std::vector<torch::Tensor> leaves;
    for (auto& t : inputs) leaves.push_back(t.detach().clone().requires_grad_(t.is_floating_point()));
    torch::Tensor y = op(leaves);
    torch::manual_seed(99);
    const torch::Tensor probe = torch::randn(y.sizes(), torch::kFloat).to(y.scalar_type());
    (y * probe).to(torch::kFloat).sum().backward();
    std::vector<torch::Tensor> out = {y.detach()};
    for (auto& l : leaves) out.push_back(l.grad().defined() ? l.grad() : torch::Tensor());
    fused::set_enabled(true);
    return out;
  };
  const auto on = run(true), off = run(false);
  BOOST_TEST(max_diff(on[0], off[0]) <= tol_value * std::max(1.0, max_abs(off[0])));
  for (size_t i = 1; i < on.size(); ++i) {
    BOOST_REQUIRE_EQUAL(on[i].defined(), off[i].defined());
    if (!on[i].defined()) continue;
    BOOST_TEST(on[i].sizes() == off[i].sizes());
    BOOST_TEST(max_diff(on[i], off[i]) <= tol_grad * std::max(1.0, max_abs(off[i])), "gradient " << i);
  }
}
}  // namespace

BOOST_AUTO_TEST_SUITE(fused_ops)

BOOST_AUTO_TEST_CASE(rms_norm_matches_the_composite) {
  torch::manual_seed(1);
  for (const int64_t d : {64, 77, 768}) {
    const auto x = torch::randn({3, 5, d}) * 3;
    const auto w = torch::rand({d}) + 0.5;
    const auto [on, off] = both([&] { return fused::rms_norm(x, w, 1e-5); });
    BOOST_TEST(max_diff(on, off) < 1e-5, "d = " << d);
    // The normalisation itself: unit RMS rows times the weight.
    const auto rms = (on / w).pow(2).mean(-1).sqrt();
    BOOST_TEST(max_diff(rms, torch::ones_like(rms)) < 1e-4);
    check_grads({x, w}, [](auto& in) { return fused::rms_norm(in[0], in[1], 1e-5); }, 1e-5, 1e-4);
  }
}

BOOST_AUTO_TEST_CASE(rope_matches_the_composite_and_moves_the_heads) {
  torch::manual_seed(2);
  const int64_t B = 2, T = 7, H = 3, h = 8;
  const auto angle = torch::outer(torch::arange(T, torch::kFloat), torch::rand({h / 2}));
  const auto full = torch::cat({angle, angle}, -1);
  const auto cos = full.cos(), sin = full.sin();
  // As the block calls it: a projection output [B, T, H*h] viewed by heads (strided, not transposed).
  const auto proj = torch::randn({B, T, H * h});
  const auto t = proj.view({B, T, H, h});
  const auto [on, off] = both([&] { return fused::rope_heads(t, cos, sin); });
  BOOST_TEST(on.sizes() == torch::IntArrayRef({B, H, T, h}));
  BOOST_TEST(torch::equal(on, off));
  // Position 0 is the identity; rotation keeps each pair's norm.
  BOOST_TEST(max_diff(on.select(2, 0), t.select(1, 0)) < 1e-6);
  const auto pair_norm = [&](const torch::Tensor& x) {
    return (x.narrow(-1, 0, h / 2).pow(2) + x.narrow(-1, h / 2, h / 2).pow(2)).sqrt();
  };
  BOOST_TEST(max_diff(pair_norm(on), pair_norm(t.transpose(1, 2))) < 1e-5);
  // A non-contiguous slice of a wider projection (q of a fused qkv) works the same.
  const auto wide = torch::randn({B, T, 3 * H * h});
  const auto slice = wide.narrow(2, H * h, H * h).view({B, T, H, h});
  const auto [on2, off2] = both([&] { return fused::rope_heads(slice, cos, sin); });
  BOOST_TEST(torch::equal(on2, off2));
  check_grads({t}, [&](auto& in) { return fused::rope_heads(in[0], cos, sin); }, 0, 1e-6);
}

// The same ATen kernels on cache-sized chunks: equal, up to an ulp where a chunk's tail takes
// the scalar exp instead of the vectorised one.
BOOST_AUTO_TEST_CASE(swiglu_matches_the_composite) {
  torch::manual_seed(3);
  for (const int64_t m : {176, 2304, 20000}) {  // 20000: chunks of one row
    const auto g = torch::randn({9, m}) * 4, u = torch::randn({9, m});
    const auto [on, off] = both([&] { return fused::swiglu(g, u); });
    BOOST_TEST(max_diff(on, off) <= 1e-6 * max_abs(off), "m = " << m);
    check_grads({g, u}, [](auto& in) { return fused::swiglu(in[0], in[1]); }, 1e-6, 1e-6);
  }
}

BOOST_AUTO_TEST_CASE(a_model_gives_the_same_logits_and_gradients_with_and_without_the_kernels) {
  {
    model::LladaModel m(model::preset("tiny"), 5);
    torch::manual_seed(4);
    const auto ids = torch::randint(0, 256, {3, 19}, torch::kLong);
    auto mask = torch::ones({3, 19}, torch::kBool);
    mask[1].narrow(0, 0, 4).fill_(false);  // left padding: the masked attention path
    const auto run = [&](bool on) {
      fused::set_enabled(on);
      m->zero_grad();
      const auto logits = m->forward(ids, mask);
      logits.to(torch::kFloat).logsumexp(-1).mean().backward();
      std::vector<torch::Tensor> grads;
      for (const auto& p : m->parameters()) grads.push_back(p.grad().clone());
      fused::set_enabled(true);
      return std::make_pair(logits.detach(), grads);
    };
    const auto [l_on, g_on] = run(true);
    const auto [l_off, g_off] = run(false);
    BOOST_TEST(max_diff(l_on, l_off) <= 1e-5 * std::max(1.0, max_abs(l_off)));
    for (size_t i = 0; i < g_on.size(); ++i)
      BOOST_TEST(max_diff(g_on[i], g_off[i]) <= 1e-4 * std::max(1e-3, max_abs(g_off[i])),
                 "parameter " << i);
  }
}

BOOST_AUTO_TEST_SUITE_END()
