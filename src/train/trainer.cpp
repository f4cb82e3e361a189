// Trainer (trainer.hpp).
#include "train/trainer.hpp"

#include <torch/torch.h>

#include <map>

#include "core/error.hpp"
#include "dist/grad_sync.hpp"
#include "dist/tensor_collectives.hpp"

namespace mdrl::train {

namespace {
AdamWSettings settings_of(const TrainConfig& c) {
  return {c.beta1, c.beta2, c.eps, c.weight_decay, c.decay_1d};
}
}  // namespace

Trainer::Trainer(const TrainConfig& cfg, NamedParams trainable, dist::TensorCollectives& coll, int64_t total_steps)
    : cfg_(cfg), opt_(std::move(trainable), settings_of(cfg)), total_steps_(total_steps) {
  MDRL_CHECK(!opt_.params().empty(), core::ConfigError,
             "the model has no trainable parameters; train all weights (lora.rank = 0) or add adapters (lora.rank > 0)");
  for (const auto& [name, p] : opt_.params()) tensors_.push_back(p);
  sync_ = std::make_unique<dist::GradientSync>(coll, tensors_);
}

Trainer::~Trainer() = default;

double Trainer::lr_at(int64_t step) const {
  return scheduled_lr(cfg_.schedule, cfg_.lr, step, cfg_.warmup_for(total_steps_), total_steps_);
}

OptimizerStepResult Trainer::optimizer_step() {
  OptimizerStepResult r;
  sync_->average();
  r.grad_norm = clip_grad_norm(tensors_, cfg_.max_grad_norm);
  r.lr = lr_at(opt_.steps());
  opt_.step(r.lr);
  opt_.zero_grad();
  return r;
}

void Trainer::fill(io::CheckpointState& state) const {
  state.step = opt_.steps();
  state.params.clear();
  for (const auto& [name, p] : opt_.params()) state.params.emplace_back(name, p.detach().to(torch::kCPU).clone());
  state.optimizer_tensors = opt_.state_tensors();
  state.optimizer_scalars = opt_.state_scalars();
  state.schedule_scalars = {{"peak_lr", cfg_.lr},
                            {"warmup_steps", static_cast<double>(cfg_.warmup_for(total_steps_))},
                            {"total_steps", static_cast<double>(total_steps_)},
                            {"next_lr", lr_at(opt_.steps())}};
}

void Trainer::restore(const io::CheckpointState& state) {
  torch::NoGradGuard ng;
  std::map<std::string, at::Tensor> by_name(state.params.begin(), state.params.end());
  for (const auto& [name, p] : opt_.params()) {
    const auto it = by_name.find(name);
    MDRL_CHECK(it != by_name.end(), core::FormatError, "the checkpoint lacks the trainable parameter '" + name + "'");
    MDRL_CHECK(it->second.sizes() == p.sizes(), core::FormatError,
               "the checkpoint's parameter '" + name + "' has another shape than the model's");
    p.copy_(it->second);
  }
  opt_.load_state(state.optimizer_tensors, state.optimizer_scalars);
  MDRL_CHECK(opt_.steps() == state.step, core::FormatError,
             "the checkpoint's optimizer step count (" + std::to_string(opt_.steps()) + ") differs from its step (" +
                 std::to_string(state.step) + ")");
}

}  // namespace mdrl::train
