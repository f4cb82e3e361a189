// The SFT objective (sft_objective.hpp).
#include "sft/sft_objective.hpp"

#include <torch/torch.h>

#include <algorithm>

#include "core/error.hpp"
#include "model/llada.hpp"

namespace mdrl::sft {

SftBatch collate(const std::vector<const SftSequence*>& seqs, int64_t pad_id, int64_t pad_to) {
  MDRL_CHECK(!seqs.empty(), core::InternalError, "collate: empty batch");
  int64_t n = pad_to;
  if (n <= 0)
    for (const auto* s : seqs) n = std::max<int64_t>(n, static_cast<int64_t>(s->ids.size()));
  const auto B = static_cast<int64_t>(seqs.size());
  SftBatch b;
  b.ids = torch::full({B, n}, pad_id, torch::kLong);
  b.prompt_len = torch::empty({B}, torch::kLong);
  auto ids = b.ids.accessor<int64_t, 2>();
  auto pl = b.prompt_len.accessor<int64_t, 1>();
  for (int64_t i = 0; i < B; ++i) {
    const auto& s = *seqs[static_cast<size_t>(i)];
    MDRL_CHECK(static_cast<int64_t>(s.ids.size()) <= n, core::InternalError, "collate: sequence longer than pad_to");
    for (size_t j = 0; j < s.ids.size(); ++j) ids[i][static_cast<int64_t>(j)] = s.ids[j];
    pl[i] = s.prompt_len;
    b.prompt_tokens += s.prompt_len;
  }
  return b;
}

Noised forward_process(const SftBatch& batch, int64_t mask_id, double eps, at::Generator& gen,
                       const std::optional<std::vector<double>>& fixed_t) {
  const int64_t B = batch.ids.size(0), N = batch.ids.size(1);
  Noised out;
  torch::Tensor t;
  if (fixed_t) {
    MDRL_CHECK(static_cast<int64_t>(fixed_t->size()) == B, core::InternalError, "forward_process: one t per row");
    t = torch::tensor(*fixed_t, torch::kDouble).to(torch::kFloat);
  } else {
    t = torch::rand({B}, gen, torch::kFloat);
  }
  out.t_prime = (1.0 - eps) * t + eps;
  const auto u = torch::rand({B, N}, gen, torch::kFloat);
  const auto positions = torch::arange(N, torch::kLong).unsqueeze(0);
  const auto response = positions >= batch.prompt_len.unsqueeze(1);
  out.targets = (u < out.t_prime.unsqueeze(1)).logical_and_(response);
  out.noisy = batch.ids.masked_fill(out.targets, mask_id);
  return out;
}

SftLoss sft_loss(model::LladaModelImpl& model, const SftBatch& batch, const Noised& noised, LossNorm norm,
                 const at::Device& device) {
  const int64_t B = batch.ids.size(0), N = batch.ids.size(1);
  SftLoss r;
  const auto flat_targets = noised.targets.reshape({-1});
  const auto idx = flat_targets.nonzero().reshape({-1});  // [M] positions in B*N
  r.masked = idx.size(0);
  const auto hidden = model.hidden(noised.noisy.to(device));  // [B, N, d]
  if (r.masked == 0) {
    // Nothing to score (every response token survived the noise): a zero loss that keeps the graph.
    r.loss = hidden.sum() * 0.0;
    return r;
  }
  // CE = -log p of the clean token at each masked position (the LM head on those M rows only).
  const auto ce = model::token_logprobs(model, hidden, idx, batch.ids).neg();  // [M] f32
  const auto row = idx.div(N, "floor").to(device);
  const auto weight = noised.t_prime.to(device).index_select(0, row);  // t'_b per scored position
  const auto weighted = (ce / weight).sum();
  const double denom = norm == LossNorm::Reference ? static_cast<double>(B * N - batch.prompt_tokens)
                                                   : static_cast<double>(r.masked);
  r.loss = weighted / std::max(1.0, denom);
  r.ce_sum = ce.detach().sum().item<double>();
  return r;
}

}  // namespace mdrl::sft
