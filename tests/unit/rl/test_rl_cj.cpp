// CJ-GRPO on the tiny model (spec algorithms.md §2.3; quirk Q12): for the four rollout decodings of
// the reference trainers (semi-AR blocks, EOSER, ASS, EOSER+ASS) the per-step backward gives the
// gradients of one graph over all S steps; the old log-probs taken from the rollout equal a
// recomputation on the trajectory's states; a hand-built two-step trajectory's loss equals the
// formula (both normalisations); a step that unmasks nothing is finite and counted; forwards per
// call are counted.
#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <boost/test/unit_test.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "core/rng.hpp"
#include "decode/decode_plan.hpp"
#include "decode/denoiser.hpp"
#include "decode/generate.hpp"
#include "model/llada.hpp"
#include "rl/cj_grpo.hpp"
#include "rl/rollout.hpp"

using namespace mdrl;

namespace {

const model::LladaConfig& tiny_config() {
  static const model::LladaConfig c = model::preset("tiny");
  return c;
}

// A policy with LoRA adapters whose B factors are non-zero, dropout off (deterministic network).
model::LladaModel tiny_lora(uint64_t seed = 7) {
  model::LladaModel m(tiny_config(), seed);
  m->eval();
  model::LoraSettings l;
  l.rank = 4, l.alpha = 8, l.dropout = 0.0, l.targets = {"q_proj", "k_proj", "v_proj", "up_proj"};
  m->add_lora(l, 3);
  torch::NoGradGuard g;
  for (auto& p : m->trainable_parameters()) p.normal_(0, 0.2);
  return m;
}

struct Decoding {
  std::string name;
  decode::DecodeConfig cfg;
};

std::vector<Decoding> four_decodings() {
  decode::DecodeConfig base;
  base.gen_length = 16;
  base.temperature = 1.0;
  base.record_logp = true;
  std::vector<Decoding> out;
  auto semi = base;  // 2 blocks of 8, 4 steps each
  semi.schedule = decode::Schedule::SemiAr, semi.block_length = 8, semi.steps = 8;
  out.push_back({"semi-ar", semi});
  auto eoser = base;  // one block, linear gamma
  eoser.schedule = decode::Schedule::Diffusion, eoser.steps = 6, eoser.eoser = true, eoser.gamma_min = 0.01;
  out.push_back({"eoser", eoser});
  auto ass = base;  // 2 ASS blocks, 4 = log2 16 steps
  ass.schedule = decode::Schedule::Ass, ass.steps = 4, ass.block_num = 2;
  out.push_back({"ass", ass});
  auto ea = base;  // EOSER+ASS, power gamma
  ea.schedule = decode::Schedule::Ass, ea.steps = 4, ea.block_num = 1, ea.eoser = true, ea.gamma_min = 0.01;
  out.push_back({"eoser+ass", ea});
  return out;
}

// A rollout of 4 rows (2 groups of 2, the first prompt left-padded) decoded by `net` with `cfg`.
rl::RolloutBatch rollout_of(model::LladaModel net, const decode::DecodeConfig& cfg, uint64_t seed = 5) {
  torch::NoGradGuard ng;
  decode::LladaDenoiser den(net);
  const std::vector<std::vector<int64_t>> prompts = {{40, 41, 42}, {40, 41, 42}, {50, 51, 52, 53, 54}, {50, 51, 52, 53, 54}};
  const auto pb = decode::left_pad(prompts, tiny_config().pad_token_id);
  const auto plan = decode::make_plan(cfg);
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const auto r = decode::generate(den, pb, cfg, plan, gen);
  rl::RolloutBatch b;
  b.prompt_ids = pb.ids;
  b.prompt_mask = pb.mask;
  b.completion = r.completion.contiguous();
  b.completion_mask = rl::completion_mask(b.completion, tiny_config().eos_token_id);
  b.trace = r.trace;
  b.decode_steps = plan.num_steps();
  b.advantages = torch::tensor({0.6f, -0.6f, 0.3f, -0.3f});
  b.group = {0, 0, 1, 1};
  return b;
}

rl::GrpoConfig cj_cfg(int64_t mu, double beta) {
  rl::GrpoConfig c;
  c.num_iterations = mu;
  c.beta = beta;
  c.epsilon = 0.2;
  return c;
}

std::vector<torch::Tensor> grads_of(model::LladaModelImpl& m) {
  std::vector<torch::Tensor> g;
  for (auto& p : m.trainable_parameters()) g.push_back(p.grad().defined() ? p.grad().clone() : torch::zeros_like(p));
  return g;
}

void zero_grads(model::LladaModelImpl& m) {
  for (auto& p : m.trainable_parameters())
    if (p.grad().defined()) p.mutable_grad().zero_();
}

core::RngStream seeds() { return core::RngStream(1, 0, core::RngPurpose::Masking); }

}  // namespace

