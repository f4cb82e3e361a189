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
// adapter_config.json) and loads their weights.
void load_peft_adapter(LladaModelImpl& model, const std::string& folder);

}  // namespace mdrl::model
