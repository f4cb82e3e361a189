#include "apps/mode_export.hpp"

#include <torch/torch.h>

#include <filesystem>
#include <iostream>
#include <utility>

#include "apps/mode_setup.hpp"
#include "config/options.hpp"
#include "config/run_config.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "dist/mpi_env.hpp"
#include "model/hf_checkpoint.hpp"
#include "model/model_config.hpp"
#include "model/peft.hpp"

namespace mdrl::apps {
namespace {
namespace fs = std::filesystem;

// Absolute, symlinks resolved as far as the path exists, no trailing separator.
fs::path canonical_folder(const std::string& p) {
  std::error_code ec;
  fs::path c = fs::weakly_canonical(fs::absolute(p), ec);
  if (ec) c = fs::absolute(p).lexically_normal();
  if (c.filename().empty()) c = c.parent_path();
  return c;
}

// Whether `inner` is `outer` or lies inside it (both canonical).
bool within(const fs::path& inner, const fs::path& outer) {
  auto i = inner.begin(), o = outer.begin();
  for (; o != outer.end(); ++i, ++o)
    if (i == inner.end() || *i != *o) return false;
  return true;
}

// export.out must not be, contain or lie inside an input folder: writing there would replace the
// model (or adapter) being read, in another dtype.
void check_out_apart_from_inputs(const ExportConfig& ec, const model::ModelConfig& mc, const model::LoraConfig& lc) {
  const fs::path out = canonical_folder(ec.out);
  for (const auto& [key, value] : {std::pair<std::string, std::string>{"model.path", mc.path}, {"lora.adapter", lc.adapter}}) {
    if (value.empty()) continue;
    const fs::path in = canonical_folder(value);
    const char* how = within(out, in) ? (within(in, out) ? "is the same folder as" : "lies inside")
                                      : (within(in, out) ? "contains" : nullptr);
    if (how == nullptr) continue;
    const std::string resolved = out == in ? "both resolve to '" + out.string() + "'"
                                           : "resolved: '" + out.string() + "' and '" + in.string() + "'";
    throw core::ConfigError("export.out = '" + ec.out + "' " + how + " " + key + " = '" + value + "' (" + resolved +
                            "); exporting there would overwrite the input. Choose a new folder for export.out");
  }
}
}  // namespace

void ExportConfig::add_options(config::Options& opts) {
  opts.section("export", "what `mdrl export` writes")
      .add("out", out, "destination folder (created; existing files of the same names are replaced)")
      .add_enum("what", what, {{"merged", What::Merged}, {"adapter", What::Adapter}, {"base", What::Base}},
                "merged: weights with the LoRA adapters folded in; adapter: the PEFT adapter only; base: weights "
                "without adapters")
      .add("bf16", bf16, "write weights in bf16 (as LLaDA's published checkpoint); false = f32")
      .add("shard_gb", shard_gb, "largest shard of a sharded checkpoint, in GB");
  opts.add_validator([this] { validate(); });
}

void ExportConfig::validate() const {
  MDRL_CHECK(!out.empty(), core::ConfigError, "export.out is empty; give the destination folder");
  MDRL_CHECK(shard_gb > 0, core::ConfigError, "export.shard_gb must be positive");
}

int run_export(const dist::MpiEnv& env, const std::vector<std::string>& args) {
  config::RunConfig run;
  config::LogConfig log;
  model::ModelConfig mc;
  model::LoraConfig lc;
  lc.settings.rank = 0;
  ExportConfig ec;
  config::Options opts("export");
  run.add_options(opts);
  log.add_options(opts);
  mc.add_options(opts);
  lc.add_options(opts);
  ec.add_options(opts);
  opts.add_validator([&] { check_out_apart_from_inputs(ec, mc, lc); });
  setup_mode(env, opts, args,
             "usage: mdrl export -c model.ini --export.out=DIR [--export.what=merged|adapter|base]\n\n"
             "Writes the model of [model] (+ the adapter of lora.adapter) as a Hugging Face folder (config.json,\n"
             "model.safetensors[.index.json]) or, with export.what = adapter, as a PEFT adapter folder.",
             log);
  if (env.rank() != 0) return 0;  // one writer; nothing collective follows
  auto m = model::build_model(mc, lc, torch::kCPU, static_cast<uint64_t>(run.seed));
  const auto dtype = ec.bf16 ? torch::kBFloat16 : torch::kFloat;
  switch (ec.what) {
    case ExportConfig::What::Adapter:
      MDRL_CHECK(m->has_lora(), core::ConfigError,
                 "export.what = adapter, but the model has no adapter; set lora.adapter (or lora.rank)");
      model::save_peft_adapter(*m, ec.out, model::adapter_base_name(mc));
      break;
    case ExportConfig::What::Merged:
      m->merge_lora();
      model::export_hf_checkpoint(*m, ec.out, dtype, static_cast<int64_t>(ec.shard_gb * 1e9));
      break;
    case ExportConfig::What::Base:
      model::export_hf_checkpoint(*m, ec.out, dtype, static_cast<int64_t>(ec.shard_gb * 1e9));
      break;
  }
  core::log::info() << "wrote " << ec.out;
  return 0;
}

}  // namespace mdrl::apps