BOOST_AUTO_TEST_SUITE(rl_cj)

BOOST_AUTO_TEST_CASE(per_step_backward_equals_one_graph_over_all_steps) {
  for (const auto norm : {rl::CjLossNorm::Steps, rl::CjLossNorm::Tokens})
    for (const auto& d : four_decodings()) {
      auto net = tiny_lora();
      auto b = rollout_of(net, d.cfg);
      auto cfg = cj_cfg(2, 0.04);
      cfg.cj_loss_norm = norm;
      rl::CjGrpo algo(cfg);
      const rl::Policies nets{net.get(), nullptr, tiny_config().mask_token_id, false};
      auto s = seeds();
      algo.prepare(nets, b, s);
      {  // the policy moves away from the old one: ratios leave 1, some clip
        torch::NoGradGuard ng;
        for (auto& p : net->trainable_parameters()) p.add_(torch::randn_like(p) * 0.3);
      }
      zero_grads(*net);
      const auto st = algo.loss_and_backward(nets, b, 1, 0, 0.5);
      const auto per_step = grads_of(*net);

      // The reference's formulation: every step's graph alive, one backward of the sum.
      zero_grads(*net);
      const auto attn = torch::cat({b.prompt_mask, torch::ones_like(b.completion).to(torch::kBool)}, 1);
      const auto unmasked = rl::cj_unmasked_per_step(b);
      torch::Tensor total = torch::zeros({});
      for (int64_t i = 0; i < b.decode_steps; ++i) {
        const auto lp = rl::cj_step_logprobs(*net, b, i, attn, nets.mask_id);
        total = total + rl::cj_step_objective(cfg, b, i, unmasked, lp, b.old_logp, b.ref_logp).loss;
      }
      (total * 0.5).backward();
      const auto one_graph = grads_of(*net);

      BOOST_TEST(std::abs(st.loss - total.item<double>()) <= 1e-6 * std::max(1.0, std::abs(st.loss)), d.name);
      double gmax = 0, diff = 0;
      for (size_t k = 0; k < per_step.size(); ++k) {
        gmax = std::max(gmax, one_graph[k].abs().max().item<double>());
        diff = std::max(diff, (one_graph[k] - per_step[k]).abs().max().item<double>());
      }
      BOOST_TEST(gmax > 1e-4, d.name << ": gradients vanish");  // not a vacuous comparison
      BOOST_TEST(diff <= 1e-5 * std::max(1.0, gmax), d.name << ": max |per-step - one graph| = " << diff << " of " << gmax);
      BOOST_TEST(st.kl > 0.0, d.name);
      BOOST_TEST(st.empty_steps == 0.0, d.name);
      BOOST_TEST(st.tokens == static_cast<double>(b.trace.step_map.ge(0).sum().item<int64_t>()), d.name);
    }
}

BOOST_AUTO_TEST_CASE(old_logprobs_from_the_rollout_equal_a_recomputation) {
  for (const auto& d : four_decodings()) {
    auto net = tiny_lora();
    auto b = rollout_of(net, d.cfg);
    BOOST_REQUIRE(b.trace.logp.defined());
    const auto attn = torch::cat({b.prompt_mask, torch::ones_like(b.completion).to(torch::kBool)}, 1);
    const auto recomputed = rl::cj_trajectory_logprobs(*net, b, attn, tiny_config().mask_token_id);  // [B, L]
    const auto done = b.trace.step_map.ge(0);
    BOOST_REQUIRE(done.all().item<bool>());  // every position was unmasked along the trajectory
    const double diff = (recomputed - b.trace.logp).abs().max().item<double>();
    BOOST_TEST(diff <= 2e-5, d.name << ": max |rollout - recomputed| = " << diff);
    BOOST_TEST(recomputed.lt(0).all().item<bool>(), d.name);

    // prepare() takes them (no forward) with dropout-free rollouts; recomputes when told to.
    rl::CjGrpo from_rollout(cj_cfg(2, 0.0));
    const rl::Policies nets{net.get(), nullptr, tiny_config().mask_token_id, false};
    auto s = seeds();
    const auto f0 = net->forward_count();
    from_rollout.prepare(nets, b, s);
    BOOST_TEST(net->forward_count() == f0, d.name);
    BOOST_TEST(torch::equal(b.old_logp, b.trace.logp), d.name);
    auto cfg = cj_cfg(2, 0.04);
    cfg.cj_old_logp = rl::CjOldLogp::Recompute;
    rl::CjGrpo recompute(cfg);
    recompute.prepare(nets, b, s);
    BOOST_TEST(net->forward_count() == f0 + 2 * b.decode_steps, d.name);  // old S + ref S
    BOOST_TEST((b.old_logp - recomputed).abs().max().item<double>() == 0.0, d.name);
    // First iteration: ratio exactly 1, so no token is clipped.
    const auto st = recompute.loss_and_backward(nets, b, 0, 0, 1.0);
    BOOST_TEST(st.clip_ratio == 0.0, d.name);
    BOOST_TEST(net->forward_count() == f0 + 3 * b.decode_steps, d.name);  // train S
  }
}

