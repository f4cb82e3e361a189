// LLaDA architecture hyper-parameters (spec model.md §1): read from a Hugging Face config.json or
// taken from a named preset (llada-8b, and small presets for CPU work and tests).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mdrl::model {

// Upper bounds of the sizes a config may ask for: far above any LLaDA (8B: d 4096, 32 layers, mlp
// 12288, vocabulary 126464), low enough that a typo is refused before it allocates the machine away.
constexpr int64_t kMaxDModel = int64_t{1} << 16;
constexpr int64_t kMaxLayers = 1024;
constexpr int64_t kMaxMlpHidden = int64_t{1} << 20;
constexpr int64_t kMaxVocab = int64_t{1} << 24;
constexpr int64_t kMaxSeqLen = int64_t{1} << 24;

struct LladaConfig {
  int64_t d_model = 4096;
  int64_t n_layers = 32;
  int64_t n_heads = 32;
  int64_t n_kv_heads = 32;
  int64_t mlp_hidden = 12288;
  int64_t vocab_size = 126464;
  int64_t embedding_size = 126464;  // rows of wte and of the LM head (>= vocab_size)
  int64_t max_seq_len = 4096;
  double rope_theta = 500000.0;
  double rms_eps = 1e-5;
  int64_t mask_token_id = 126336;
  int64_t eos_token_id = 126081;
  int64_t pad_token_id = 126081;

  int64_t head_dim() const { return d_model / n_heads; }
  int64_t num_parameters() const;
  // Throws core::ConfigError naming `where` and the field when the shape does not work or a size is
  // outside the sane bounds below (checked before anything is allocated).
  void validate(const std::string& where) const;
  // config.json text in the Hugging Face layout (the fields the loader reads, plus LLaDA's flags);
  // torch_dtype ("float32", "bfloat16") is the dtype of the weights written beside it.
  std::string to_hf_json(const std::string& torch_dtype) const;
};

// Reads a Hugging Face config.json (the real LLaDA-8B-Instruct fields); errors name the file and field.
LladaConfig read_hf_config(const std::string& path);
// Named presets: "llada-8b", "llada-100m" (~100M parameters), "llada-100m-v126k" (llada-100m's
// layers with LLaDA's 126464-token vocabulary and special ids), "tiny" (2 layers, d 64, the byte
// tokenizer's 264-entry vocabulary). Unknown names are a ConfigError listing the valid ones.
LladaConfig preset(const std::string& name);
std::vector<std::string> preset_names();

}  // namespace mdrl::model
