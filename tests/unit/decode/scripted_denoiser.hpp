// Test doubles for decode/: denoisers whose logits are fixed by the test, so the unmasking order
// and every confidence are known exactly (DESIGN.md principle 1: a double only where the real
// model cannot give exact numbers).
#pragma once

#include <torch/torch.h>

#include <functional>
#include <vector>

#include "decode/denoiser.hpp"

namespace mdrl::test {

// Logits from a function of the full token tensor: fn(tokens [B, T]) -> [B, T, V]. Records every
// call's tokens and attention mask.
class ScriptedDenoiser : public decode::Denoiser {
 public:
  using Fn = std::function<torch::Tensor(const torch::Tensor& tokens)>;
  ScriptedDenoiser(int64_t V, int64_t mask, int64_t eos, Fn fn) : V_(V), mask_(mask), eos_(eos), fn_(std::move(fn)) {}

  torch::Tensor logits(const torch::Tensor& tokens, const torch::Tensor& attention_mask,
                       const torch::Tensor& positions) override {
    calls.push_back(tokens.clone());
    masks.push_back(attention_mask.defined() ? attention_mask.clone() : torch::Tensor());
    torch::Tensor full = fn_(tokens).to(torch::kFloat).clone();  // [B, T, V]
    if (!positions.defined()) return full;
    return full.gather(1, positions.unsqueeze(-1).expand({positions.size(0), positions.size(1), V_}));
  }
  int64_t vocab_size() const override { return V_; }
  int64_t mask_id() const override { return mask_; }
  int64_t eos_id() const override { return eos_; }
  int64_t pad_id() const override { return eos_; }

  std::vector<torch::Tensor> calls, masks;

 private:
  int64_t V_, mask_, eos_;
  Fn fn_;
};

// The same logits table [T, V] for every row, whatever the tokens.
inline ScriptedDenoiser static_denoiser(const torch::Tensor& table, int64_t mask, int64_t eos) {
  return ScriptedDenoiser(table.size(1), mask, eos, [table](const torch::Tensor& tokens) {
    return table.unsqueeze(0).expand({tokens.size(0), table.size(0), table.size(1)});
  });
}

}  // namespace mdrl::test
