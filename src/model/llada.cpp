#include "model/llada.hpp"

#include <torch/torch.h>

#include <cmath>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "model/fused_ops.hpp"

namespace mdrl::model {

// ---- RMSNorm (spec §2.3) -----------------------------------------------------------------------

RMSNormImpl::RMSNormImpl(int64_t dim, double eps) : eps_(eps) {
  weight = register_parameter("weight", torch::ones({dim}));
}

torch::Tensor RMSNormImpl::forward(const torch::Tensor& x) {
  return fused::rms_norm(x, weight, eps_);
}

// ---- Block (spec §2.2, §2.4) -------------------------------------------------------------------

LladaBlockImpl::LladaBlockImpl(const LladaConfig& cfg, const std::shared_ptr<AdapterSwitch>& adapters)
    : n_heads_(cfg.n_heads), n_kv_heads_(cfg.n_kv_heads), head_dim_(cfg.head_dim()) {
  const int64_t d = cfg.d_model, kv = cfg.n_kv_heads * cfg.head_dim();
  attn_norm = register_module("attn_norm", RMSNorm(d, cfg.rms_eps));
  q_proj = register_module("q_proj", LoraLinear(d, d, adapters));
  k_proj = register_module("k_proj", LoraLinear(d, kv, adapters));
  v_proj = register_module("v_proj", LoraLinear(d, kv, adapters));
  attn_out = register_module("attn_out", LoraLinear(d, d, adapters));
  ff_norm = register_module("ff_norm", RMSNorm(d, cfg.rms_eps));
  ff_proj = register_module("ff_proj", LoraLinear(d, cfg.mlp_hidden, adapters));
  up_proj = register_module("up_proj", LoraLinear(d, cfg.mlp_hidden, adapters));
  ff_out = register_module("ff_out", LoraLinear(cfg.mlp_hidden, d, adapters));
}

torch::Tensor LladaBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& key_mask, const RotaryTables& rope,
                                      RowWindow window) {
  const int64_t B = x.size(0), T = x.size(1);
  const bool all = window.all(T);
  MDRL_ASSERT(all || (window.lo >= 0 && window.len > 0 && window.lo + window.len <= T));
  const int64_t lo = all ? 0 : window.lo, Tq = all ? T : window.len;
  const torch::Tensor a = attn_norm(x);
  const torch::Tensor aq = all ? a : a.narrow(1, lo, Tq);  // the rows that get queries
  // Heads: [B, T, d] -> [B, H, T, h]; head i is columns h*i .. h*i+h-1 of the projection. q, k
  // rotated in f32 and cast back (rope_full_precision), in one pass that also moves the heads.
  torch::Tensor q = fused::rope_heads(q_proj(aq).view({B, Tq, n_heads_, head_dim_}), rope.cos.narrow(0, lo, Tq),
                                      rope.sin.narrow(0, lo, Tq));
  torch::Tensor k = fused::rope_heads(k_proj(a).view({B, T, n_kv_heads_, head_dim_}), rope.cos, rope.sin);
  torch::Tensor v = v_proj(a).view({B, T, n_kv_heads_, head_dim_}).transpose(1, 2);
  if (n_kv_heads_ != n_heads_) {
    k = k.repeat_interleave(n_heads_ / n_kv_heads_, 1);
    v = v.repeat_interleave(n_heads_ / n_kv_heads_, 1);
  }
  // Bidirectional: no causal mask; the optional mask only hides padded keys (spec §2.4).
  const torch::Tensor o = at::scaled_dot_product_attention(q, k, v, key_mask.defined() ? std::optional(key_mask)
                                                                                       : std::nullopt,
                                                           0.0, /*is_causal=*/false);
  const torch::Tensor xq = all ? x : x.narrow(1, lo, Tq);
  torch::Tensor h = xq + attn_out(o.transpose(1, 2).reshape({B, Tq, n_heads_ * head_dim_}));
  const torch::Tensor m = ff_norm(h);
  // SwiGLU: ff_proj is the gate (SiLU side), up_proj the linear side, ff_out the down projection.
  return h + ff_out(fused::swiglu(ff_proj(m), up_proj(m)));
}

// ---- Model ---------------------------------------------------------------------------------------

