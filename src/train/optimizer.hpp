// AdamW over the trainable parameters (PyTorch's torch.optim.AdamW update, which the reference's
// HF Trainer adamw_torch runs; spec algorithms.md §3), global gradient-norm clipping (as
// torch.nn.utils.clip_grad_norm_), and the Hugging Face LR schedules.
//
// Parameters kept in bf16/f16 get an f32 master copy here (moments are f32 too), so small updates
// are not lost to bf16 rounding — what DeepSpeed's bf16 mode does for the reference. The state is
// exported as named tensors + scalars for checkpoints and restored exactly.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "train/train_config.hpp"

namespace mdrl::train {

using NamedParams = std::vector<std::pair<std::string, at::Tensor>>;

struct AdamWSettings {
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.0;
  bool decay_1d = false;
};

class AdamW {
 public:
  AdamW(NamedParams params, AdamWSettings s);

  // One update with learning rate `lr` from the parameters' .grad() (a missing grad is skipped, as
  // PyTorch does).
  void step(double lr);
  void zero_grad();
  int64_t steps() const { return step_; }
  const NamedParams& params() const { return params_; }

  // Checkpoint state: "exp_avg/<name>", "exp_avg_sq/<name>", "master/<name>" (only for low-precision
  // parameters) on the CPU; scalars "step", "beta1", "beta2", "eps", "weight_decay".
  std::vector<std::pair<std::string, at::Tensor>> state_tensors() const;
  std::map<std::string, double> state_scalars() const;
  // Restores from the above; core::FormatError naming the entry when one is missing or mis-shaped.
  void load_state(const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                  const std::map<std::string, double>& scalars);

 private:
  struct Slot {
    at::Tensor exp_avg, exp_avg_sq, master;  // master undefined for f32 parameters
    bool decay = true;
  };
  NamedParams params_;
  std::vector<Slot> slots_;
  AdamWSettings s_;
  int64_t step_ = 0;
};

// Scales the gradients so that their global L2 norm is at most max_norm (coefficient
// max_norm / (norm + 1e-6), as PyTorch); returns the norm before clipping. Gradients must already
// be averaged across ranks (then every rank computes the same global norm). max_norm <= 0 only
// measures.
double clip_grad_norm(const std::vector<at::Tensor>& params, double max_norm);

// Learning rate of optimizer step `step` (0-based, the step about to be taken) of `total` steps:
// transformers' get_{constant,constant_with_warmup,linear,cosine}_schedule(_with_warmup).
double scheduled_lr(ScheduleKind kind, double peak, int64_t step, int64_t warmup, int64_t total);

}  // namespace mdrl::train
