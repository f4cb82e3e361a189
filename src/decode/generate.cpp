// The generate loop (spec algorithms.md §1.1-§1.8; quirks Q13, Q15).
#include "decode/generate.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>

#include "core/error.hpp"
#include "decode/unmask_step.hpp"

namespace mdrl::decode {
namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

}  // namespace

PromptBatch left_pad(const std::vector<std::vector<int64_t>>& prompts, int64_t pad_id, torch::Device device) {
  size_t P = 0;
  for (const auto& p : prompts) P = std::max(P, p.size());
  const auto B = static_cast<int64_t>(prompts.size());
  auto ids = torch::full({B, static_cast<int64_t>(P)}, pad_id, torch::kLong);
  auto mask = torch::zeros({B, static_cast<int64_t>(P)}, torch::kBool);
  auto a = ids.accessor<int64_t, 2>();
  auto m = mask.accessor<bool, 2>();
  for (int64_t b = 0; b < B; ++b) {
    const auto& p = prompts[static_cast<size_t>(b)];
    const size_t off = P - p.size();
    for (size_t j = 0; j < p.size(); ++j) {
      a[b][static_cast<int64_t>(off + j)] = p[j];
      m[b][static_cast<int64_t>(off + j)] = true;
    }
  }
  return {ids.to(device), mask.to(device)};
}

std::vector<std::vector<int32_t>> completion_ids(const torch::Tensor& completion, const std::vector<int64_t>& eos) {
  const auto c = completion.to(torch::kCPU, torch::kLong).contiguous();
  const auto a = c.accessor<int64_t, 2>();
  std::vector<std::vector<int32_t>> out(static_cast<size_t>(c.size(0)));
  for (int64_t b = 0; b < c.size(0); ++b)
    for (int64_t j = 0; j < c.size(1); ++j) {
      if (std::find(eos.begin(), eos.end(), a[b][j]) != eos.end()) break;
      out[static_cast<size_t>(b)].push_back(static_cast<int32_t>(a[b][j]));
    }
  return out;
}

at::Generator sampling_generator(core::RngStream& sampling, torch::Device device) {
  const uint64_t seed = sampling.derive_seed();
  at::Generator gen = device.is_cpu() ? at::make_generator<at::CPUGeneratorImpl>(seed)
                                      : at::globalContext().defaultGenerator(device).clone();
  gen.set_current_seed(seed);
  return gen;
}

DecodeResult generate(Denoiser& denoiser, const PromptBatch& prompts, const DecodeConfig& cfg, const DecodePlan& plan,
                      at::Generator& gen, const StepObserver& observer) {
  const auto t_start = Clock::now();
  const torch::Device dev = denoiser.device();
  const int64_t M = denoiser.mask_id();
  const int64_t B = prompts.ids.size(0), P = prompts.ids.size(1), L = plan.gen_length;
  MDRL_CHECK(L == cfg.gen_length, core::InternalError, "decode plan and config disagree on gen_length");
  const auto i64 = torch::TensorOptions().dtype(torch::kLong).device(dev);

  torch::Tensor x = torch::cat({prompts.ids.to(dev), torch::full({B, L}, M, i64)}, 1);  // [B, P + L]
  torch::Tensor attn;  // [B, P + L] bool, or undefined = attend to everything (the reference)
  if (cfg.attention_mask && prompts.mask.defined())
    attn = torch::cat({prompts.mask.to(dev), torch::ones({B, L}, i64.dtype(torch::kBool))}, 1);
  // CFG's unconditional rows mask every position that was not a mask initially (prompt and pads).
  const torch::Tensor prompt_index = x.ne(M);
  const bool cfg_on = cfg.cfg_scale > 0;
  const torch::Tensor attn2 = cfg_on && attn.defined() ? torch::cat({attn, attn}, 0) : attn;

  StepSettings settings;
  settings.remasking = cfg.remasking;
  settings.temperature = cfg.temperature;
  settings.eos_ids = torch::tensor(cfg.eos_set(denoiser.eos_id()), i64);
  settings.mask_id = M;
  settings.sample_mask_token = cfg.sample_mask_token;
  settings.noise_precision = cfg.noise_precision;
  settings.f64_sampler = cfg.f64_sampler;
  settings.confidence_precision = cfg.confidence_precision;
  settings.record_logp = cfg.record_logp;

  DecodeResult r;
  r.trace = Trace::empty(B, L, plan.num_steps(), cfg.eos_stats, dev, cfg.record_logp);
  for (const auto& block : plan.blocks) {
    const int64_t win_begin = P + block.begin, win_end = P + block.end;
    const auto nsteps = static_cast<int64_t>(block.steps.size());
    torch::Tensor counts;  // [B, nsteps]: the reference's per-row linear counts (spec §1.2)
    if (plan.linear_counts) {
      const auto m = x.narrow(1, win_begin, win_end - win_begin).eq(M).sum(1, false, torch::kLong).unsqueeze(1);
      const auto i = torch::arange(nsteps, i64).unsqueeze(0);
      counts = m.div(nsteps, "floor") + i.lt(m.remainder(nsteps)).to(torch::kLong);
    }
    for (int64_t j = 0; j < nsteps; ++j) {
      const PlanStep& st = plan.steps[static_cast<size_t>(block.steps[static_cast<size_t>(j)])];
      const torch::Tensor k = plan.linear_counts ? counts.select(1, j).contiguous() : torch::full({B}, st.count, i64);
      // Logits are needed only from the first position still masked in some row up to the window
      // end: everything else is ineligible (confidence -inf) in the reference too. Mask tokens in
      // the prompt count: the reference's mask covers the whole sequence (spec §1.1), so they
      // compete for the block's quota, which counts the window's masks only (§1.2).
      const auto still = x.narrow(1, 0, win_end).eq(M).any(0);  // [win_end]
      if (!still.any().item<bool>()) {
        if (observer) observer(st, x);
        continue;
      }
      const int64_t lo = still.to(torch::kByte).argmax().item<int64_t>();
      const auto t_model = Clock::now();
      torch::Tensor logits;  // [B, W, V]
      if (cfg_on) {
        const auto uncond = x.masked_fill(prompt_index, M);
        const auto both = denoiser.logits_window(torch::cat({x, uncond}, 0), attn2, lo, win_end - lo);
        logits = cfg_combine(both.narrow(0, 0, B), both.narrow(0, B, B), cfg.cfg_scale);
      } else {
        logits = denoiser.logits_window(x, attn, lo, win_end - lo);
        if (logits.is_floating_point() && logits.scalar_type() != torch::kDouble) logits = logits.to(torch::kFloat);
      }
      r.seconds_model += since(t_model);
      ++r.forwards;
      settings.gamma = st.gamma;
      const StepResult s = unmask_step(x, logits, lo, win_end, k, settings, gen);
      // The trace covers the completion; prompt masks filled here show in `sequences` only.
      const int64_t c0 = std::max(lo, P);
      r.trace.record(st.index, c0 - P, s.transfer.narrow(1, c0 - lo, win_end - c0),
                     s.confidence.narrow(1, c0 - lo, win_end - c0), x.narrow(1, c0, win_end - c0), settings.eos_ids,
                     s.logp.defined() ? s.logp.narrow(1, c0 - lo, win_end - c0) : torch::Tensor());
      if (observer) observer(st, x);
    }
  }
  r.sequences = x;
  r.completion = x.narrow(1, P, L);
  r.seconds_total = since(t_start);
  return r;
}

}  // namespace mdrl::decode
