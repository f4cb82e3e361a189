// `mdrl export`: writes a model as a Hugging Face checkpoint folder (merged weights, or the base
// weights alone) or its LoRA adapter in the PEFT format, for use by the Python tools.
#pragma once

#include <string>
#include <vector>

namespace mdrl::config {
class Options;
}
namespace mdrl::dist {
class MpiEnv;
}

namespace mdrl::apps {

struct ExportConfig {
  enum class What { Merged, Adapter, Base };
  std::string out;              // destination folder
  What what = What::Merged;     // merged = base + adapters folded in
  bool bf16 = true;             // weights in bf16 (the Hugging Face layout of LLaDA) or f32
  double shard_gb = 5.0;        // largest shard

  void add_options(config::Options& opts);
  void validate() const;
};

int run_export(const dist::MpiEnv& env, const std::vector<std::string>& args);

}  // namespace mdrl::apps
