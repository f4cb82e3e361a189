// diffu-GRPO and one-step GRPO on the tiny model (spec algorithms.md §2.1, §2.2; Q8, Q9, Q10): the
// perturbed inputs (prompt masked at p_mask from a private per-seed generator, pads kept, completion
// all mask), old/ref log-probs against direct recomputations through model::token_logprobs and
// full-logit log_softmax, the first-iteration ratio of exactly 1, beta = 0 and mu = 1, the LoRA
// reference (adapters disabled), the reference's iteration-index pattern, the loss scale, and the
// mode dispatch.
#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <boost/test/unit_test.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "model/llada.hpp"
#include "rl/diffu_grpo.hpp"
#include "rl/grpo_algorithm.hpp"
#include "rl/grpo_objective.hpp"
#include "rl/one_step_grpo.hpp"

using namespace mdrl;

namespace {

const model::LladaConfig& tiny_config() {
  static const model::LladaConfig c = model::preset("tiny");
  return c;
}

model::LladaModel tiny(uint64_t seed = 7) {
  model::LladaModel m(tiny_config(), seed);
  m->eval();  // no dropout: old and current log-probs agree exactly
  return m;
}

// A policy with LoRA adapters whose B factors are non-zero (a "trained" adapter), dropout off.
model::LladaModel tiny_lora(uint64_t seed = 7) {
  auto m = tiny(seed);
  model::LoraSettings l;
  l.rank = 4, l.alpha = 8, l.dropout = 0.0, l.targets = {"q_proj", "k_proj", "v_proj", "up_proj"};
  m->add_lora(l, 3);
  torch::NoGradGuard g;
  for (auto& p : m->trainable_parameters()) p.normal_(0, 0.2);
  return m;
}

// `groups` groups of 2 rows (consecutive rows share their prompt), prompt length P with the
// first group left-padded by 2, completions of length L with an EOS cut in some rows.
rl::RolloutBatch make_batch(int64_t groups = 2, int64_t P = 5, int64_t L = 8, uint64_t seed = 11) {
  const auto& c = tiny_config();
  const int64_t B = 2 * groups;
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  rl::RolloutBatch b;
  auto prompts = torch::randint(0, 256, {groups, P}, gen, torch::kLong);
  auto pmask = torch::ones({groups, P}, torch::kBool);
  if (P > 2) {
    prompts[0].narrow(0, 0, 2).fill_(c.pad_token_id);
    pmask[0].narrow(0, 0, 2).fill_(false);
  }
  b.prompt_ids = prompts.repeat_interleave(2, 0);  // [B, P]
  b.prompt_mask = pmask.repeat_interleave(2, 0);   // [B, P]
  b.completion = torch::randint(0, 256, {B, L}, gen, torch::kLong);
  b.completion_mask = torch::ones({B, L}, torch::kFloat);
  for (int64_t r = 0; r < B; r += 2) {  // even rows end early with EOS, odd rows run to L
    const int64_t eos = (3 + r) % L;
    b.completion[r][eos] = c.eos_token_id;
    b.completion[r].narrow(0, eos + 1, L - eos - 1).fill_(c.eos_token_id);
    b.completion_mask[r].narrow(0, eos + 1, L - eos - 1).fill_(0.0f);
  }
  std::vector<float> adv;
  for (int64_t g = 0; g < groups; ++g) adv.insert(adv.end(), {0.5f + 0.1f * g, -0.5f - 0.1f * g});
  b.advantages = torch::tensor(adv);
  for (int64_t r = 0; r < B; ++r) b.group.push_back(r / 2);
  return b;
}

rl::GrpoConfig grpo_cfg(int64_t mu, double beta) {
  rl::GrpoConfig cfg;
  cfg.num_iterations = mu;
  cfg.beta = beta;
  return cfg;
}

core::RngStream mask_stream() {
  return core::RngStream(5, 0, core::RngPurpose::Masking, core::rng_block::kPromptMask);
}

// log p(completion[b, j] | input[b]) at P + j, computed here from hidden() and token_logprobs.
torch::Tensor direct_logp(model::LladaModelImpl& m, const torch::Tensor& input, const rl::RolloutBatch& b) {
  torch::NoGradGuard g;
  const int64_t B = input.size(0), T = input.size(1), L = b.completion.size(1), P = T - L;
  const auto attn = torch::cat({b.prompt_mask, torch::ones({B, L}, torch::kBool)}, 1);
  const auto hidden = m.hidden(input, attn);
  auto targets = input.clone();
  targets.narrow(1, P, L).copy_(b.completion);
  std::vector<int64_t> flat;
  for (int64_t r = 0; r < B; ++r)
    for (int64_t j = 0; j < L; ++j) flat.push_back(r * T + P + j);
  return model::token_logprobs(m, hidden, torch::tensor(flat), targets).view({B, L});
}

// The same from the full [B, T, V] logits: log_softmax, then gather.
torch::Tensor full_logits_logp(model::LladaModelImpl& m, const torch::Tensor& input, const rl::RolloutBatch& b) {
  torch::NoGradGuard g;
  const int64_t B = input.size(0), T = input.size(1), L = b.completion.size(1), P = T - L;
  const auto attn = torch::cat({b.prompt_mask, torch::ones({B, L}, torch::kBool)}, 1);
  const auto logp = torch::log_softmax(m.forward(input, attn).to(torch::kFloat), -1).narrow(1, P, L);  // [B, L, V]
  return logp.gather(2, b.completion.unsqueeze(2)).squeeze(2);
}

rl::ObjectiveResult expected_objective(const rl::GrpoConfig& cfg, const rl::RolloutBatch& b, const torch::Tensor& cur,
                                       const torch::Tensor& old, const torch::Tensor& ref) {
  rl::ObjectiveInputs in;
  in.logp = cur;
  in.old_logp = old;
  in.ref_logp = ref;
  in.advantages = b.advantages;
  in.mask = b.completion_mask;
  return rl::grpo_objective(in, rl::objective_settings(cfg));
}

void zero_grads(model::LladaModelImpl& m) {
  for (auto& p : m.parameters())
    if (p.grad().defined()) p.mutable_grad() = torch::Tensor();
}

std::vector<torch::Tensor> grads(model::LladaModelImpl& m) {
  std::vector<torch::Tensor> g;
  for (auto& p : m.trainable_parameters()) g.push_back(p.grad().defined() ? p.grad().clone() : torch::Tensor());
  return g;
}

double max_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

bool has(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(rl_algorithms)

BOOST_AUTO_TEST_CASE(perturbed_input_masks_the_prompt_only_where_real) {
  const auto& c = tiny_config();
  const auto b = make_batch(/*groups=*/32, /*P=*/100, /*L=*/8);
  const int64_t P = 100, L = 8;
  const double p = 0.15;
  torch::manual_seed(3);
  const auto before = torch::rand({4});
  torch::manual_seed(3);
  const auto x = rl::perturbed_input(b, 1234, p, c.mask_token_id);
  BOOST_TEST(torch::equal(torch::rand({4}), before));  // no global generator touched (Q8)
  BOOST_TEST(x.sizes() == torch::IntArrayRef({64, P + L}));
  BOOST_TEST(x.narrow(1, P, L).eq(c.mask_token_id).all().item<bool>());  // completion all mask
  const auto prompt = x.narrow(1, 0, P);
  const auto real = b.prompt_mask;
  BOOST_TEST(torch::equal(prompt.masked_select(~real), b.prompt_ids.masked_select(~real)));  // pads kept
  const auto masked = prompt.eq(c.mask_token_id).logical_and(real);
  const double rate = masked.sum().item<double>() / real.sum().item<double>();
  BOOST_TEST(std::abs(rate - p) < 0.02, "masked share " << rate);
  BOOST_TEST(torch::equal(prompt.masked_select(real & ~masked), b.prompt_ids.masked_select(real & ~masked)));
  BOOST_TEST(torch::equal(rl::perturbed_input(b, 1234, p, c.mask_token_id), x));  // same seed, same mask
  BOOST_TEST(!torch::equal(rl::perturbed_input(b, 1235, p, c.mask_token_id), x));
  BOOST_TEST(torch::equal(rl::perturbed_input(b, 9, 0.0, c.mask_token_id), rl::one_step_input(b, c.mask_token_id)));
  const auto all = rl::perturbed_input(b, 9, 1.0, c.mask_token_id).narrow(1, 0, P);
  BOOST_TEST(
      torch::equal(all.masked_select(real), torch::full({real.sum().item<int64_t>()}, c.mask_token_id, torch::kLong)));
}

// Scoring attends exactly what the rollouts attended: the real prompt tokens and the completion
// by default; everything with decode.attention_mask = false (Q15, Policies::attend_padding).
BOOST_AUTO_TEST_CASE(scoring_attention_follows_the_rollouts) {
  const auto b = make_batch();
  rl::Policies nets;
  const auto masked = rl::scoring_attention_mask(b, nets);
  BOOST_TEST(torch::equal(masked.narrow(1, 0, b.prompt_mask.size(1)), b.prompt_mask.to(torch::kBool)));
  BOOST_TEST(masked.narrow(1, b.prompt_mask.size(1), b.completion.size(1)).all().item<bool>());
  BOOST_TEST(!masked.all().item<bool>());  // the batch has left padding
  nets.attend_padding = true;
  BOOST_TEST(rl::scoring_attention_mask(b, nets).all().item<bool>());
}

BOOST_AUTO_TEST_CASE(diffu_prepare_scores_every_seed_on_its_own_mask) {
  const auto& c = tiny_config();
  auto policy = tiny(7), reference = tiny(8);
  auto b = make_batch();
  auto cfg = grpo_cfg(3, 0.04);
  cfg.p_mask_prompt = 0.5;
  rl::DiffuGrpo algo(cfg, 1);
  rl::Policies nets{policy.get(), reference.get(), c.mask_token_id};
  auto seeds = mask_stream();
  torch::manual_seed(4);
  const auto before = torch::rand({4});
  torch::manual_seed(4);
  algo.prepare(nets, b, seeds);
  BOOST_TEST(torch::equal(torch::rand({4}), before));  // no global generator touched
  auto expect_seeds = mask_stream();
  BOOST_REQUIRE(b.mask_seeds.size() == 3u);
  for (uint64_t s : b.mask_seeds) BOOST_TEST(s == expect_seeds.next_u64());
  BOOST_TEST(b.old_logp.sizes() == torch::IntArrayRef({3, 4, 8}));
  BOOST_TEST(b.ref_logp.sizes() == torch::IntArrayRef({3, 4, 8}));
  BOOST_TEST(b.old_logp.scalar_type() == torch::kFloat);
  BOOST_TEST(b.old_logp.device().is_cpu());
  for (int64_t k = 0; k < 3; ++k) {
    // Old, ref and current all see perturbed_input(seed k): the same mask.
    const auto x = rl::perturbed_input(b, b.mask_seeds[k], cfg.p_mask_prompt, c.mask_token_id);
    BOOST_TEST(torch::equal(b.old_logp[k], direct_logp(*policy, x, b)));
    BOOST_TEST(torch::equal(b.ref_logp[k], direct_logp(*reference, x, b)));
    BOOST_TEST(torch::equal(algo.input_for(b, k, 0, c.mask_token_id), x));
  }
  BOOST_TEST(max_diff(b.old_logp[0], b.old_logp[1]) > 1e-4);  // different seeds, different masks

  cfg.random_masking = false;  // the reference's fixed seed 42 for every iteration
  rl::DiffuGrpo fixed(cfg, 1);
  fixed.prepare(nets, b, seeds);
  for (uint64_t s : b.mask_seeds) BOOST_TEST(s == rl::kFixedMaskSeed);
  BOOST_TEST(torch::equal(b.old_logp[0], b.old_logp[2]));
}

BOOST_AUTO_TEST_CASE(diffu_first_iteration_ratio_is_exactly_one) {
  const auto& c = tiny_config();
  auto policy = tiny(7), reference = tiny(8);
  auto b = make_batch();
  const auto cfg = grpo_cfg(4, 0.04);
  rl::DiffuGrpo algo(cfg, 2);
  rl::Policies nets{policy.get(), reference.get(), c.mask_token_id};
  auto seeds = mask_stream();
  algo.prepare(nets, b, seeds);
  const int64_t idx = algo.mask_index(0, 1);
  BOOST_TEST(idx == 0);  // sequential
  const auto cur =
      direct_logp(*policy, rl::perturbed_input(b, b.mask_seeds[idx], cfg.p_mask_prompt, c.mask_token_id), b);
  BOOST_TEST(torch::equal(b.old_logp[idx], cur));  // bit for bit
  const auto s = algo.loss_and_backward(nets, b, 0, 1, 1.0);
  const auto e = expected_objective(cfg, b, cur, cur, b.ref_logp[idx]);
  BOOST_TEST(s.clip_ratio == 0.0);
  BOOST_TEST(std::abs(s.loss - e.loss.item<double>()) < 1e-6, s.loss << " vs " << e.loss.item<double>());
  BOOST_TEST(std::abs(s.kl - e.kl.item<double>()) < 1e-7);
  BOOST_TEST(s.kl > 0.0);
  BOOST_TEST(s.tokens == b.completion_mask.sum().item<double>());
}

BOOST_AUTO_TEST_CASE(one_step_scores_clean_prompt_and_all_masks) {
  const auto& c = tiny_config();
  auto policy = tiny(7), reference = tiny(8);
  auto b = make_batch();
  const auto cfg = grpo_cfg(2, 0.04);
  rl::OneStepGrpo algo(cfg);
  rl::Policies nets{policy.get(), reference.get(), c.mask_token_id};
  auto seeds = mask_stream();
  const auto seeds_before = seeds.state();
  algo.prepare(nets, b, seeds);
  BOOST_TEST((seeds.state() == seeds_before));  // no randomness
  BOOST_TEST(b.mask_seeds.empty());
  const auto x = rl::one_step_input(b, c.mask_token_id);
  BOOST_TEST(torch::equal(x.narrow(1, 0, 5), b.prompt_ids));
  BOOST_TEST(x.narrow(1, 5, 8).eq(c.mask_token_id).all().item<bool>());
  BOOST_TEST(b.old_logp.sizes() == torch::IntArrayRef({4, 8}));
  BOOST_TEST(max_diff(b.old_logp, full_logits_logp(*policy, x, b)) < 1e-5);
  BOOST_TEST(max_diff(b.ref_logp, full_logits_logp(*reference, x, b)) < 1e-5);
  BOOST_TEST(torch::equal(b.old_logp, direct_logp(*policy, x, b)));
  const auto s = algo.loss_and_backward(nets, b, 0, 0, 1.0);
  const auto e = expected_objective(cfg, b, b.old_logp, b.old_logp, b.ref_logp);
  BOOST_TEST(s.clip_ratio == 0.0);
  BOOST_TEST(std::abs(s.loss - e.loss.item<double>()) < 1e-6);
  BOOST_TEST(std::abs(s.kl - e.kl.item<double>()) < 1e-7);
}

BOOST_AUTO_TEST_CASE(beta_zero_and_single_iteration_train) {
  const auto& c = tiny_config();
  struct Setting {
    int64_t mu;
    double beta;
  };
  for (const std::string mode : {"diffu-grpo", "one-step-grpo"}) {
    for (const Setting st : {Setting{3, 0.0}, Setting{1, 0.04}, Setting{1, 0.0}}) {  // Q10, Q9, both
      BOOST_TEST_CONTEXT(mode << " mu " << st.mu << " beta " << st.beta) {
        auto policy = tiny(7), reference = tiny(8);
        auto b = make_batch();
        const auto cfg = grpo_cfg(st.mu, st.beta);
        auto algo = rl::make_algorithm(mode, cfg, 1);
        rl::Policies nets{policy.get(), st.beta > 0 ? reference.get() : nullptr, c.mask_token_id};
        auto seeds = mask_stream();
        algo->prepare(nets, b, seeds);
        BOOST_TEST(b.old_logp.defined() == (st.mu > 1));
        BOOST_TEST(b.ref_logp.defined() == (st.beta > 0));
        const auto s = algo->loss_and_backward(nets, b, 0, 0, 1.0);
        BOOST_TEST(std::isfinite(s.loss));
        BOOST_TEST(s.clip_ratio == 0.0);
        BOOST_TEST((st.beta > 0 ? s.kl > 0 : s.kl == 0));
        double norm = 0;
        for (const auto& g : grads(*policy)) {
          BOOST_REQUIRE(g.defined());
          BOOST_TEST(torch::isfinite(g).all().item<bool>());
          norm += g.pow(2).sum().item<double>();
        }
        BOOST_TEST(norm > 0.0);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(lora_reference_is_the_base_model) {
  const auto& c = tiny_config();
  for (const std::string mode : {"diffu-grpo", "one-step-grpo"}) {
    BOOST_TEST_CONTEXT(mode) {
      auto policy = tiny_lora(7), base = tiny(7);
      auto b = make_batch();
      const auto cfg = grpo_cfg(2, 0.04);
      auto algo = rl::make_algorithm(mode, cfg, 1);
      rl::Policies nets{policy.get(), nullptr, c.mask_token_id};
      auto seeds = mask_stream();
      algo->prepare(nets, b, seeds);
      BOOST_TEST(policy->adapters_enabled());  // restored after the reference forward
      const auto x = mode == "diffu-grpo" ? rl::perturbed_input(b, b.mask_seeds[0], cfg.p_mask_prompt, c.mask_token_id)
                                          : rl::one_step_input(b, c.mask_token_id);
      const auto ref = mode == "diffu-grpo" ? b.ref_logp[0] : b.ref_logp;
      const auto old = mode == "diffu-grpo" ? b.old_logp[0] : b.old_logp;
      torch::Tensor disabled;
      {
        model::AdaptersDisabled off(*policy);
        disabled = direct_logp(*policy, x, b);
      }
      BOOST_TEST(torch::equal(ref, disabled));
      BOOST_TEST(max_diff(ref, direct_logp(*base, x, b)) < 1e-5);  // the weights without LoRA
      BOOST_TEST(torch::equal(old, direct_logp(*policy, x, b)));
      BOOST_TEST(max_diff(ref, old) > 1e-3);  // the adapters change the policy
      const auto s = algo->loss_and_backward(nets, b, 0, 0, 1.0);
      BOOST_TEST(s.kl > 0.0);
      for (const auto& g : grads(*policy)) BOOST_TEST(torch::isfinite(g).all().item<bool>());
    }
  }
}

BOOST_AUTO_TEST_CASE(reference_iteration_index_pattern) {
  const auto& c = tiny_config();
  auto policy = tiny(7), reference = tiny(8);
  auto b = make_batch();
  auto cfg = grpo_cfg(4, 0.04);
  cfg.p_mask_prompt = 0.5;
  cfg.iteration_index = rl::IterationIndex::Reference;
  const int64_t GA = 2;
  rl::DiffuGrpo algo(cfg, GA);
  rl::Policies nets{policy.get(), reference.get(), c.mask_token_id};
  auto seeds = mask_stream();
  algo.prepare(nets, b, seeds);
  std::vector<torch::Tensor> cur;  // the current log-probs of each mask
  for (int64_t k = 0; k < 4; ++k)
    cur.push_back(direct_logp(*policy, rl::perturbed_input(b, b.mask_seeds[k], cfg.p_mask_prompt, c.mask_token_id), b));
  for (int64_t k = 1; k < 4; ++k) BOOST_TEST(max_diff(cur[0], cur[k]) > 1e-4);  // distinct masks
  std::vector<int64_t> used;
  for (int64_t reuse = 0; reuse < 4; ++reuse) {
    for (int64_t micro = 0; micro < GA; ++micro) {
      const int64_t want = (reuse * GA + micro + 1) % 4;
      BOOST_TEST(algo.mask_index(reuse, micro) == want);
      const auto x = rl::perturbed_input(b, b.mask_seeds[want], cfg.p_mask_prompt, c.mask_token_id);
      BOOST_TEST(torch::equal(algo.input_for(b, reuse, micro, c.mask_token_id), x));
      // The forward really used mask `want`: ratio 1 against old[want], KL against ref[want].
      const auto s = algo.loss_and_backward(nets, b, reuse, micro, 1.0);
      const auto e = expected_objective(cfg, b, cur[want], b.old_logp[want], b.ref_logp[want]);
      BOOST_TEST(s.clip_ratio == 0.0);
      BOOST_TEST(std::abs(s.loss - e.loss.item<double>()) < 1e-6);
      BOOST_TEST(std::abs(s.kl - e.kl.item<double>()) < 1e-7);
      const int64_t other = (want + 1) % 4;
      const auto wrong = expected_objective(cfg, b, cur[other], b.old_logp[want], b.ref_logp[want]);
      BOOST_TEST(std::abs(s.kl - wrong.kl.item<double>()) > 1e-6);
      used.push_back(want);
    }
  }
  BOOST_TEST(used == std::vector<int64_t>({1, 2, 3, 0, 1, 2, 3, 0}));
  cfg.iteration_index = rl::IterationIndex::Sequential;
  rl::DiffuGrpo seq(cfg, GA);
  for (int64_t reuse = 0; reuse < 4; ++reuse) BOOST_TEST(seq.mask_index(reuse, 1) == reuse);
}

BOOST_AUTO_TEST_CASE(loss_scale_scales_the_gradient_exactly) {
  const auto& c = tiny_config();
  for (const std::string mode : {"diffu-grpo", "one-step-grpo"}) {
    BOOST_TEST_CONTEXT(mode) {
      auto policy = tiny(7), reference = tiny(8);
      auto b = make_batch();
      const auto cfg = grpo_cfg(2, 0.04);
      auto algo = rl::make_algorithm(mode, cfg, 1);
      rl::Policies nets{policy.get(), reference.get(), c.mask_token_id};
      auto seeds = mask_stream();
      algo->prepare(nets, b, seeds);
      {  // move old away from current so the ratio and clipping terms carry gradient too
        torch::NoGradGuard g;
        b.old_logp.add_(1.0 * torch::randn(b.old_logp.sizes(), at::make_generator<at::CPUGeneratorImpl>(1)));
      }
      zero_grads(*policy);
      const auto s1 = algo->loss_and_backward(nets, b, 1, 0, 1.0);
      const auto g1 = grads(*policy);
      zero_grads(*policy);
      const auto s05 = algo->loss_and_backward(nets, b, 1, 0, 0.5);
      const auto g05 = grads(*policy);
      BOOST_TEST(s1.loss == s05.loss);  // the stats are before the scale
      BOOST_TEST(s1.clip_ratio > 0.0);
      BOOST_REQUIRE(g1.size() == g05.size());
      for (size_t i = 0; i < g1.size(); ++i) BOOST_TEST(torch::equal(g05[i] * 2, g1[i]));
    }
  }
}

// The model on a GPU, the rollout on the CPU: the algorithms move what they need and hand back CPU
// log-probs that agree with the CPU model's (skipped without CUDA).
BOOST_AUTO_TEST_CASE(model_on_cuda_batch_on_cpu) {
  if (!torch::cuda::is_available()) {
    BOOST_TEST_MESSAGE("no CUDA device: skipped");
    return;
  }
  const auto& c = tiny_config();
  for (const std::string mode : {"diffu-grpo", "one-step-grpo"}) {
    BOOST_TEST_CONTEXT(mode) {
      auto cpu = tiny(7), gpu = tiny(7), ref = tiny(8);
      gpu->to(torch::kCUDA);
      ref->to(torch::kCUDA);
      auto cpu_ref = tiny(8);
      const auto cfg = grpo_cfg(2, 0.04);
      auto b_cpu = make_batch(), b_gpu = make_batch();
      auto algo = rl::make_algorithm(mode, cfg, 1);
      auto s1 = mask_stream(), s2 = mask_stream();
      rl::Policies on_cpu{cpu.get(), cpu_ref.get(), c.mask_token_id}, on_gpu{gpu.get(), ref.get(), c.mask_token_id};
      algo->prepare(on_cpu, b_cpu, s1);
      algo->prepare(on_gpu, b_gpu, s2);
      BOOST_TEST(b_gpu.old_logp.device().is_cpu());
      BOOST_TEST(max_diff(b_gpu.old_logp, b_cpu.old_logp) < 1e-4);
      BOOST_TEST(max_diff(b_gpu.ref_logp, b_cpu.ref_logp) < 1e-4);
      const auto sc = algo->loss_and_backward(on_cpu, b_cpu, 1, 0, 1.0);
      const auto sg = algo->loss_and_backward(on_gpu, b_gpu, 1, 0, 1.0);
      BOOST_TEST(std::abs(sc.loss - sg.loss) < 1e-4);
      BOOST_TEST(std::abs(sc.kl - sg.kl) < 1e-5);
      const auto gc = grads(*cpu), gg = grads(*gpu);
      for (size_t i = 0; i < gc.size(); ++i) BOOST_TEST(max_diff(gg[i].cpu(), gc[i]) < 1e-3);
    }
  }
}

BOOST_AUTO_TEST_CASE(make_algorithm_by_mode) {
  const auto cfg = grpo_cfg(2, 0.04);
  BOOST_TEST(rl::make_algorithm("diffu-grpo", cfg, 2)->name() == "diffu-grpo");
  BOOST_TEST(rl::make_algorithm("one-step-grpo", cfg, 2)->name() == "one-step-grpo");
  BOOST_TEST(rl::make_algorithm("cj-grpo", cfg, 2)->name() == "cj-grpo");
  try {
    rl::make_algorithm("grpo", cfg, 2);
    BOOST_ERROR("grpo made");
  } catch (const core::ConfigError& e) {
    BOOST_TEST(has(e.what(), "'grpo'"), e.what());
    BOOST_TEST(has(e.what(), "diffu-grpo, one-step-grpo, cj-grpo"), e.what());
  }
}

BOOST_AUTO_TEST_CASE(full_fine_tuning_with_beta_needs_a_reference) {
  const auto& c = tiny_config();
  auto policy = tiny(7);
  auto b = make_batch();
  rl::DiffuGrpo algo(grpo_cfg(2, 0.04), 1);
  rl::Policies nets{policy.get(), nullptr, c.mask_token_id};
  auto seeds = mask_stream();
  BOOST_CHECK_THROW(algo.prepare(nets, b, seeds), core::InternalError);
  rl::DiffuGrpo unprepared(grpo_cfg(2, 0.0), 1);
  BOOST_CHECK_THROW(unprepared.loss_and_backward(nets, b, 0, 0, 1.0), core::InternalError);
}

BOOST_AUTO_TEST_SUITE_END()
