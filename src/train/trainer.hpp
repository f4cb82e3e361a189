// The optimizer side of every training loop (DESIGN.md data flow step 6): after the micro-batches'
// backward passes, gradients are averaged across ranks (bucketed NCCL/MPI), clipped to the global
// norm, and AdamW steps with the scheduled learning rate. Also fills and restores the parts of a
// checkpoint it owns (trainable parameters, optimizer and schedule state).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>

#include "io/checkpoint.hpp"
#include "train/optimizer.hpp"
#include "train/train_config.hpp"

namespace mdrl::dist {
class TensorCollectives;
class GradientSync;
}  // namespace mdrl::dist

namespace mdrl::train {

struct OptimizerStepResult {
  double grad_norm = 0;  // global norm before clipping
  double lr = 0;         // learning rate used by this step
};

class Trainer {
 public:
  // `trainable`: name -> parameter (requires_grad), identical order on every rank. `total_steps`
  // sizes the LR schedule.
  Trainer(const TrainConfig& cfg, NamedParams trainable, dist::TensorCollectives& coll, int64_t total_steps);
  ~Trainer();

  // Averages, clips, steps, zeroes the gradients; advances step().
  OptimizerStepResult optimizer_step();
  void zero_grad() { opt_.zero_grad(); }
  int64_t step() const { return opt_.steps(); }
  int64_t total_steps() const { return total_steps_; }
  double lr_at(int64_t step) const;
  const NamedParams& trainable() const { return opt_.params(); }

  // Writes params, optimizer and schedule state into `state` (CPU copies).
  void fill(io::CheckpointState& state) const;
  // Copies a checkpoint's parameters and optimizer state in (names and shapes must match).
  void restore(const io::CheckpointState& state);

 private:
  TrainConfig cfg_;
  AdamW opt_;
  std::vector<at::Tensor> tensors_;
  std::unique_ptr<dist::GradientSync> sync_;
  int64_t total_steps_;
};

// Named trainable parameters of a module list (name, tensor) with requires_grad set.
template <class Module>
NamedParams trainable_named(Module& m) {
  NamedParams out;
  for (const auto& p : m.named_parameters())
    if (p.value().requires_grad()) out.emplace_back(p.key(), p.value());
  return out;
}

}  // namespace mdrl::train
