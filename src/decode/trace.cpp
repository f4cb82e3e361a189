// Trace bookkeeping and state rebuild (DESIGN.md data flow step 2; spec algorithms.md §2.3).
#include "decode/trace.hpp"

#include <torch/torch.h>

namespace mdrl::decode {

Trace Trace::empty(int64_t B, int64_t L, int64_t S, bool eos_stats, torch::Device device, bool logp) {
  const auto i64 = torch::TensorOptions().dtype(torch::kLong).device(device);
  Trace t;
  t.step_map = torch::full({B, L}, -1, i64);
  t.confidence = torch::zeros({B, L}, i64.dtype(torch::kFloat));
  t.step_counts = torch::zeros({B, S}, i64);
  if (eos_stats) t.eos_counts = torch::zeros({B, S}, i64);
  if (logp) t.logp = torch::zeros({B, L}, i64.dtype(torch::kFloat));
  return t;
}

void Trace::record(int64_t step, int64_t begin, const torch::Tensor& transfer, const torch::Tensor& conf,
                   const torch::Tensor& tokens, const torch::Tensor& eos_ids, const torch::Tensor& lp) {
  // transfer, conf, tokens: [B, W]
  const int64_t W = transfer.size(1);
  step_map.narrow(1, begin, W).masked_fill_(transfer, step);
  auto c = this->confidence.narrow(1, begin, W);
  c.copy_(torch::where(transfer, conf.to(torch::kFloat), c));
  if (logp.defined() && lp.defined()) {
    auto l = logp.narrow(1, begin, W);
    l.copy_(torch::where(transfer, lp.to(torch::kFloat), l));
  }
  step_counts.select(1, step).copy_(transfer.sum(1));
  if (eos_counts.defined()) eos_counts.select(1, step).copy_(transfer.logical_and(torch::isin(tokens, eos_ids)).sum(1));
}

torch::Tensor rebuild_state(const torch::Tensor& prompt, const torch::Tensor& completion, const torch::Tensor& step_map,
                            int64_t i, int64_t mask_id) {
  const auto known = step_map.ge(0).logical_and(step_map.lt(i));  // [B, L]
  const auto c = torch::where(known, completion, torch::full_like(completion, mask_id));
  return torch::cat({prompt, c}, 1);
}

torch::Tensor unmasked_at(const torch::Tensor& step_map, int64_t i) { return step_map.eq(i); }

}  // namespace mdrl::decode
