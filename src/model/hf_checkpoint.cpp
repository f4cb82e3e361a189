#include "model/hf_checkpoint.hpp"

#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "core/error.hpp"
#include "core/log.hpp"
#include "io/safetensors.hpp"

namespace mdrl::model {

namespace {
constexpr const char* kPrefix = "model.transformer.";

bool is_adapter(const std::string& name) {
  return name.find(".lora_A") != std::string::npos || name.find(".lora_B") != std::string::npos;
}
}  // namespace

std::string hf_name(const std::string& ours) { return kPrefix + ours; }

void load_hf_weights(LladaModelImpl& model, const std::string& folder) {
  const io::SafetensorsCheckpoint ckpt(folder);
  std::set<std::string> expected;
  torch::NoGradGuard no_grad;
  for (const auto& item : model.named_parameters()) {
    if (is_adapter(item.key())) continue;
    const std::string name = hf_name(item.key());
    expected.insert(name);
    if (!ckpt.contains(name))
      throw core::FormatError(folder + ": tensor '" + name + "' is missing; is this a LLaDA checkpoint with " +
                              std::to_string(model.config().n_layers) + " layers?");
    const auto& e = ckpt.entry(name);
    if (e.shape != item.value().sizes().vec())
      throw core::FormatError(ckpt.file_of(name) + ": tensor '" + name + "' has shape " +
                              c10::str(c10::IntArrayRef(e.shape)) + ", the model expects " +
                              c10::str(item.value().sizes()));
    item.value().copy_(ckpt.tensor(name));  // converts dtype, copies to the parameter's device
  }
  std::vector<std::string> unexpected;
  for (const auto& n : ckpt.names())
    if (!expected.count(n)) unexpected.push_back(n);
  if (!unexpected.empty())
    throw core::FormatError(folder + ": " + std::to_string(unexpected.size()) + " unexpected tensor(s), e.g. '" +
                            unexpected.front() + "'; the checkpoint does not match the LLaDA layout of config.json");
}

LladaModel load_hf_checkpoint(const std::string& folder, const torch::Device& device, torch::ScalarType dtype) {
  const LladaConfig cfg = read_hf_config((std::filesystem::path(folder) / "config.json").string());
  LladaModel model(cfg, 0);
  model->to(device, dtype);
  load_hf_weights(*model, folder);
  core::log::info() << "loaded " << folder << ": " << cfg.n_layers << " layers, d " << cfg.d_model << ", "
                    << static_cast<double>(cfg.num_parameters()) / 1e6 << "M parameters, " << c10::toString(dtype) << " on " << device;
  return model;
}

void export_hf_checkpoint(const LladaModelImpl& model, const std::string& folder, torch::ScalarType dtype,
                          int64_t max_shard_bytes) {
  std::filesystem::create_directories(folder);
  io::NamedTensorList tensors;
  for (const auto& item : model.named_parameters()) {
    if (is_adapter(item.key())) continue;
    tensors.emplace_back(hf_name(item.key()), item.value().detach().to(torch::kCPU, dtype));
  }
  io::write_safetensors_checkpoint(folder, tensors, max_shard_bytes);
  const std::string cfg_path = (std::filesystem::path(folder) / "config.json").string();
  std::ofstream out(cfg_path + ".tmp");
  out << model.config().to_hf_json();
  out.close();
  if (!out) throw core::IoError("cannot write '" + cfg_path + "'");
  std::filesystem::rename(cfg_path + ".tmp", cfg_path);
}

}  // namespace mdrl::model
