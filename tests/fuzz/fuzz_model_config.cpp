// libFuzzer harness: a Hugging Face config.json of a LLaDA model (model/llada_config.hpp,
// read_hf_config). Any bytes give a validated configuration or a FormatError / ConfigError naming
// the file; a configuration that loads is written back by to_hf_json and reads back the same.
#include <cstdint>

#include "fuzz_support.hpp"
#include "model/llada_config.hpp"

namespace {
bool same(const mdrl::model::LladaConfig& a, const mdrl::model::LladaConfig& b) {
  return a.d_model == b.d_model && a.n_layers == b.n_layers && a.n_heads == b.n_heads &&
         a.n_kv_heads == b.n_kv_heads && a.mlp_hidden == b.mlp_hidden && a.vocab_size == b.vocab_size &&
         a.embedding_size == b.embedding_size && a.max_seq_len == b.max_seq_len && a.rope_theta == b.rope_theta &&
         a.rms_eps == b.rms_eps && a.mask_token_id == b.mask_token_id && a.eos_token_id == b.eos_token_id &&
         a.pad_token_id == b.pad_token_id;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = mdrl::fuzz::write_scratch("config.json", mdrl::fuzz::as_text(data, size));
  std::optional<mdrl::model::LladaConfig> cfg;
  mdrl::fuzz::expect_clean([&] { cfg = mdrl::model::read_hf_config(path); }, path);
  if (!cfg) return 0;
  (void)cfg->num_parameters();
  (void)cfg->head_dim();
  const std::string again = mdrl::fuzz::write_scratch("again.json", cfg->to_hf_json("bfloat16"));
  try {
    if (!same(*cfg, mdrl::model::read_hf_config(again)))
      mdrl::fuzz::finding("to_hf_json does not read back the same", again.c_str());
  } catch (const std::exception& e) {
    mdrl::fuzz::finding("to_hf_json does not read back", e.what());
  }
  return 0;
}
