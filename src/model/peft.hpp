// LoRA adapters in the PEFT format, so adapters trained by the Python reference (peft 0.15) load
// here and ours load there: adapter_config.json (peft_type LORA, r, lora_alpha, lora_dropout,
// target_modules, ...) and adapter_model.safetensors with PEFT's names for LLaDA modules,
//   base_model.model.model.transformer.blocks.N.<module>.lora_A.weight  [r, in]
//   base_model.model.model.transformer.blocks.N.<module>.lora_B.weight  [out, r]
#pragma once

#include <string>

#include "model/llada.hpp"

namespace mdrl::model {

std::string peft_name(const std::string& ours);  // ours: "blocks.0.q_proj.lora_A"

void save_peft_adapter(const LladaModelImpl& model, const std::string& folder, const std::string& base_model = "");
// Adds adapters from `folder` to a model without adapters (rank, alpha, dropout and targets from
// adapter_config.json) and loads their weights. `base_model` names the loaded model as
// save_peft_adapter records it (model::adapter_base_name): when adapter_config.json's
// base_model_name_or_path names another model, a warning names both (the shapes may fit other
// weights of the same architecture); when the shapes do not fit, the error names both.
void load_peft_adapter(LladaModelImpl& model, const std::string& folder, const std::string& base_model = "");

// "" when an adapter recorded with base `recorded` looks made for the model `loaded` (or either is
// unknown, i.e. empty); otherwise why not. Both are paths, Hugging Face names ("org/name") or
// "preset:<name>": two existing paths are compared as files (symlinks resolved); otherwise two
// paths or names match when their last components agree ("GSAI-ML/LLaDA-8B-Instruct" fits
// "/models/LLaDA-8B-Instruct").
std::string adapter_base_mismatch(const std::string& recorded, const std::string& loaded);

}  // namespace mdrl::model
