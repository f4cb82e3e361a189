#include "model/peft.hpp"

#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.hpp"
#include "io/safetensors.hpp"
#include "model/hf_checkpoint.hpp"

namespace mdrl::model {

using nlohmann::json;

std::string peft_name(const std::string& ours) { return "base_model.model." + hf_name(ours) + ".weight"; }

void save_peft_adapter(const LladaModelImpl& model, const std::string& folder, const std::string& base_model) {
  MDRL_CHECK(model.has_lora(), core::InternalError, "save_peft_adapter on a model without LoRA adapters");
  std::filesystem::create_directories(folder);
  io::NamedTensorList tensors;
  for (const auto& item : model.named_parameters())
    if (item.key().find(".lora_") != std::string::npos) tensors.emplace_back(peft_name(item.key()), item.value());
  io::write_safetensors((std::filesystem::path(folder) / "adapter_model.safetensors").string(), tensors);
  const auto& l = model.lora();
  const json cfg = {{"peft_type", "LORA"},
                    {"task_type", "CAUSAL_LM"},
                    {"base_model_name_or_path", base_model},
                    {"r", l.rank},
                    {"lora_alpha", l.alpha},
                    {"lora_dropout", l.dropout},
                    {"target_modules", l.targets},
                    {"bias", "none"},
                    {"fan_in_fan_out", false},
                    {"use_rslora", false},
                    {"use_dora", false},
                    {"inference_mode", true},
                    {"modules_to_save", nullptr}};
  const std::string path = (std::filesystem::path(folder) / "adapter_config.json").string();
  std::ofstream out(path + ".tmp");
  out << cfg.dump(2) << "\n";
  out.close();
  if (!out) throw core::IoError("cannot write '" + path + "'");
  std::filesystem::rename(path + ".tmp", path);
}

void load_peft_adapter(LladaModelImpl& model, const std::string& folder) {
  const std::string cfg_path = (std::filesystem::path(folder) / "adapter_config.json").string();
  std::ifstream in(cfg_path);
  if (!in) throw core::IoError("cannot read '" + cfg_path + "'; is '" + folder + "' a PEFT adapter folder?");
  json cfg;
  try {
    cfg = json::parse(in);
  } catch (const json::exception& e) {
    throw core::FormatError(cfg_path + ": not valid JSON: " + e.what());
  }
  auto field = [&](const char* name) -> const json& {
    if (!cfg.contains(name)) throw core::FormatError(cfg_path + ": missing \"" + std::string(name) + "\"");
    return cfg[name];
  };
  if (field("peft_type") != "LORA") throw core::FormatError(cfg_path + ": peft_type is not LORA");
  for (const char* unsupported : {"use_rslora", "use_dora", "fan_in_fan_out"})
    if (cfg.value(unsupported, false))
      throw core::FormatError(cfg_path + ": \"" + std::string(unsupported) + "\" adapters are not supported");
  if (cfg.value("bias", std::string("none")) != "none")
    throw core::FormatError(cfg_path + ": only bias = \"none\" adapters are supported");
  LoraSettings l;
  l.rank = field("r").get<int64_t>();
  l.alpha = field("lora_alpha").get<double>();
  l.dropout = cfg.value("lora_dropout", 0.0);
  const json& targets = field("target_modules");
  l.targets.clear();
  // The reference lists modules LLaDA does not have (o_proj, gate_proj, down_proj; spec §8.2 Q16):
  // PEFT matches nothing for them, and neither do we.
  static const std::set<std::string> kLlada = {"q_proj", "k_proj", "v_proj", "attn_out", "ff_proj", "up_proj", "ff_out"};
  if (targets.is_string()) throw core::FormatError(cfg_path + ": regex target_modules are not supported; list names");
  for (const auto& t : targets)
    if (kLlada.count(t.get<std::string>())) l.targets.push_back(t.get<std::string>());
  if (l.targets.empty()) throw core::FormatError(cfg_path + ": target_modules name no LLaDA projection");
  model.add_lora(l, 0);

  const io::SafetensorsFile weights((std::filesystem::path(folder) / "adapter_model.safetensors").string());
  std::set<std::string> used;
  torch::NoGradGuard no_grad;
  for (const auto& item : model.named_parameters()) {
    if (item.key().find(".lora_") == std::string::npos) continue;
    const std::string name = peft_name(item.key());
    if (!weights.contains(name))
      throw core::FormatError(weights.path() + ": adapter tensor '" + name + "' is missing");
    const auto& e = weights.entry(name);
    if (e.shape != item.value().sizes().vec())
      throw core::FormatError(weights.path() + ": '" + name + "' has shape " + c10::str(c10::IntArrayRef(e.shape)) +
                              ", expected " + c10::str(item.value().sizes()));
    item.value().copy_(weights.tensor(name));
    used.insert(name);
  }
  for (const auto& n : weights.names())
    if (!used.count(n))
      throw core::FormatError(weights.path() + ": unexpected adapter tensor '" + n + "' (not a LoRA weight of " +
                              "the targets in adapter_config.json)");
}

}  // namespace mdrl::model