namespace {
// Truncated normal at +-3 sigma by inverse CDF (as torch.nn.init.trunc_normal_).
void trunc_normal(torch::Tensor& t, double std, at::Generator& gen) {
  const double lo = 0.5 * (1.0 + std::erf(-3.0 / std::sqrt(2.0)));
  const double hi = 0.5 * (1.0 + std::erf(3.0 / std::sqrt(2.0)));
  t.uniform_(2 * lo - 1, 2 * hi - 1, gen).erfinv_().mul_(std * std::sqrt(2.0)).clamp_(-3 * std, 3 * std);
}
}  // namespace

LladaModelImpl::LladaModelImpl(const LladaConfig& cfg, uint64_t seed)
    : cfg_(cfg), adapters_(std::make_shared<AdapterSwitch>()) {
  cfg_.validate("model");
  const int64_t d = cfg.d_model;
  wte = register_module("wte", torch::nn::Embedding(cfg.embedding_size, d));
  blocks = register_module("blocks", torch::nn::ModuleList());
  for (int64_t i = 0; i < cfg.n_layers; ++i) blocks->push_back(LladaBlock(cfg, adapters_));
  ln_f = register_module("ln_f", RMSNorm(d, cfg.rms_eps));
  ff_out = register_module("ff_out", LoraLinear(d, cfg.embedding_size, adapters_));

  // Init from the run's init stream: the same weights on every device and rank.
  torch::NoGradGuard no_grad;
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(core::RngStream(seed, 0, core::RngPurpose::Init).derive_seed());
  const double s_d = 1.0 / std::sqrt(static_cast<double>(d));
  trunc_normal(wte->weight, s_d, gen);
  trunc_normal(ff_out->weight, s_d, gen);
  for (int64_t i = 0; i < cfg.n_layers; ++i) {
    auto& b = *blocks->ptr<LladaBlockImpl>(static_cast<size_t>(i));
    const double layer = 1.0 / std::sqrt(2.0 * static_cast<double>(i + 1));
    for (auto* lin : {&b.q_proj, &b.k_proj, &b.v_proj, &b.ff_proj, &b.up_proj}) trunc_normal((*lin)->weight, s_d, gen);
    trunc_normal(b.attn_out->weight, s_d * layer, gen);
    trunc_normal(b.ff_out->weight, layer / std::sqrt(static_cast<double>(cfg.mlp_hidden)), gen);
  }
  adapters_->dropout_gen = at::make_generator<at::CPUGeneratorImpl>(
      core::RngStream(seed, 0, core::RngPurpose::Dropout).derive_seed());
}

RotaryTables LladaModelImpl::rope_for(int64_t T, const torch::Device& device) {
  if (!rope_.cos.defined() || rope_.cos.size(0) < T || rope_.cos.device() != device) {
    const int64_t h = cfg_.head_dim();
    const int64_t n = std::max<int64_t>(T, std::min<int64_t>(cfg_.max_seq_len, 4096));
    const auto f32 = torch::TensorOptions().dtype(torch::kFloat).device(device);
    // inv_freq[j] = theta^(-2j/h), j < h/2; angles [n, h/2] duplicated to [n, h].
    const torch::Tensor inv_freq =
        torch::pow(cfg_.rope_theta, -torch::arange(0, h, 2, f32.dtype(torch::kDouble).device(device)) / h).to(torch::kFloat);
    const torch::Tensor angle = torch::outer(torch::arange(n, f32), inv_freq);
    const torch::Tensor full = torch::cat({angle, angle}, -1);
    rope_ = {full.cos(), full.sin()};
  }
  return {rope_.cos.narrow(0, 0, T), rope_.sin.narrow(0, 0, T)};
}

torch::Tensor LladaModelImpl::hidden(const torch::Tensor& ids, const torch::Tensor& attention_mask) {
  return hidden(ids, attention_mask, RowWindow{});
}

torch::Tensor LladaModelImpl::hidden(const torch::Tensor& ids, const torch::Tensor& attention_mask, RowWindow window) {
  MDRL_CHECK(ids.dim() == 2, core::InternalError, "LLaDA input ids must be [B, T]");
  MDRL_CHECK(window.all(ids.size(1)) || (window.lo >= 0 && window.len > 0 && window.lo + window.len <= ids.size(1)),
             core::InternalError, "hidden(): row window outside the sequence");
  ++forwards_;
  const int64_t T = ids.size(1);
  torch::Tensor x = wte(ids);
  const RotaryTables rope = rope_for(T, x.device());
  torch::Tensor key_mask;
  if (attention_mask.defined()) {
    const torch::Tensor keep = attention_mask.to(torch::kBool);
    // Only when something is padded (the reference adds no bias otherwise).
    if (!keep.all().item<bool>()) key_mask = keep.view({ids.size(0), 1, 1, T});
  }
  const bool ckpt = checkpointing_ && is_training() && torch::GradMode::is_enabled();
  for (size_t i = 0; i < blocks->size(); ++i) {
    auto& block = *blocks->ptr<LladaBlockImpl>(i);
    const RowWindow w = i + 1 == blocks->size() ? window : RowWindow{};  // only the last block narrows
    x = ckpt ? checkpointed_block(block, x, key_mask, rope, adapters_, w) : block.forward(x, key_mask, rope, w);
  }
  return ln_f(x);
}

