#include "model/model_config.hpp"

#include <filesystem>

#include "config/options.hpp"
#include "core/error.hpp"
#include "core/text.hpp"
#include "model/hf_checkpoint.hpp"
#include "core/rng.hpp"
#include "model/peft.hpp"

namespace mdrl::model {

void ModelConfig::add_options(config::Options& opts) {
  opts.section("model", "the LLaDA model")
      .add("preset", preset, "architecture preset when model.path is empty: " + core::join(preset_names(), ", "))
      .add("path", path, "Hugging Face checkpoint folder (config.json, model.safetensors[.index.json])")
      .add("merge_adapter", merge_adapter,
           "PEFT adapter folder merged into the base weights right after loading (the reference's adapter_path + "
           "merge_and_unload: RL from an SFT adapter); [lora] then trains fresh adapters on the merged weights and "
           "the KL reference is the merged model")
      .add_enum("dtype", dtype, {{"f32", DType::F32}, {"bf16", DType::BF16}},
                "weight dtype; RMSNorm statistics and rotary embeddings are computed in f32 either way")
      .add("seed", seed, "seed of the random initialisation of presets; -1 = run.seed")
      .add("activation_checkpointing", activation_checkpointing,
           "recompute each block in backward instead of storing its activations");
  opts.add_validator([this] { validate(); });
}

void ModelConfig::validate() const {
  if (path.empty()) {
    const auto names = preset_names();
    MDRL_CHECK(std::find(names.begin(), names.end(), preset) != names.end(), core::ConfigError,
               "model.preset = '" + preset + "' is unknown; valid presets: " + core::join(names, ", "));
  }
  MDRL_CHECK(seed >= -1, core::ConfigError, "model.seed = " + std::to_string(seed) + "; use -1 or a seed >= 0");
  // Checked here, before anything is loaded, like tokenizer.path: a typo fails in a second, not
  // after minutes of loading data.
  std::error_code ec;
  MDRL_CHECK(path.empty() || std::filesystem::is_directory(path, ec), core::ConfigError,
             "model.path = '" + path + "' is not a folder; give a Hugging Face LLaDA folder (config.json + "
             "*.safetensors), or leave it empty to use model.preset");
  MDRL_CHECK(merge_adapter.empty() || std::filesystem::is_directory(merge_adapter, ec), core::ConfigError,
             "model.merge_adapter = '" + merge_adapter + "' is not a folder; give a PEFT adapter folder "
             "(adapter_config.json + adapter_model.safetensors), or leave it empty");
}

void LoraConfig::add_options(config::Options& opts) {
  opts.section("lora", "LoRA adapters")
      .add("rank", settings.rank, "adapter rank r; 0 = no adapters (full fine-tuning)")
      .add("alpha", settings.alpha, "scale alpha (the update is alpha / r * B A)")
      .add("dropout", settings.dropout, "dropout on the adapter input while training")
      .add_list("targets", settings.targets, "projections that get adapters: q_proj, k_proj, v_proj, attn_out, "
                                             "ff_proj, up_proj, ff_out")
      .add("adapter", adapter, "PEFT adapter folder to load (adapter_config.json + adapter_model.safetensors)");
  opts.add_validator([this] { validate(); });
}

void LoraConfig::validate() const {
  MDRL_CHECK(settings.rank >= 0, core::ConfigError, "lora.rank must be >= 0");
  MDRL_CHECK(settings.dropout >= 0 && settings.dropout < 1, core::ConfigError,
             "lora.dropout = " + std::to_string(settings.dropout) + " must be in [0, 1)");
  MDRL_CHECK(settings.rank == 0 || !settings.targets.empty(), core::ConfigError,
             "lora.targets is empty while lora.rank > 0");
  std::error_code ec;
  MDRL_CHECK(adapter.empty() || std::filesystem::is_directory(adapter, ec), core::ConfigError,
             "lora.adapter = '" + adapter + "' is not a folder; give a PEFT adapter folder (adapter_config.json + "
             "adapter_model.safetensors), or leave it empty");
}

std::string adapter_base_name(const ModelConfig& mc) { return mc.path.empty() ? "preset:" + mc.preset : mc.path; }

LladaModel build_model(const ModelConfig& mc, const LoraConfig& lc, const torch::Device& device, uint64_t run_seed) {
  const uint64_t seed = mc.seed >= 0 ? static_cast<uint64_t>(mc.seed) : run_seed;
  LladaModel model{nullptr};
  if (!mc.path.empty()) {
    model = load_hf_checkpoint(mc.path, device, mc.scalar_type());
  } else {
    model = LladaModel(preset(mc.preset), seed);
    model->to(device, mc.scalar_type());
  }
  if (!mc.merge_adapter.empty()) {
    load_peft_adapter(*model, mc.merge_adapter, adapter_base_name(mc));
    model->merge_lora();
    for (auto& p : model->parameters()) p.set_requires_grad(true);  // a plain model again
  }
  if (!lc.adapter.empty()) {
    load_peft_adapter(*model, lc.adapter, adapter_base_name(mc));
  } else if (lc.settings.rank > 0) {
    model->add_lora(lc.settings, seed);
  }
  model->seed_dropout(core::RngStream(seed, 0, core::RngPurpose::Dropout).derive_seed());
  model->set_activation_checkpointing(mc.activation_checkpointing);
  return model;
}

}  // namespace mdrl::model
