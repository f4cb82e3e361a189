#include "model/peft.hpp"

#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.hpp"
#include "core/log.hpp"
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

namespace {
bool is_preset(const std::string& s) { return s.rfind("preset:", 0) == 0; }

// Last component of a path or an "org/name" model name, trailing slashes ignored.
std::string last_component(const std::string& s) {
  std::filesystem::path p = std::filesystem::path(s).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  return p.filename().string();
}
}  // namespace

std::string adapter_base_mismatch(const std::string& recorded, const std::string& loaded) {
  if (recorded.empty() || loaded.empty() || recorded == loaded) return "";
  bool same = false;
  if (!is_preset(recorded) && !is_preset(loaded)) {
    std::error_code e1, e2, e3;
    const bool both_exist = std::filesystem::exists(recorded, e1) && std::filesystem::exists(loaded, e2);
    // Two local folders are the same model only if they are the same folder: every SFT run's
    // weights are called "final".
    same = both_exist ? std::filesystem::equivalent(recorded, loaded, e3)
                      : last_component(recorded) == last_component(loaded);
  }
  if (same) return "";
  return "adapter_config.json records base_model_name_or_path = '" + recorded + "', but the model is '" + loaded + "'";
}

void load_peft_adapter(LladaModelImpl& model, const std::string& folder, const std::string& base_model) {
  const std::string cfg_path = (std::filesystem::path(folder) / "adapter_config.json").string();
  std::ifstream in(cfg_path);
  if (!in) throw core::InputError("cannot read '" + cfg_path + "'; is '" + folder + "' a PEFT adapter folder?");
  json cfg;
  try {
    cfg = json::parse(in);
  } catch (const json::exception& e) {
    throw core::FormatError(cfg_path + ": not valid JSON: " + e.what());
  }
  if (!cfg.is_object()) throw core::FormatError(cfg_path + ": not a JSON object");
  auto field = [&](const char* name) -> const json& {
    if (!cfg.contains(name)) throw core::FormatError(cfg_path + ": missing \"" + std::string(name) + "\"");
    return cfg[name];
  };
  auto number = [&](const char* name, bool integer) -> const json& {
    const json& v = field(name);
    if (integer ? !v.is_number_integer() : !v.is_number())
      throw core::FormatError(cfg_path + ": \"" + std::string(name) + "\" = " + v.dump() + " is not " +
                              (integer ? "an integer" : "a number"));
    return v;
  };
  if (field("peft_type") != "LORA") throw core::FormatError(cfg_path + ": peft_type is not LORA");
  for (const char* unsupported : {"use_rslora", "use_dora", "fan_in_fan_out"})
    if (cfg.contains(unsupported) && cfg[unsupported] == true)
      throw core::FormatError(cfg_path + ": \"" + std::string(unsupported) + "\" adapters are not supported");
  if (cfg.contains("bias") && cfg["bias"] != "none")
    throw core::FormatError(cfg_path + ": only bias = \"none\" adapters are supported");

  // Which model the adapter was trained on, against the one it is applied to.
  const std::string recorded =
      cfg.contains("base_model_name_or_path") && cfg["base_model_name_or_path"].is_string()
          ? cfg["base_model_name_or_path"].get<std::string>()
          : "";
  const std::string mismatch = adapter_base_mismatch(recorded, base_model);
  const std::string bases = recorded.empty() ? "" : " (the adapter was trained on '" + recorded + "'; the model is '" +
                                                        (base_model.empty() ? "?" : base_model) + "')";

  LoraSettings l;
  l.rank = number("r", true).get<int64_t>();
  MDRL_CHECK(l.rank > 0, core::FormatError, cfg_path + ": \"r\" = " + std::to_string(l.rank) + " must be positive");
  l.alpha = number("lora_alpha", false).get<double>();
  l.dropout = cfg.contains("lora_dropout") && !cfg["lora_dropout"].is_null() ? number("lora_dropout", false).get<double>() : 0.0;
  const json& targets = field("target_modules");
  l.targets.clear();
  // The reference lists modules LLaDA does not have (o_proj, gate_proj, down_proj; spec §8.2 Q16):
  // PEFT matches nothing for them, and neither do we.
  static const std::set<std::string> kLlada = {"q_proj", "k_proj", "v_proj", "attn_out", "ff_proj", "up_proj", "ff_out"};
  if (!targets.is_array()) throw core::FormatError(cfg_path + ": regex target_modules are not supported; list names");
  for (const auto& t : targets)
    if (t.is_string() && kLlada.count(t.get<std::string>())) l.targets.push_back(t.get<std::string>());
  if (l.targets.empty()) throw core::FormatError(cfg_path + ": target_modules name no LLaDA projection");

  const io::SafetensorsFile weights((std::filesystem::path(folder) / "adapter_model.safetensors").string());
  // Shapes first, against the model's layers, before any adapter is added.
  std::map<std::string, std::vector<int64_t>> want;
  for (const auto& item : model.named_parameters()) {
    const std::string& key = item.key();
    const auto dot = key.rfind('.');
    if (key.rfind("blocks.", 0) != 0 || dot == std::string::npos || key.substr(dot) != ".weight") continue;
    const std::string module = key.substr(0, dot);  // blocks.N.q_proj
    const std::string proj = module.substr(module.rfind('.') + 1);
    if (std::find(l.targets.begin(), l.targets.end(), proj) == l.targets.end()) continue;
    const auto& w = item.value();  // [out, in]
    if (w.dim() != 2) continue;
    want[peft_name(module + ".lora_A")] = {l.rank, w.size(1)};
    want[peft_name(module + ".lora_B")] = {w.size(0), l.rank};
  }
  for (const auto& [name, shape] : want) {
    if (!weights.contains(name))
      throw core::FormatError(weights.path() + ": adapter tensor '" + name + "' is missing" + bases);
    const auto& e = weights.entry(name);
    if (e.shape != shape)
      throw core::FormatError(weights.path() + ": '" + name + "' has shape " + c10::str(c10::IntArrayRef(e.shape)) +
                              ", the model needs " + c10::str(c10::IntArrayRef(shape)) + bases +
                              "; this adapter does not fit the model");
  }
  for (const auto& n : weights.names())
    if (!want.count(n))
      throw core::FormatError(weights.path() + ": unexpected adapter tensor '" + n + "' (not a LoRA weight of " +
                              "the targets in adapter_config.json for this model)" + bases);
  if (!mismatch.empty())
    core::log::warn() << "lora.adapter = '" << folder << "': " << mismatch
                      << "; its shapes fit, but an adapter applied to other weights than it was trained on "
                         "gives wrong outputs. Check model.path and lora.adapter.";

  model.add_lora(l, 0);
  torch::NoGradGuard no_grad;
  for (const auto& item : model.named_parameters()) {
    if (item.key().find(".lora_") == std::string::npos) continue;
    const std::string name = peft_name(item.key());
    MDRL_ASSERT(want.count(name) && want[name] == item.value().sizes().vec());
    item.value().copy_(weights.tensor(name));
  }
}

}  // namespace mdrl::model