torch::Tensor LladaModelImpl::logits(const torch::Tensor& hidden, const torch::Tensor& positions) {
  if (!positions.defined()) return ff_out(hidden);
  // positions: [B, P] -> gather the P hidden rows first, so the head runs on B*P rows only.
  const torch::Tensor idx = positions.unsqueeze(-1).expand({positions.size(0), positions.size(1), hidden.size(-1)});
  return ff_out(hidden.gather(1, idx));
}

torch::Tensor token_logprobs(LladaModelImpl& model, const torch::Tensor& hidden, const torch::Tensor& flat_index,
                             const torch::Tensor& tokens) {
  // hidden: [B, T, d]; flat_index: [M]; tokens: [B, T]
  const int64_t B = hidden.size(0), T = hidden.size(1);
  MDRL_ASSERT(tokens.size(0) == B && tokens.size(1) == T && flat_index.dim() == 1);
  const auto idx = flat_index.to(hidden.device());
  const auto h = hidden.reshape({B * T, hidden.size(-1)}).index_select(0, idx);          // [M, d]
  const auto logp = torch::log_softmax(model.ff_out(h).to(torch::kFloat), -1);           // [M, V] f32
  const auto chosen = tokens.reshape({-1}).to(hidden.device()).index_select(0, idx);     // [M]
  return logp.gather(1, chosen.unsqueeze(1)).squeeze(1);                                  // [M]
}

void LladaModelImpl::add_lora(const LoraSettings& lora, uint64_t seed) {
  MDRL_CHECK(lora.rank > 0, core::ConfigError, "lora.rank must be positive to add adapters");
  MDRL_CHECK(!has_lora(), core::InternalError, "LoRA adapters added twice");
  static const std::vector<std::string> kTargets = {"q_proj", "k_proj", "v_proj", "attn_out", "ff_proj", "up_proj", "ff_out"};
  for (const auto& t : lora.targets)
    MDRL_CHECK(std::find(kTargets.begin(), kTargets.end(), t) != kTargets.end(), core::ConfigError,
               "lora.targets: '" + t + "' is not a LLaDA projection; valid: q_proj, k_proj, v_proj, attn_out, ff_proj, "
               "up_proj, ff_out");
  for (auto& p : parameters()) p.set_requires_grad(false);
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(core::RngStream(seed, 0, core::RngPurpose::Init, core::rng_block::kLoraInit).derive_seed());
  for (size_t i = 0; i < blocks->size(); ++i) {
    auto& b = *blocks->ptr<LladaBlockImpl>(i);
    for (const auto& item : b.named_children()) {
      if (std::find(lora.targets.begin(), lora.targets.end(), item.key()) == lora.targets.end()) continue;
      if (auto* lin = dynamic_cast<LoraLinearImpl*>(item.value().get()))
        lin->add_adapter(lora.rank, lora.alpha, lora.dropout, gen);
    }
  }
  lora_ = lora;
}

void LladaModelImpl::merge_lora() {
  for (size_t i = 0; i < blocks->size(); ++i)
    for (const auto& child : blocks->ptr<LladaBlockImpl>(i)->children())
      if (auto* lin = dynamic_cast<LoraLinearImpl*>(child.get())) lin->merge_adapter();
  lora_ = LoraSettings{};
  lora_.rank = 0;
}

void LladaModelImpl::seed_dropout(uint64_t seed) {
  const torch::Device device = wte->weight.device();
  adapters_->dropout_gen = device.is_cpu() ? at::make_generator<at::CPUGeneratorImpl>(seed)
                                           : at::globalContext().defaultGenerator(device).clone();
  adapters_->dropout_gen.set_current_seed(seed);
}

std::vector<torch::Tensor> LladaModelImpl::trainable_parameters() const {
  std::vector<torch::Tensor> out;
  for (const auto& p : parameters())
    if (p.requires_grad()) out.push_back(p);
  return out;
}

}  // namespace mdrl::model
