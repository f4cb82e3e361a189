#include "model/llada_config.hpp"

#include <climits>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>

#include "core/error.hpp"
#include "core/text.hpp"

namespace mdrl::model {

using core::ConfigError;
using nlohmann::json;

int64_t LladaConfig::num_parameters() const {
  const int64_t kv = n_kv_heads * head_dim();
  const int64_t block = d_model * d_model * 2 + d_model * kv * 2 + 3 * d_model * mlp_hidden + 2 * d_model;
  return n_layers * block + 2 * embedding_size * d_model + d_model;
}

void LladaConfig::validate(const std::string& where) const {
  // Sizes first, each against a bound, so that no product below overflows and a typo such as
  // n_layers = 1000000000000 is refused here instead of allocating until the kernel kills us.
  auto in_range = [&](const char* field, int64_t v, int64_t max) {
    MDRL_CHECK(v > 0 && v <= max, ConfigError,
               where + ": " + field + " = " + std::to_string(v) +
                   (v <= 0 ? " must be positive" : " is above the limit of " + std::to_string(max)) +
                   "; fix the value (it sets the shape of the model's weights)");
  };
  in_range("d_model", d_model, kMaxDModel);
  in_range("n_layers", n_layers, kMaxLayers);
  in_range("n_heads", n_heads, kMaxDModel);
  in_range("n_kv_heads", n_kv_heads, kMaxDModel);
  in_range("mlp_hidden_size", mlp_hidden, kMaxMlpHidden);
  in_range("vocab_size", vocab_size, kMaxVocab);
  in_range("embedding_size", embedding_size, kMaxVocab);
  in_range("max_sequence_length", max_seq_len, kMaxSeqLen);
  MDRL_CHECK(d_model % n_heads == 0, ConfigError,
             where + ": d_model = " + std::to_string(d_model) + " is not divisible by n_heads = " + std::to_string(n_heads));
  MDRL_CHECK(head_dim() % 2 == 0, ConfigError, where + ": head dimension " + std::to_string(head_dim()) +
                                                   " must be even for rotary embeddings");
  MDRL_CHECK(n_heads % n_kv_heads == 0, ConfigError,
             where + ": n_heads = " + std::to_string(n_heads) + " is not a multiple of n_kv_heads = " +
                 std::to_string(n_kv_heads));
  MDRL_CHECK(embedding_size >= vocab_size, ConfigError,
             where + ": embedding_size = " + std::to_string(embedding_size) + " is smaller than vocab_size = " +
                 std::to_string(vocab_size));
  for (auto [field, id] : {std::pair{"mask_token_id", mask_token_id}, std::pair{"eos_token_id", eos_token_id},
                           std::pair{"pad_token_id", pad_token_id}})
    MDRL_CHECK(id >= 0 && id < vocab_size, ConfigError,
               where + ": " + field + " = " + std::to_string(id) + " is outside the vocabulary [0, " +
                   std::to_string(vocab_size) + ")");
  MDRL_CHECK(mask_token_id != pad_token_id, ConfigError,
             where + ": mask_token_id equals pad_token_id; the mask token must be distinct (spec model.md §2.8)");
  MDRL_CHECK(rope_theta > 0 && rms_eps > 0, ConfigError, where + ": rope_theta and rms_norm_eps must be positive");
}

std::string LladaConfig::to_hf_json(const std::string& torch_dtype) const {
  json j = {{"model_type", "llada"},
            {"architectures", {"LLaDAModelLM"}},
            {"d_model", d_model},
            {"n_layers", n_layers},
            {"n_heads", n_heads},
            {"n_kv_heads", n_kv_heads},
            {"mlp_hidden_size", mlp_hidden},
            {"activation_type", "silu"},
            {"block_type", "llama"},
            {"block_group_size", 1},
            {"layer_norm_type", "rms"},
            {"rms_norm_eps", rms_eps},
            {"layer_norm_with_affine", true},
            {"bias_for_layer_norm", false},
            {"include_bias", false},
            {"include_qkv_bias", false},
            {"attention_layer_norm", false},
            {"rope", true},
            {"alibi", false},
            {"rope_theta", rope_theta},
            {"rope_full_precision", true},
            {"max_sequence_length", max_seq_len},
            {"vocab_size", vocab_size},
            {"embedding_size", embedding_size},
            {"weight_tying", false},
            {"scale_logits", false},
            {"input_emb_norm", false},
            {"mask_token_id", mask_token_id},
            {"eos_token_id", eos_token_id},
            {"pad_token_id", pad_token_id},
            {"torch_dtype", torch_dtype}};
  return j.dump(2) + "\n";
}

LladaConfig read_hf_config(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    throw core::InputError("cannot read model config '" + path +
                           "'; a Hugging Face LLaDA folder holds config.json beside its safetensors");
  json j;
  try {
    j = json::parse(in);
  } catch (const json::exception& e) {
    throw core::FormatError(path + ": not valid JSON: " + e.what());
  }
  if (!j.is_object()) throw core::FormatError(path + ": not a JSON object; expected a Hugging Face config.json");
  auto need = [&](const char* field) -> const json& {
    if (!j.contains(field)) throw core::FormatError(path + ": missing field \"" + std::string(field) + "\"");
    return j[field];
  };
  // Whole numbers; 1e9 and 64.0 are accepted as integers (JSON does not distinguish them), so that
  // the range checks of validate() name the field and its value.
  auto integer = [&](const char* field) -> int64_t {
    const json& v = need(field);
    if (v.is_number_integer()) {
      if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
        throw core::FormatError(path + ": \"" + std::string(field) + "\" = " + v.dump() + " is out of range");
      return v.get<int64_t>();
    }
    if (v.is_number_float()) {
      const double d = v.get<double>();
      if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e18) return static_cast<int64_t>(d);
    }
    throw core::FormatError(path + ": \"" + std::string(field) + "\" = " + v.dump() +
                            " is not an integer; write a whole number");
  };
  auto number = [&](const char* field, std::optional<double> fallback) -> double {
    if (fallback && (!j.contains(field) || j[field].is_null())) return *fallback;
    const json& v = need(field);
    if (!v.is_number())
      throw core::FormatError(path + ": \"" + std::string(field) + "\" = " + v.dump() + " is not a number");
    return v.get<double>();
  };
  // LLaDA-specific switches that would change the math: refuse what we do not implement.
  auto expect = [&](const char* field, const json& want) {
    if (j.contains(field) && !j[field].is_null() && j[field] != want)
      throw core::FormatError(path + ": \"" + std::string(field) + "\" = " + j[field].dump() +
                              " is not supported (mdrl implements LLaDA with " + want.dump() + ")");
  };
  expect("block_type", "llama");
  expect("activation_type", "silu");
  expect("layer_norm_type", "rms");
  expect("include_bias", false);
  expect("weight_tying", false);
  expect("alibi", false);
  expect("attention_layer_norm", false);
  expect("scale_logits", false);
  expect("input_emb_norm", false);

