#include "model/hf_checkpoint.hpp"

#include <torch/torch.h>

#include <algorithm>
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

// One base tensor the config implies, with the config.json key that sets each dimension.
struct ExpectedTensor {
  std::string name;  // HF name
  std::vector<int64_t> shape;
  std::vector<const char*> keys;
};

// The tensors of LladaModelImpl's named_parameters() without adapters (spec model.md §3.2), from
// the config alone: nothing is allocated. The round-trip test pins that the two agree.
std::vector<ExpectedTensor> expected_tensors(const LladaConfig& c) {
  const int64_t d = c.d_model, kv = c.n_kv_heads * c.head_dim(), h = c.mlp_hidden, e = c.embedding_size;
  std::vector<ExpectedTensor> out = {{hf_name("wte.weight"), {e, d}, {"embedding_size", "d_model"}}};
  for (int64_t i = 0; i < c.n_layers; ++i) {
    const std::string b = "blocks." + std::to_string(i) + ".";
    out.push_back({hf_name(b + "attn_norm.weight"), {d}, {"d_model"}});
    out.push_back({hf_name(b + "q_proj.weight"), {d, d}, {"d_model", "d_model"}});
    out.push_back({hf_name(b + "k_proj.weight"), {kv, d}, {"n_kv_heads", "d_model"}});
    out.push_back({hf_name(b + "v_proj.weight"), {kv, d}, {"n_kv_heads", "d_model"}});
    out.push_back({hf_name(b + "attn_out.weight"), {d, d}, {"d_model", "d_model"}});
    out.push_back({hf_name(b + "ff_norm.weight"), {d}, {"d_model"}});
    out.push_back({hf_name(b + "ff_proj.weight"), {h, d}, {"mlp_hidden_size", "d_model"}});
    out.push_back({hf_name(b + "up_proj.weight"), {h, d}, {"mlp_hidden_size", "d_model"}});
    out.push_back({hf_name(b + "ff_out.weight"), {d, h}, {"d_model", "mlp_hidden_size"}});
  }
  out.push_back({hf_name("ln_f.weight"), {d}, {"d_model"}});
  out.push_back({hf_name("ff_out.weight"), {e, d}, {"embedding_size", "d_model"}});
  return out;
}

std::string key_value(const LladaConfig& c, const std::string& key) {
  if (key == "d_model") return "d_model = " + std::to_string(c.d_model);
  if (key == "mlp_hidden_size") return "mlp_hidden_size = " + std::to_string(c.mlp_hidden);
  if (key == "embedding_size") return "embedding_size = " + std::to_string(c.embedding_size);
  return "n_kv_heads = " + std::to_string(c.n_kv_heads) + " (x head dim d_model / n_heads = " +
         std::to_string(c.head_dim()) + ")";
}

std::string shape_str(const std::vector<int64_t>& s) { return c10::str(c10::IntArrayRef(s)); }

// Number of blocks.N the weights hold (max N + 1), for the n_layers message.
int64_t blocks_in(const io::SafetensorsCheckpoint& ckpt) {
  const std::string blocks = std::string(kPrefix) + "blocks.";
  int64_t n = 0;
  for (const auto& name : ckpt.names()) {
    if (name.rfind(blocks, 0) != 0) continue;
    try {
      n = std::max<int64_t>(n, std::stoll(name.substr(blocks.size())) + 1);
    } catch (const std::exception&) {
    }
  }
  return n;
}

// config.json against the safetensors headers, before anything is allocated: every error names
// the key of config.json, its value and the tensor that disagrees.
void check_config_fits_weights(const LladaConfig& cfg, const std::string& cfg_path, const io::SafetensorsCheckpoint& ckpt) {
  const std::string fix = "; correct config.json, or use the config.json that came with these weights";
  const int64_t blocks = blocks_in(ckpt);
  if (blocks != cfg.n_layers)
    throw core::FormatError(cfg_path + ": n_layers = " + std::to_string(cfg.n_layers) + ", but the weights in '" +
                            ckpt.path() + "' hold " + std::to_string(blocks) + " block(s) (tensors " + kPrefix +
                            "blocks.N.*)" + fix);
  const auto expected = expected_tensors(cfg);
  std::set<std::string> names;
  for (const auto& t : expected) {
    names.insert(t.name);
    if (!ckpt.contains(t.name))
      throw core::FormatError(ckpt.path() + ": tensor '" + t.name + "' is missing; is this a LLaDA checkpoint? (" +
                              cfg_path + " says " + std::to_string(cfg.n_layers) + " layers)");
    const auto& have = ckpt.entry(t.name).shape;
    if (have == t.shape) continue;
    std::string key = have.size() == t.shape.size() ? "" : t.keys.front();
    for (size_t i = 0; key.empty() && i < have.size(); ++i)
      if (have[i] != t.shape[i]) key = t.keys[i];
    throw core::FormatError(cfg_path + ": " + key_value(cfg, key) + " does not fit the weights: tensor '" + t.name +
                            "' in '" + ckpt.file_of(t.name) + "' has shape " + shape_str(have) + ", config.json implies " +
                            shape_str(t.shape) + fix);
  }
  for (const auto& n : ckpt.names())
    if (!names.count(n))
      throw core::FormatError(ckpt.path() + ": unexpected tensor '" + n + "'; the checkpoint does not match the LLaDA " +
                              "layout of " + cfg_path);
}

// "bfloat16", "float32": torch_dtype in config.json (the names of transformers).
std::string hf_dtype_name(torch::ScalarType dtype) {
  switch (dtype) {
    case torch::kFloat: return "float32";
    case torch::kBFloat16: return "bfloat16";
    case torch::kHalf: return "float16";
    default: throw core::InternalError(std::string("no Hugging Face name for dtype ") + c10::toString(dtype));
  }
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
  const std::string cfg_path = (std::filesystem::path(folder) / "config.json").string();
  const LladaConfig cfg = read_hf_config(cfg_path);  // sizes within bounds
  // Headers only (the data is mapped, not read): the config must fit them before we allocate.
  check_config_fits_weights(cfg, cfg_path, io::SafetensorsCheckpoint(folder));
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
  out << model.config().to_hf_json(hf_dtype_name(dtype));
  out.close();
  if (!out) throw core::IoError("cannot write '" + cfg_path + "'");
  std::filesystem::rename(cfg_path + ".tmp", cfg_path);
}

}  // namespace mdrl::model
