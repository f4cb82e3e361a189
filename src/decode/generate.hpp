// The generate loop (spec algorithms.md §1.3, §1.5, §1.8): prompt + L masks, then the plan's
// steps block by block, each one forward of the Denoiser (two rows per prompt with CFG) and one
// batched unmasking step, recording the trace. Prompts of different lengths are left-padded and,
// by default, masked out of attention (decode.attention_mask; quirk Q15). Mask tokens in a prompt
// are filled as in the reference (spec §1.1): eligible at every step, they take slots of the
// block's quota, which counts only the window's masks, so as many positions as the prompt had
// masks may still be masked at the end.
#pragma once

#include <ATen/core/Generator.h>
#include <torch/types.h>

#include <functional>
#include <vector>

#include "core/rng.hpp"
#include "decode/decode_config.hpp"
#include "decode/decode_plan.hpp"
#include "decode/denoiser.hpp"
#include "decode/trace.hpp"

namespace mdrl::decode {

struct PromptBatch {
  torch::Tensor ids;   // [B, P] int64, left-padded with the pad id
  torch::Tensor mask;  // [B, P] bool, true = prompt token, false = padding
};

// Left-pads token id lists to the longest one.
PromptBatch left_pad(const std::vector<std::vector<int64_t>>& prompts, int64_t pad_id,
                     torch::Device device = torch::kCPU);

struct DecodeResult {
  torch::Tensor sequences;   // [B, P + L] int64: the padded prompt (its masks filled), then the completion
  torch::Tensor completion;  // [B, L] int64 (a view of sequences)
  Trace trace;
  int64_t forwards = 0;         // denoiser calls (a CFG step is one call on 2B rows)
  double seconds_total = 0.0;   // wall time of generate()
  double seconds_model = 0.0;   // of it, inside Denoiser::logits
};

// Called after every step with the plan step and x [B, P + L] (for live views).
using StepObserver = std::function<void(const PlanStep& step, const torch::Tensor& x)>;

// Each row's completion tokens before its first EOS (any id of `eos`): what gets detokenised and
// scored. completion: [B, L] integer, any device.
std::vector<std::vector<int32_t>> completion_ids(const torch::Tensor& completion, const std::vector<int64_t>& eos);

// A generator on `device` seeded from the rank's sampling stream (DESIGN.md "Determinism": no
// global generator is reseeded).
at::Generator sampling_generator(core::RngStream& sampling, torch::Device device);

// Decodes `prompts` with `plan` (make_plan(cfg)). Noise (Gumbel, random remasking) comes from `gen`.
DecodeResult generate(Denoiser& denoiser, const PromptBatch& prompts, const DecodeConfig& cfg, const DecodePlan& plan,
                      at::Generator& gen, const StepObserver& observer = {});

}  // namespace mdrl::decode
