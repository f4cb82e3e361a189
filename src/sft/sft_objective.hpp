// The masked-diffusion SFT objective (spec algorithms.md §3, d1's dLLMDataCollator + dLLMTrainer):
// sequences padded with EOS; per sequence t ~ U(0,1) (or a fixed t for evaluation), t' = (1-eps)t
// + eps; every token masked independently with probability t'; prompt positions restored and never
// scored; cross-entropy at the masked positions (EOS padding included) weighted by 1/t'_b, summed,
// and divided by B*N - prompt tokens (reference) or by the number of masked tokens.
#pragma once

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "sft/sft_config.hpp"
#include "sft/sft_data.hpp"

namespace mdrl::model {
class LladaModelImpl;
}

namespace mdrl::sft {

struct SftBatch {
  at::Tensor ids;         // [B, N] int64, EOS-padded, CPU
  at::Tensor prompt_len;  // [B] int64, CPU
  int64_t prompt_tokens = 0;
};

// Pads to pad_to (0 = the longest sequence) with pad_id.
SftBatch collate(const std::vector<const SftSequence*>& seqs, int64_t pad_id, int64_t pad_to);

struct Noised {
  at::Tensor noisy;    // [B, N] int64: ids with masked positions set to mask_id
  at::Tensor targets;  // [B, N] bool: masked response positions (the scored ones)
  at::Tensor t_prime;  // [B] f32
};

// Draws t (unless `fixed_t` gives one per row) and the masks from `gen` (a CPU generator, so the
// noise is the same on every device).
Noised forward_process(const SftBatch& batch, int64_t mask_id, double eps, at::Generator& gen,
                       const std::optional<std::vector<double>>& fixed_t = std::nullopt);

struct SftLoss {
  at::Tensor loss;        // scalar, differentiable
  double ce_sum = 0;      // sum of unweighted CE over the scored positions
  int64_t masked = 0;     // scored positions
  double unscaled() const { return masked > 0 ? ce_sum / static_cast<double>(masked) : 0.0; }
};

// One forward of `model` on the noised batch (no attention mask, as the reference) and the loss.
// The LM head runs only on the masked positions.
SftLoss sft_loss(model::LladaModelImpl& model, const SftBatch& batch, const Noised& noised, LossNorm norm,
                 const at::Device& device);

}  // namespace mdrl::sft
