// The LLaDA transformer (spec model.md §2): token embedding, pre-norm blocks with bidirectional
// multi-head attention (rotary embeddings, rotate-half, in f32) and a SwiGLU MLP, final RMSNorm,
// separate LM head, no biases. Module names follow the Hugging Face checkpoint below
// "model.transformer." (wte, blocks.N.{attn_norm,q_proj,k_proj,v_proj,attn_out,ff_norm,ff_proj,
// up_proj,ff_out}, ln_f, ff_out), so loading and export are a prefix away. The model runs on one
// device and knows nothing of MPI (DESIGN.md principle 2).
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/embedding.h>

#include <memory>
#include <string>
#include <vector>

#include "model/llada_config.hpp"
#include "model/lora.hpp"

namespace mdrl::model {

class RMSNormImpl : public torch::nn::Module {
 public:
  RMSNormImpl(int64_t dim, double eps);
  // x: [..., dim]; statistics in f32, normalised value cast back, then scaled in x's dtype.
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor weight;  // [dim]

 private:
  double eps_;
};
TORCH_MODULE(RMSNorm);

// cos/sin tables [T, head_dim] in f32 for positions 0..T-1 (cat(angle, angle) layout).
struct RotaryTables {
  torch::Tensor cos, sin;
};

// Output rows lo .. lo + len - 1 of a block (len < 0: all rows). A block restricted to a window
// computes its queries, attention output and MLP for those rows only (keys and values for all
// rows): the same values as the full block's rows there, for less work.
struct RowWindow {
  int64_t lo = 0, len = -1;
  bool all(int64_t T) const { return len < 0 || (lo == 0 && len == T); }
};

class LladaBlockImpl : public torch::nn::Module {
 public:
  LladaBlockImpl(const LladaConfig& cfg, const std::shared_ptr<AdapterSwitch>& adapters);
  // x: [B, T, d]; key_mask: [B, 1, 1, T] bool (true = attend) or undefined; rope tables for T.
  // With a window: returns [B, window.len, d], the rows of the window only.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& key_mask, const RotaryTables& rope,
                        RowWindow window = {});

  RMSNorm attn_norm{nullptr}, ff_norm{nullptr};
  LoraLinear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, attn_out{nullptr};
  LoraLinear ff_proj{nullptr}, up_proj{nullptr}, ff_out{nullptr};

 private:
  int64_t n_heads_, n_kv_heads_, head_dim_;
};
TORCH_MODULE(LladaBlock);

struct LoraSettings {
  int64_t rank = 0;  // 0 = no adapters
  double alpha = 16;
  double dropout = 0.05;
  std::vector<std::string> targets = {"q_proj", "k_proj", "v_proj"};
};

class LladaModelImpl : public torch::nn::Module {
 public:
  // Parameters are created on the CPU in f32 and initialised with `seed` (spec §1 "mitchell"
  // init: truncated normal at 3 sigma, sigma = 1/sqrt(d_in), output projections scaled by
  // 1/sqrt(2 (layer + 1))); move with to(device, dtype) afterwards.
  LladaModelImpl(const LladaConfig& cfg, uint64_t seed = 0);

  const LladaConfig& config() const { return cfg_; }

  // ids: [B, T] int64; attention_mask: [B, T] (bool or 0/1), undefined = attend everywhere.
  // Returns the final hidden states [B, T, d] after ln_f.
  torch::Tensor hidden(const torch::Tensor& ids, const torch::Tensor& attention_mask = {});
  // The final hidden states of positions window.lo .. lo + len - 1 only, [B, len, d]: the last
  // block runs its query side on those rows (what the decoder's window and the RL losses' completion
  // need); equal to hidden(ids, attention_mask).narrow(1, lo, len) up to rounding.
  torch::Tensor hidden(const torch::Tensor& ids, const torch::Tensor& attention_mask, RowWindow window);
  // Calls of hidden() so far (each is one forward of the whole stack, whatever the batch); the
  // RL loop reports forwards per phase from it. Recomputation in backward is not counted.
  int64_t forward_count() const { return forwards_; }
  // LM head on hidden [B, T, d] -> logits [B, T, V]; or only at positions [B, P] -> [B, P, V],
  // which is what the RL losses need (a [B, T, V] tensor is never built then).
  torch::Tensor logits(const torch::Tensor& hidden, const torch::Tensor& positions = {});
  torch::Tensor forward(const torch::Tensor& ids, const torch::Tensor& attention_mask = {}) {
    return logits(hidden(ids, attention_mask));
  }

  // LoRA: adds fresh adapters to the named projections of every block (A drawn from `seed`),
  // freezes every base weight; the adapters are then the only trainable parameters.
  void add_lora(const LoraSettings& lora, uint64_t seed);
  void set_adapters_enabled(bool enabled) { adapters_->enabled = enabled; }
  bool adapters_enabled() const { return adapters_->enabled; }
  bool has_lora() const { return lora_.rank > 0; }
  const LoraSettings& lora() const { return lora_; }
  void merge_lora();
  // Seeds the private generator of LoRA dropout masks (placed on the model's device).
  void seed_dropout(uint64_t seed);

  // Recompute each block in backward instead of keeping its activations.
  void set_activation_checkpointing(bool on) { checkpointing_ = on; }
  bool activation_checkpointing() const { return checkpointing_; }

  std::vector<torch::Tensor> trainable_parameters() const;

  torch::nn::Embedding wte{nullptr};
  torch::nn::ModuleList blocks{nullptr};
  RMSNorm ln_f{nullptr};
  LoraLinear ff_out{nullptr};  // LM head [embedding_size, d]

 private:
  RotaryTables rope_for(int64_t T, const torch::Device& device);

  LladaConfig cfg_;
  std::shared_ptr<AdapterSwitch> adapters_;
  LoraSettings lora_;
  bool checkpointing_ = false;
  int64_t forwards_ = 0;
  RotaryTables rope_;
};
TORCH_MODULE(LladaModel);

// Log-probabilities of chosen tokens at chosen positions (DESIGN.md: the one path of SFT's CE and
// every RL estimator's old, ref and current log-probs). hidden: [B, T, d] from model.hidden();
// flat_index: [M] int64 positions into B*T; tokens: [B, T] int64 (the token whose log-prob is
// wanted at each position). Returns [M] f32: log_softmax of the f32 logits at those positions only
// (the LM head runs on M rows; no [B, T, V] tensor). Differentiable wrt the model.
torch::Tensor token_logprobs(LladaModelImpl& model, const torch::Tensor& hidden, const torch::Tensor& flat_index,
                             const torch::Tensor& tokens);

// RAII: adapters off in a scope (reference log-probs), restored after.
class AdaptersDisabled {
 public:
  explicit AdaptersDisabled(LladaModelImpl& m) : m_(m), was_(m.adapters_enabled()) { m_.set_adapters_enabled(false); }
  ~AdaptersDisabled() { m_.set_adapters_enabled(was_); }
  AdaptersDisabled(const AdaptersDisabled&) = delete;
  AdaptersDisabled& operator=(const AdaptersDisabled&) = delete;

 private:
  LladaModelImpl& m_;
  bool was_;
};

// Recomputes `block` in backward (model/checkpointing.cpp). x: [B, T, d].
torch::Tensor checkpointed_block(LladaBlockImpl& block, const torch::Tensor& x, const torch::Tensor& key_mask,
                                 const RotaryTables& rope, const std::shared_ptr<AdapterSwitch>& adapters,
                                 RowWindow window = {});

}  // namespace mdrl::model
