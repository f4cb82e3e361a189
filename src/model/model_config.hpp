// [model] and [lora] options, and the one function the modes call to get a ready model.
#pragma once

#include <torch/types.h>

#include <string>

#include "model/llada.hpp"

namespace mdrl::config {
class Options;
}

namespace mdrl::model {

enum class DType { F32, BF16 };

struct ModelConfig {
  std::string preset = "tiny";  // used when `path` is empty
  std::string path;             // Hugging Face checkpoint folder (config.json + safetensors)
  std::string merge_adapter;    // PEFT adapter merged into the base weights at load (e.g. the SFT adapter)
  DType dtype = DType::F32;
  int64_t seed = -1;            // initialisation of presets; -1 = run.seed
  bool activation_checkpointing = false;

  void add_options(config::Options& opts);
  void validate() const;
  torch::ScalarType scalar_type() const { return dtype == DType::BF16 ? torch::kBFloat16 : torch::kFloat; }
};

struct LoraConfig {
  LoraSettings settings;  // rank 0 = full fine-tuning / no adapters
  std::string adapter;    // PEFT adapter folder to load (then rank/alpha/targets come from it)

  // Mode defaults differ (SFT: q,k,v, r 128, alpha 256; RL: q,k,v,up, r 128, alpha 64): set
  // `settings` before add_options.
  void add_options(config::Options& opts);
  void validate() const;
};

// How adapters record the model they were trained on (adapter_config.json's
// base_model_name_or_path): model.path, or "preset:<name>" for a preset.
std::string adapter_base_name(const ModelConfig& mc);

// Loads or initialises the model on `device`, adds or loads LoRA adapters, turns on activation
// checkpointing as configured. `run_seed` stands in for model.seed = -1.
LladaModel build_model(const ModelConfig& mc, const LoraConfig& lc, const torch::Device& device, uint64_t run_seed);

}  // namespace mdrl::model
