// The decoding trace (DESIGN.md "Data flow of one GRPO step", spec algorithms.md §2.3): for every
// completion position the step that unmasked it and its confidence, plus per-step counts. Every
// intermediate state x_i follows from prompt, final tokens and the step map, so a trajectory
// costs B x L small integers instead of S copies of the sequence (CJ-GRPO rebuilds them).
#pragma once

#include <torch/types.h>

namespace mdrl::decode {

struct Trace {
  torch::Tensor step_map;     // [B, L] int64: global step that unmasked the position; -1 = never (still masked)
  torch::Tensor confidence;   // [B, L] f32: its ranking score at that step (EOSER-scaled); 0 if never
  torch::Tensor step_counts;  // [B, S] int64: positions unmasked per row and step
  torch::Tensor eos_counts;   // [B, S] int64: EOS tokens among them; undefined unless decode.eos_stats
  // [B, L] f32: log p(token | state) of the token at the step that unmasked it, the untempered
  // log-softmax over the whole vocabulary (the scored policy of CJ-GRPO, spec §2.3); 0 if never.
  // Undefined unless DecodeConfig::record_logp.
  torch::Tensor logp;

  // Empty trace for B rows, L positions, S steps on `device`.
  static Trace empty(int64_t B, int64_t L, int64_t S, bool eos_stats, torch::Device device, bool logp = false);
  // Records step `step`: transfer [B, W] bool and confidence [B, W] for completion offsets
  // [begin, begin + W); tokens [B, W] the tokens now there (for the EOS count); eos_ids [E];
  // logp [B, W] the sampled tokens' log-probs (undefined when not recorded).
  void record(int64_t step, int64_t begin, const torch::Tensor& transfer, const torch::Tensor& confidence,
              const torch::Tensor& tokens, const torch::Tensor& eos_ids, const torch::Tensor& logp = {});
};

// x_i, the sequence before step i (i = 0: all completion positions masked; i = S: the final
// tokens, with never-unmasked positions masked). prompt: [B, P], completion: [B, L] final tokens,
// step_map: [B, L]. Returns [B, P + L] int64.
torch::Tensor rebuild_state(const torch::Tensor& prompt, const torch::Tensor& completion, const torch::Tensor& step_map,
                            int64_t i, int64_t mask_id);

// Positions unmasked at step i: [B, L] bool (CJ-GRPO's per-step masks u_i).
torch::Tensor unmasked_at(const torch::Tensor& step_map, int64_t i);

}  // namespace mdrl::decode
