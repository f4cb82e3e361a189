// The unmasking step (spec algorithms.md §1.1, §1.4, §1.6, §1.7, §1.8; quirks Q13, Q14).
#include "decode/unmask_step.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <limits>

#include "core/error.hpp"

namespace mdrl::decode {
namespace {

torch::ScalarType scalar_of(Precision p) { return p == Precision::F64 ? torch::kDouble : torch::kFloat; }
constexpr double kNegInf = -std::numeric_limits<double>::infinity();

}  // namespace

torch::Tensor gumbel_argmax(const torch::Tensor& logits, double temperature, Precision precision, at::Generator& gen) {
  if (temperature == 0.0) return logits.argmax(-1);
  const auto dtype = scalar_of(precision);
  // u -> -T ln(-ln u), built in place in the noise buffer; u = 0 gives -inf (never chosen).
  torch::Tensor score = torch::rand(logits.sizes(), gen, logits.options().dtype(dtype));
  // The logits are promoted inside the add (no f64 copy of [B, W, V]); same numbers as a cast first.
  score.log_().neg_().log_().mul_(-temperature).add_(logits);
  return score.argmax(-1);
}

torch::Tensor inverse_cdf_sample(const torch::Tensor& logits, double temperature, at::Generator& gen,
                                 int64_t chunk_elements) {
  MDRL_ASSERT(temperature > 0.0);
  const int64_t V = logits.size(-1);
  const torch::Tensor flat = logits.reshape({-1, V});
  const int64_t rows = flat.size(0);
  const auto f64 = logits.options().dtype(torch::kDouble);
  const torch::Tensor u = torch::rand({rows, 1}, gen, f64);  // [rows, 1]
  torch::Tensor out = torch::empty({rows}, logits.options().dtype(torch::kLong));
  const int64_t chunk = std::max<int64_t>(1, chunk_elements / std::max<int64_t>(V, 1));
  for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
    const int64_t n = std::min(chunk, rows - r0);
    torch::Tensor w = flat.narrow(0, r0, n).to(torch::kDouble);  // [n, V], a fresh f64 copy
    w.sub_(std::get<0>(w.max(1, /*keepdim=*/true)));
    if (temperature != 1.0) w.div_(temperature);
    w.exp_().cumsum_(1);  // cumulative weights; the last column is the row total
    const torch::Tensor target = w.narrow(1, V - 1, 1) * u.narrow(0, r0, n);  // [n, 1], < the total
    // right = true: the first v with cumsum > target, so a zero weight (logit -inf) is never chosen.
    out.narrow(0, r0, n).copy_(torch::searchsorted(w, target, /*out_int32=*/false, /*right=*/true).squeeze(1).clamp_max(V - 1));
  }
  return out.view(logits.sizes().slice(0, logits.dim() - 1));
}

torch::Tensor sample_tokens(const torch::Tensor& logits, double temperature, Precision precision, F64Sampler sampler,
                            at::Generator& gen) {
  if (temperature != 0.0 && precision == Precision::F64 && sampler == F64Sampler::InverseCdf)
    return inverse_cdf_sample(logits, temperature, gen);
  return gumbel_argmax(logits, temperature, precision, gen);
}

torch::Tensor sampled_probability(const torch::Tensor& logits, const torch::Tensor& x0, Precision precision,
                                  int64_t chunk_elements) {
  // logits: [B, W, V]; x0: [B, W] int64
  const auto dtype = scalar_of(precision);
  const int64_t V = logits.size(-1);
  const torch::Tensor flat = logits.reshape({-1, V});
  const torch::Tensor index = x0.reshape({-1, 1});
  const int64_t rows = flat.size(0);
  const int64_t chunk = std::max<int64_t>(1, chunk_elements / std::max<int64_t>(V, 1));
  if (chunk >= rows) return torch::softmax(flat, -1, dtype).gather(-1, index).view(x0.sizes());
  torch::Tensor out = torch::empty({rows, 1}, logits.options().dtype(dtype));
  for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
    const int64_t n = std::min(chunk, rows - r0);
    out.narrow(0, r0, n).copy_(torch::softmax(flat.narrow(0, r0, n), -1, dtype).gather(-1, index.narrow(0, r0, n)));
  }
  return out.view(x0.sizes());
}

