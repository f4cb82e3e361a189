// Hugging Face LLaDA checkpoints (spec model.md §3): a folder with config.json and safetensors
// weights (sharded through model.safetensors.index.json, or one model.safetensors), tensor names
// "model.transformer.<our name>". Loading checks that every tensor is present with the right
// shape and that no unknown tensor is left over; export writes the same layout back.
#pragma once

#include <string>

#include "model/llada.hpp"

namespace mdrl::model {

// "model.transformer.blocks.3.q_proj.weight" for our "blocks.3.q_proj.weight".
std::string hf_name(const std::string& ours);

// Reads config.json (sizes within LladaConfig's bounds), checks it against the safetensors headers
// before allocating anything (errors name the config.json key, its value and the tensor), then
// creates the model on `device` in `dtype` and reads the weights.
LladaModel load_hf_checkpoint(const std::string& folder, const torch::Device& device, torch::ScalarType dtype);
// Copies the checkpoint's weights into an existing model of the same shape (any device/dtype).
void load_hf_weights(LladaModelImpl& model, const std::string& folder);
// Writes config.json and the base weights (LoRA adapters are not included: merge them first, or
// save them with save_peft_adapter) in `dtype`, sharded at max_shard_bytes; config.json's
// torch_dtype names `dtype`.
void export_hf_checkpoint(const LladaModelImpl& model, const std::string& folder, torch::ScalarType dtype,
                          int64_t max_shard_bytes = int64_t{5} << 30);

}  // namespace mdrl::model
