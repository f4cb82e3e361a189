// AdamW, clipping and LR schedules (optimizer.hpp).
#include "train/optimizer.hpp"

#include <torch/torch.h>

#include <cmath>
#include <numbers>

#include "core/error.hpp"

namespace mdrl::train {

AdamW::AdamW(NamedParams params, AdamWSettings s) : params_(std::move(params)), s_(s) {
  torch::NoGradGuard ng;
  slots_.reserve(params_.size());
  for (const auto& [name, p] : params_) {
    Slot slot;
    const auto opts = p.options().dtype(torch::kFloat);
    slot.exp_avg = torch::zeros(p.sizes(), opts);
    slot.exp_avg_sq = torch::zeros(p.sizes(), opts);
    if (p.scalar_type() != torch::kFloat && p.scalar_type() != torch::kDouble) slot.master = p.detach().to(torch::kFloat).clone();
    slot.decay = s_.decay_1d || p.dim() >= 2;
    slots_.push_back(std::move(slot));
  }
}

void AdamW::zero_grad() {
  for (auto& [name, p] : params_)
    if (p.grad().defined()) p.mutable_grad() = at::Tensor();
}

void AdamW::step(double lr) {
  torch::NoGradGuard ng;
  ++step_;
  const double bc1 = 1.0 - std::pow(s_.beta1, static_cast<double>(step_));
  const double bc2_sqrt = std::sqrt(1.0 - std::pow(s_.beta2, static_cast<double>(step_)));
  const double step_size = lr / bc1;
  for (size_t i = 0; i < params_.size(); ++i) {
    auto& p = params_[i].second;
    if (!p.grad().defined()) continue;
    auto& slot = slots_[i];
    at::Tensor w = slot.master.defined() ? slot.master : p;
    const at::Tensor g = p.grad().to(w.scalar_type());
    // The order of operations is PyTorch's single-tensor AdamW (decay, moments, bias-corrected step).
    if (slot.decay && s_.weight_decay != 0) w.mul_(1.0 - lr * s_.weight_decay);
    slot.exp_avg.lerp_(g, 1.0 - s_.beta1);
    slot.exp_avg_sq.mul_(s_.beta2).addcmul_(g, g, 1.0 - s_.beta2);
    const auto denom = (slot.exp_avg_sq.sqrt() / bc2_sqrt).add_(s_.eps);
    w.addcdiv_(slot.exp_avg, denom, -step_size);
    if (slot.master.defined()) p.copy_(slot.master);
  }
}

std::vector<std::pair<std::string, at::Tensor>> AdamW::state_tensors() const {
  std::vector<std::pair<std::string, at::Tensor>> out;
  for (size_t i = 0; i < params_.size(); ++i) {
    const auto& name = params_[i].first;
    out.emplace_back("exp_avg/" + name, slots_[i].exp_avg.to(torch::kCPU));
    out.emplace_back("exp_avg_sq/" + name, slots_[i].exp_avg_sq.to(torch::kCPU));
    if (slots_[i].master.defined()) out.emplace_back("master/" + name, slots_[i].master.to(torch::kCPU));
  }
  return out;
}

std::map<std::string, double> AdamW::state_scalars() const {
  return {{"step", static_cast<double>(step_)},
          {"beta1", s_.beta1},
          {"beta2", s_.beta2},
          {"eps", s_.eps},
          {"weight_decay", s_.weight_decay}};
}

void AdamW::load_state(const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                       const std::map<std::string, double>& scalars) {
  torch::NoGradGuard ng;
  std::map<std::string, at::Tensor> by_name(tensors.begin(), tensors.end());
  auto take = [&](const std::string& key, at::Tensor& dst) {
    const auto it = by_name.find(key);
    MDRL_CHECK(it != by_name.end(), core::FormatError, "optimizer state lacks '" + key + "'");
    MDRL_CHECK(it->second.sizes() == dst.sizes(), core::FormatError,
               "optimizer state '" + key + "' has the wrong shape for this model");
    dst.copy_(it->second);
  };
  for (size_t i = 0; i < params_.size(); ++i) {
    const auto& name = params_[i].first;
    take("exp_avg/" + name, slots_[i].exp_avg);
    take("exp_avg_sq/" + name, slots_[i].exp_avg_sq);
    if (slots_[i].master.defined()) take("master/" + name, slots_[i].master);
  }
  const auto it = scalars.find("step");
  MDRL_CHECK(it != scalars.end(), core::FormatError, "optimizer state lacks the scalar 'step'");
  step_ = static_cast<int64_t>(it->second);
}

double clip_grad_norm(const std::vector<at::Tensor>& params, double max_norm) {
  torch::NoGradGuard ng;
  std::vector<at::Tensor> norms;
  for (const auto& p : params)
    if (p.grad().defined()) norms.push_back(p.grad().norm(2).to(torch::kFloat));
  if (norms.empty()) return 0.0;
  const auto total = torch::stack(norms).norm(2);
  const double norm = total.item<double>();
  if (max_norm > 0) {
    // PyTorch multiplies by the clamped coefficient unconditionally (a no-op factor 1 below max).
    const auto coef = torch::clamp_max(max_norm / (total + 1e-6), 1.0);
    for (const auto& p : params)
      if (p.grad().defined()) p.grad().mul_(coef.to(p.grad().device(), p.grad().scalar_type()));
  }
  return norm;
}

double scheduled_lr(ScheduleKind kind, double peak, int64_t step, int64_t warmup, int64_t total) {
  const double s = static_cast<double>(step), w = static_cast<double>(warmup), t = static_cast<double>(total);
  if (kind == ScheduleKind::Constant) return peak;
  if (step < warmup) return peak * s / std::max(1.0, w);
  switch (kind) {
    case ScheduleKind::ConstantWithWarmup: return peak;
    case ScheduleKind::Linear: return peak * std::max(0.0, (t - s) / std::max(1.0, t - w));
    case ScheduleKind::Cosine: {
      const double progress = (s - w) / std::max(1.0, t - w);
      return peak * std::max(0.0, 0.5 * (1.0 + std::cos(std::numbers::pi * progress)));
    }
    default: return peak;
  }
}

}  // namespace mdrl::train
