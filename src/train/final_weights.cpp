// Final weights of a training run (final_weights.hpp).
#include "train/final_weights.hpp"

#include <mpi.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "dist/mpi_env.hpp"
#include "io/checkpoint.hpp"
#include "model/hf_checkpoint.hpp"
#include "model/llada.hpp"
#include "model/model_config.hpp"
#include "model/peft.hpp"

namespace mdrl::train {
namespace fs = std::filesystem;

int64_t best_checkpoint_step(const dist::MpiEnv& env, const std::string& run_dir, const io::CheckpointManager& ckpt,
                             int64_t total, const std::string& metric, MetricGoal goal) {
  int64_t best = -1;
  if (env.rank() == 0) {
    std::ifstream in(fs::path(run_dir) / "metrics.jsonl");
    std::string line;
    double best_value = 0;
    while (std::getline(in, line)) {
      const auto row = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (!row.is_object() || !row.contains(metric) || !row[metric].is_number() || !row.contains("step")) continue;
      const auto step = row.at("step").get<int64_t>();
      const double v = row[metric].get<double>();
      if (!(ckpt.due(step) || step == total)) continue;       // a checkpoint written on a signal
      if (!fs::exists(ckpt.path_for_step(step))) continue;  // rotated away by keep_last or never written
      const bool better = goal == MetricGoal::Minimise ? v < best_value : v > best_value;
      if (best < 0 || better) {
        best = step;
        best_value = v;
      }
    }
  }
  MPI_Bcast(&best, 1, MPI_INT64_T, 0, env.world());
  return best;
}

std::string write_final_weights(const dist::MpiEnv& env, model::LladaModelImpl& model, const model::ModelConfig& cfg,
                                const std::string& run_dir) {
  const fs::path final_dir = fs::path(run_dir) / "final";
  if (env.rank() == 0) {
    const fs::path tmp = fs::path(run_dir) / "final.tmp";
    fs::remove_all(tmp);
    if (model.has_lora())
      model::save_peft_adapter(model, tmp.string(), model::adapter_base_name(cfg));
    else
      model::export_hf_checkpoint(model, tmp.string(), cfg.scalar_type());
    fs::remove_all(final_dir);
    fs::rename(tmp, final_dir);
  }
  MPI_Barrier(env.world());
  return final_dir.string();
}

}  // namespace mdrl::train
