// The common unmasking step of spec algorithms.md §1.1, batched over rows: Gumbel-max sampling
// (§1.7), low-confidence or random confidence, EOSER scaling of EOS candidates (§1.4, §1.6), the
// window cut-off, and per-row top-k with a per-row k in one tensor op (no loop over rows).
// Classifier-free guidance (§1.8) is the combination of two logit tensors, done by the caller.
#pragma once

#include <ATen/core/Generator.h>
#include <torch/types.h>

#include <vector>

#include "decode/decode_config.hpp"

namespace mdrl::decode {

struct StepSettings {
  Remasking remasking = Remasking::LowConfidence;
  double temperature = 0.0;
  double gamma = 1.0;              // EOSER factor of this step (1 = off)
  torch::Tensor eos_ids;           // [E] int64 on the logits' device
  int64_t mask_id = 0;
  bool sample_mask_token = false;  // false: the mask id's logit is set to -inf before sampling
  Precision noise_precision = Precision::F32;
  F64Sampler f64_sampler = F64Sampler::InverseCdf;  // with noise_precision = f64
  Precision confidence_precision = Precision::F32;
  bool record_logp = false;        // fill StepResult::logp
};

struct StepResult {
  torch::Tensor selected;    // [B, W] bool: positions the top-k picked (x was written there)
  torch::Tensor transfer;    // [B, W] bool: selected and no longer masked (the sampled token is not the mask id)
  torch::Tensor confidence;  // [B, W] f32: ranking score (EOSER-scaled; -inf where not eligible)
  torch::Tensor logp;        // [B, W] f32: log_softmax(logits)[x0] over the whole vocabulary, before the
                             // mask id is excluded from sampling; undefined unless record_logp
};

// Gumbel-max: argmax_v (logits - T ln(-ln u)), u ~ U[0,1) in `precision`, i.e. a sample from
// softmax(logits / T); the reference's exp(l) / (-ln u)^T in log space, which cannot overflow.
// T = 0 is argmax. logits: [B, W, V]; returns [B, W] int64.
torch::Tensor gumbel_argmax(const torch::Tensor& logits, double temperature, Precision precision, at::Generator& gen);

// Inverse-CDF sampling in f64: x0 ~ softmax(logits / T) from one f64 uniform per position (drawn
// for all positions first, so chunking changes nothing): the first v whose cumulative f64 weight
// exp((l - max) / T) exceeds u times the row total. A logit of -inf is never chosen. Rows go in
// chunks of at most `chunk_elements` logits. T > 0; logits: [B, W, V]; returns [B, W] int64.
torch::Tensor inverse_cdf_sample(const torch::Tensor& logits, double temperature, at::Generator& gen,
                                 int64_t chunk_elements = int64_t{1} << 20);

// x0 of a step: argmax at T = 0, else Gumbel-max in f32, or in f64 as `sampler` says.
torch::Tensor sample_tokens(const torch::Tensor& logits, double temperature, Precision precision, F64Sampler sampler,
                            at::Generator& gen);

// softmax(logits)[x0] as the reference computes it (spec §1.1): a max-subtracted softmax in
// `precision`, then the gather. Near p = 1 this rounds on the scale of p, whereas
// exp(l[x0] - logsumexp(l)) rounds on the scale of the logits (about 10x coarser in f32), which
// reorders near-ties. Rows go in chunks of at most `chunk_elements` logits, so no [B, W, V]
// temporary exists; a row's result does not depend on the chunking. logits: [B, W, V];
// x0: [B, W] int64; returns [B, W].
torch::Tensor sampled_probability(const torch::Tensor& logits, const torch::Tensor& x0, Precision precision,
                                  int64_t chunk_elements = int64_t{1} << 24);

// logsumexp over the vocabulary in f32 (log_softmax(l)[v] = l[v] - this, as model::token_logprobs
// computes it), in row chunks of at most `chunk_elements` logits (no [B, W, V] f32 temporary).
// logits: [B, W, V]; returns [B, W] f32.
torch::Tensor log_normaliser(const torch::Tensor& logits, int64_t chunk_elements = int64_t{1} << 24);

// Per-row top-k: the k[b] positions of largest finite confidence in row b (fewer when the row has
// fewer finite entries). confidence: [B, W]; k: [B] int64. Returns [B, W] bool.
torch::Tensor select_top_k(const torch::Tensor& confidence, const torch::Tensor& k);

// Classifier-free guidance (spec §1.8): uncond + (s + 1)(cond - uncond). cond/uncond: [B, W, V].
torch::Tensor cfg_combine(const torch::Tensor& cond, const torch::Tensor& uncond, double scale);

// One unmasking step on x (updated in place). logits: [B, W, V] for positions [offset, offset + W)
// of x; consumed (the mask column may be overwritten). Positions at or after window_end are not
// eligible. k: [B] int64 tokens to unmask per row.
StepResult unmask_step(torch::Tensor& x, torch::Tensor logits, int64_t offset, int64_t window_end,
                       const torch::Tensor& k, const StepSettings& settings, at::Generator& gen);

}  // namespace mdrl::decode
