// Linear layer without bias, with an optional LoRA adapter (Hu et al. 2021; PEFT's conventions):
//   y = x W^T + (alpha / r) * dropout(x) A^T B^T,  A: [r, in] (Kaiming-uniform), B: [out, r] (zeros),
// so a fresh adapter leaves the output unchanged. The adapters of a whole model are switched off
// together through a shared flag (the reference policy of GRPO is the same weights without LoRA).
#pragma once

#include <ATen/core/Generator.h>
#include <torch/nn/module.h>

#include <memory>

namespace mdrl::model {

// State shared by all LoraLinear layers of one model: the adapter switch, and the generator of
// LoRA dropout masks (a private stream, so activation checkpointing can replay it exactly).
struct AdapterSwitch {
  bool enabled = true;
  at::Generator dropout_gen;
};

class LoraLinearImpl : public torch::nn::Module {
 public:
  LoraLinearImpl(int64_t in_features, int64_t out_features, std::shared_ptr<AdapterSwitch> adapters);

  // x: [..., in] -> [..., out]
  torch::Tensor forward(const torch::Tensor& x);

  // Adds a fresh adapter (A drawn from `gen`, B zero) in the weight's dtype and device.
  void add_adapter(int64_t rank, double alpha, double dropout, at::Generator gen);
  bool has_adapter() const { return lora_A.defined(); }
  // W += (alpha / r) B A, then the adapter is removed.
  void merge_adapter();

  int64_t in_features() const { return in_; }
  int64_t out_features() const { return out_; }
  double scaling() const { return scaling_; }

  torch::Tensor weight;  // [out, in]
  torch::Tensor lora_A;  // [r, in], undefined without adapter
  torch::Tensor lora_B;  // [out, r]

 private:
  int64_t in_, out_;
  double scaling_ = 0, dropout_ = 0;
  std::shared_ptr<AdapterSwitch> adapters_;
};
TORCH_MODULE(LoraLinear);

}  // namespace mdrl::model