  LladaConfig c;
  c.d_model = integer("d_model");
  c.n_layers = integer("n_layers");
  c.n_heads = integer("n_heads");
  c.n_kv_heads = j.contains("n_kv_heads") && !j["n_kv_heads"].is_null() ? integer("n_kv_heads") : c.n_heads;
  c.mlp_hidden = integer("mlp_hidden_size");
  c.vocab_size = integer("vocab_size");
  c.embedding_size = j.contains("embedding_size") && !j["embedding_size"].is_null() ? integer("embedding_size")
                                                                                      : c.vocab_size;
  c.max_seq_len = integer("max_sequence_length");
  c.rope_theta = number("rope_theta", std::nullopt);
  c.rms_eps = number("rms_norm_eps", 1e-5);
  c.mask_token_id = integer("mask_token_id");
  c.eos_token_id = integer("eos_token_id");
  c.pad_token_id = j.contains("pad_token_id") && !j["pad_token_id"].is_null() ? integer("pad_token_id") : c.eos_token_id;
  c.validate(path);
  return c;
}

std::vector<std::string> preset_names() { return {"llada-8b", "llada-100m", "llada-100m-v126k", "tiny"}; }

LladaConfig preset(const std::string& name) {
  LladaConfig c;  // defaults are LLaDA-8B-Instruct
  if (name == "llada-8b") return c;
  if (name == "llada-100m-v126k") {
    // llada-100m's layers with LLaDA's real vocabulary and special ids (126464 logits per row):
    // for measuring what the LM head and the full-vocabulary sampling cost at the real width.
    c = preset("llada-100m");
    const LladaConfig real;
    c.vocab_size = c.embedding_size = real.vocab_size;
    c.mask_token_id = real.mask_token_id;
    c.eos_token_id = real.eos_token_id, c.pad_token_id = real.pad_token_id;
    c.validate("preset " + name);
    return c;
  }
  // Small presets use the byte-level tokenizer of the embedded default: 256 bytes, then
  // <|startoftext|> 256, <|endoftext|> 257, <|mdm_mask|> 258, header and EoT tokens 259-261.
  c.vocab_size = c.embedding_size = 264;
  c.mask_token_id = 258;
  c.eos_token_id = c.pad_token_id = 257;
  c.max_seq_len = 1024;
  c.rope_theta = 10000.0;
  if (name == "tiny") {
    c.d_model = 64, c.n_layers = 2, c.n_heads = 4, c.n_kv_heads = 4, c.mlp_hidden = 176;
  } else if (name == "llada-100m") {
    c.d_model = 768, c.n_layers = 14, c.n_heads = 12, c.n_kv_heads = 12, c.mlp_hidden = 2304;
  } else {
    throw ConfigError("unknown model preset '" + name + "'; valid presets: " + core::join(preset_names(), ", "));
  }
  c.validate("preset " + name);
  return c;
}

}  // namespace mdrl::model