torch::Tensor log_normaliser(const torch::Tensor& logits, int64_t chunk_elements) {
  // logits: [B, W, V]
  const int64_t V = logits.size(-1);
  const torch::Tensor flat = logits.reshape({-1, V});
  const int64_t rows = flat.size(0);
  const int64_t chunk = std::max<int64_t>(1, chunk_elements / std::max<int64_t>(V, 1));
  torch::Tensor out = torch::empty({rows}, logits.options().dtype(torch::kFloat));
  for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
    const int64_t n = std::min(chunk, rows - r0);
    out.narrow(0, r0, n).copy_(torch::logsumexp(flat.narrow(0, r0, n).to(torch::kFloat), -1));
  }
  return out.view(logits.sizes().slice(0, logits.dim() - 1));
}

torch::Tensor select_top_k(const torch::Tensor& confidence, const torch::Tensor& k) {
  // confidence: [B, W]; k: [B]
  const int64_t W = confidence.size(1);
  auto selected = torch::zeros(confidence.sizes(), confidence.options().dtype(torch::kBool));
  const int64_t kmax = std::min<int64_t>(W, k.numel() ? k.max().item<int64_t>() : 0);
  if (kmax <= 0) return selected;
  // One top-kmax for all rows, then keep the first k[b] of row b: ranks [B, kmax] < k[b].
  const auto [values, index] = confidence.topk(kmax, /*dim=*/1);
  const auto rank = torch::arange(kmax, k.options()).unsqueeze(0);
  const auto keep = rank.lt(k.unsqueeze(1)).logical_and_(values.gt(kNegInf));
  selected.scatter_(1, index, keep);
  return selected;
}

torch::Tensor cfg_combine(const torch::Tensor& cond, const torch::Tensor& uncond, double scale) {
  return uncond + (scale + 1.0) * (cond - uncond);
}

StepResult unmask_step(torch::Tensor& x, torch::Tensor logits, int64_t offset, int64_t window_end,
                       const torch::Tensor& k, const StepSettings& s, at::Generator& gen) {
  // x: [B, T] int64; logits: [B, W, V]
  const int64_t B = x.size(0), W = logits.size(1);
  MDRL_ASSERT(logits.size(0) == B && offset >= 0 && offset + W <= x.size(1));
  torch::Tensor xw = x.narrow(1, offset, W);  // view into x
  const torch::Tensor masked = xw.eq(s.mask_id);

  // The policy's log-normaliser over the whole vocabulary, before the mask id leaves the sampling
  // (what a scoring forward's log-softmax computes); the sampled logit is unchanged by that.
  torch::Tensor lse;  // [B, W] f32
  if (s.record_logp) {
    lse = log_normaliser(logits);
  }
  if (!s.sample_mask_token && s.mask_id < logits.size(-1)) logits.select(-1, s.mask_id).fill_(kNegInf);
  const torch::Tensor x0 = sample_tokens(logits, s.temperature, s.noise_precision, s.f64_sampler, gen);  // [B, W]

  torch::Tensor conf;  // [B, W]
  const auto cdtype = scalar_of(s.confidence_precision);
  if (s.remasking == Remasking::LowConfidence) {
    conf = sampled_probability(logits, x0, s.confidence_precision);  // untempered: T does not enter it
  } else {
    conf = torch::rand({B, W}, gen, logits.options().dtype(cdtype));
  }
  if (s.gamma != 1.0 && s.eos_ids.defined() && s.eos_ids.numel() > 0) {
    // EOSER: only the confidence of EOS candidates is scaled; the sampled token stays.
    conf = torch::where(torch::isin(x0, s.eos_ids), conf * s.gamma, conf);
  }
  const auto pos = torch::arange(offset, offset + W, x.options()).unsqueeze(0);  // [1, W]
  const auto eligible = masked.logical_and(pos.lt(window_end));
  conf = conf.masked_fill(eligible.logical_not(), kNegInf);

  StepResult r;
  r.selected = select_top_k(conf, k.to(x.device()));
  xw.copy_(torch::where(r.selected, x0, xw));
  r.transfer = r.selected.logical_and(x0.ne(s.mask_id));
  r.confidence = conf.to(torch::kFloat);
  if (s.record_logp) r.logp = logits.gather(-1, x0.unsqueeze(-1)).squeeze(-1).to(torch::kFloat) - lse;
  return r;
}

}  // namespace mdrl::decode