// One row, P = 3, L = 3: step 0 unmasks position 0, step 1 positions 1 and 2 (and, with S = 3, a
// middle step that unmasks nothing). Expected values from full-vocabulary forwards here.
BOOST_AUTO_TEST_CASE(hand_built_trajectory_loss_equals_the_formula) {
  auto net = tiny_lora();
  const int64_t M = tiny_config().mask_token_id, P = 3, L = 3;
  const double A = 0.7, eps = 0.2;
  for (const int64_t S : {2, 3}) {
    rl::RolloutBatch b;
    b.prompt_ids = torch::tensor({{60, 61, 62}}, torch::kLong);
    b.prompt_mask = torch::ones({1, P}, torch::kBool);
    b.completion = torch::tensor({{70, 71, 72}}, torch::kLong);
    b.completion_mask = torch::ones({1, L});
    b.trace.step_map = torch::tensor({{int64_t{0}, S - 1, S - 1}}, torch::kLong);
    b.decode_steps = S;
    b.advantages = torch::tensor({static_cast<float>(A)});
    b.old_logp = torch::tensor({{-5.3f, -5.6f, -5.4f}});
    b.group = {0};

    // lp of each token from a forward on the state before its step.
    torch::Tensor x0 = torch::tensor({{60, 61, 62}}, torch::kLong);
    x0 = torch::cat({x0, torch::full({1, L}, M, torch::kLong)}, 1);
    auto x1 = x0.clone();
    x1[0][P] = 70;
    double lp[3];
    {
      torch::NoGradGuard ng;
      const auto l0 = torch::log_softmax(net->forward(x0).to(torch::kFloat), -1);
      const auto l1 = torch::log_softmax(net->forward(x1).to(torch::kFloat), -1);
      lp[0] = l0[0][P][70].item<double>();
      lp[1] = l1[0][P + 1][71].item<double>();
      lp[2] = l1[0][P + 2][72].item<double>();
    }
    const double old[3] = {-5.3, -5.6, -5.4};
    double tok[3];
    for (int k = 0; k < 3; ++k) {
      const double rho = std::exp(lp[k] - old[k]);
      tok[k] = -std::min(rho * A, std::clamp(rho, 1 - eps, 1 + eps) * A);
    }
    for (const auto norm : {rl::CjLossNorm::Steps, rl::CjLossNorm::Tokens}) {
      auto cfg = cj_cfg(2, 0.0);
      cfg.epsilon = eps;
      cfg.cj_loss_norm = norm;
      rl::CjGrpo algo(cfg);
      const rl::Policies nets{net.get(), nullptr, M, false};
      zero_grads(*net);
      const auto f0 = net->forward_count();
      const auto st = algo.loss_and_backward(nets, b, 1, 0, 1.0);
      const double expected = norm == rl::CjLossNorm::Steps ? (tok[0] + (tok[1] + tok[2]) / 2) / static_cast<double>(S)
                                                            : (tok[0] + tok[1] + tok[2]) / 3;
      BOOST_TEST(std::isfinite(st.loss));
      BOOST_TEST(std::abs(st.loss - expected) <= 1e-6, "S " << S << ": " << st.loss << " vs " << expected);
      BOOST_TEST(st.empty_steps == static_cast<double>(S - 2));
      BOOST_TEST(st.tokens == 3.0);
      BOOST_TEST(net->forward_count() == f0 + 2);  // the empty step runs no forward
      double g = 0;
      for (const auto& t : grads_of(*net)) g += t.abs().sum().item<double>();
      BOOST_TEST(std::isfinite(g));
      BOOST_TEST(g > 0.0);
    }
  }
}

BOOST_AUTO_TEST_CASE(mode_dispatch_builds_cj_grpo) {
  const auto a = rl::make_algorithm("cj-grpo", cj_cfg(2, 0.0), 1);
  BOOST_TEST(a->name() == "cj-grpo");
  BOOST_TEST(a->wants_rollout_logp());
  auto cfg = cj_cfg(2, 0.0);
  cfg.rollout_dropout = true;  // train-mode rollouts (Q17): old log-probs must be recomputed
  BOOST_TEST(!rl::make_algorithm("cj-grpo", cfg, 1)->wants_rollout_logp());
  BOOST_TEST(!rl::make_algorithm("cj-grpo", cj_cfg(1, 0.0), 1)->wants_rollout_logp());  // mu = 1: no old
}

BOOST_AUTO_TEST_SUITE_END()
