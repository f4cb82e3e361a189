#include "model/lora.hpp"

#include <torch/torch.h>

#include <cmath>

namespace mdrl::model {

LoraLinearImpl::LoraLinearImpl(int64_t in_features, int64_t out_features, std::shared_ptr<AdapterSwitch> adapters)
    : in_(in_features), out_(out_features), adapters_(std::move(adapters)) {
  weight = register_parameter("weight", torch::empty({out_, in_}));
}

torch::Tensor LoraLinearImpl::forward(const torch::Tensor& x) {
  torch::Tensor y = torch::nn::functional::linear(x, weight);
  if (!has_adapter() || !adapters_->enabled) return y;
  torch::Tensor h = x;
  if (is_training() && dropout_ > 0) {
    const torch::Tensor keep = torch::empty_like(x).bernoulli_(1.0 - dropout_, adapters_->dropout_gen);
    h = x * keep / (1.0 - dropout_);
  }
  return y + torch::nn::functional::linear(torch::nn::functional::linear(h, lora_A), lora_B) * scaling_;
}

void LoraLinearImpl::add_adapter(int64_t rank, double alpha, double dropout, at::Generator gen) {
  torch::NoGradGuard no_grad;
  scaling_ = alpha / static_cast<double>(rank);
  dropout_ = dropout;
  // Kaiming-uniform with a = sqrt(5) (torch.nn.Linear's default, which PEFT keeps for A):
  // bound = sqrt(6 / ((1 + a^2) * fan_in)) = 1 / sqrt(fan_in).
  const double bound = 1.0 / std::sqrt(static_cast<double>(in_));
  torch::Tensor a = torch::empty({rank, in_}, torch::kFloat).uniform_(-bound, bound, gen);
  lora_A = register_parameter("lora_A", a.to(weight.options()));
  lora_B = register_parameter("lora_B", torch::zeros({out_, rank}, weight.options()));
}

void LoraLinearImpl::merge_adapter() {
  if (!has_adapter()) return;
  torch::NoGradGuard no_grad;
  // In f32, then back to the weight's dtype: one rounding of the merged weight.
  weight.copy_((weight.to(torch::kFloat) + torch::matmul(lora_B.to(torch::kFloat), lora_A.to(torch::kFloat)) * scaling_)
                   .to(weight.scalar_type()));
  // Remove the adapter parameters from the module.
  parameters_.erase("lora_A");
  parameters_.erase("lora_B");
  lora_A = torch::Tensor();
  lora_B = torch::Tensor();
}

}  // namespace mdrl::model
