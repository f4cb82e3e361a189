// LladaDenoiser: the LLaDA model behind the Denoiser interface (spec algorithms.md §1.1 step 2).
#include "decode/denoiser.hpp"

#include <torch/torch.h>

namespace mdrl::decode {

torch::Tensor LladaDenoiser::logits(const torch::Tensor& tokens, const torch::Tensor& attention_mask,
                                    const torch::Tensor& positions) {
  torch::NoGradGuard no_grad;
  const torch::Tensor h = model_->hidden(tokens, attention_mask);  // [B, T, d]
  torch::Tensor out = model_->logits(h, positions);                // [B, T or P, E]
  const int64_t V = model_->config().vocab_size;
  if (out.size(-1) > V) out = out.narrow(-1, 0, V);  // padded embedding rows are not tokens
  return out;
}

}  // namespace mdrl::decode
