// What the decoder sees of a model (DESIGN.md principle 3): tokens in, logits out. The decode loop
// never touches LladaModel; tests drive it with scripted denoisers whose logits are exact.
#pragma once

#include <torch/types.h>

#include "model/llada.hpp"

namespace mdrl::decode {

class Denoiser {
 public:
  virtual ~Denoiser() = default;
  // tokens: [B, T] int64; attention_mask: [B, T] bool (true = real token) or undefined (attend
  // everywhere); positions: [B, P] int64 or undefined. Returns logits [B, T, V] (or [B, P, V] at
  // `positions`), any floating dtype; the decoder casts what it needs.
  virtual torch::Tensor logits(const torch::Tensor& tokens, const torch::Tensor& attention_mask,
                               const torch::Tensor& positions) = 0;
  // Logits [B, len, V] at positions lo .. lo + len - 1 of every row (the decoder's window); by
  // default logits() at those positions. A model may compute less for it (LladaDenoiser: the last
  // block's query side on the window only).
  virtual torch::Tensor logits_window(const torch::Tensor& tokens, const torch::Tensor& attention_mask, int64_t lo,
                                      int64_t len);
  virtual int64_t vocab_size() const = 0;
  virtual int64_t mask_id() const = 0;
  virtual int64_t eos_id() const = 0;
  virtual int64_t pad_id() const = 0;
  virtual torch::Device device() const { return torch::kCPU; }
};

// LLaDA through the Denoiser interface: runs the LM head only at the requested positions and cuts
// the logits to the vocabulary when the embedding table is padded past it.
class LladaDenoiser : public Denoiser {
 public:
  explicit LladaDenoiser(model::LladaModel model) : model_(std::move(model)) {}
  torch::Tensor logits(const torch::Tensor& tokens, const torch::Tensor& attention_mask,
                       const torch::Tensor& positions) override;
  torch::Tensor logits_window(const torch::Tensor& tokens, const torch::Tensor& attention_mask, int64_t lo,
                              int64_t len) override;
  int64_t vocab_size() const override { return model_->config().vocab_size; }
  int64_t mask_id() const override { return model_->config().mask_token_id; }
  int64_t eos_id() const override { return model_->config().eos_token_id; }
  int64_t pad_id() const override { return model_->config().pad_token_id; }
  torch::Device device() const override { return model_->wte->weight.device(); }
  model::LladaModel& model() { return model_; }

 private:
  torch::Tensor to_vocab(const torch::Tensor& logits) const;  // [..., E] -> [..., V]
  model::LladaModel model_;
};

}  // namespace mdrl::decode
