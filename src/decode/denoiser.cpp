// LladaDenoiser: the LLaDA model behind the Denoiser interface (spec algorithms.md §1.1 step 2).
#include "decode/denoiser.hpp"

#include <torch/torch.h>

namespace mdrl::decode {

torch::Tensor Denoiser::logits_window(const torch::Tensor& tokens, const torch::Tensor& attention_mask, int64_t lo,
                                      int64_t len) {
  const auto i64 = torch::TensorOptions().dtype(torch::kLong).device(tokens.device());
  return logits(tokens, attention_mask, torch::arange(lo, lo + len, i64).unsqueeze(0).expand({tokens.size(0), len}));
}

torch::Tensor LladaDenoiser::to_vocab(const torch::Tensor& logits) const {
  const int64_t V = model_->config().vocab_size;
  return logits.size(-1) > V ? logits.narrow(-1, 0, V) : logits;  // padded embedding rows are not tokens
}

torch::Tensor LladaDenoiser::logits_window(const torch::Tensor& tokens, const torch::Tensor& attention_mask,
                                           int64_t lo, int64_t len) {
  torch::NoGradGuard no_grad;
  return to_vocab(model_->logits(model_->hidden(tokens, attention_mask, model::RowWindow{lo, len})));  // [B, len, V]
}

torch::Tensor LladaDenoiser::logits(const torch::Tensor& tokens, const torch::Tensor& attention_mask,
                                    const torch::Tensor& positions) {
  torch::NoGradGuard no_grad;
  const torch::Tensor h = model_->hidden(tokens, attention_mask);  // [B, T, d]
  return to_vocab(model_->logits(h, positions));                   // [B, T or P, V]
}

}  // namespace mdrl::decode
