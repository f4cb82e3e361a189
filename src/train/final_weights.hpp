// The end of a training run (DESIGN.md "train/"): which checkpoint's weights become the result (the
// last step, or the kept checkpoint with the best value of a metric in metrics.jsonl, as the HF
// Trainer's load_best_model_at_end), and writing them to <run.dir>/final as a Hugging Face folder
// (full fine-tuning) or a PEFT adapter (LoRA), complete or not at all.
#pragma once

#include <cstdint>
#include <string>

namespace mdrl::dist {
class MpiEnv;
}
namespace mdrl::io {
class CheckpointManager;
}
namespace mdrl::model {
class LladaModelImpl;
struct ModelConfig;
}  // namespace mdrl::model

namespace mdrl::train {

enum class MetricGoal { Minimise, Maximise };

// The step of the kept cadence checkpoint (checkpoint.every, or the last step `total`) whose row in
// <run_dir>/metrics.jsonl has the best `metric`; -1 when none has it. Checkpoints a signal added do
// not count, so the choice does not depend on where a run was interrupted. Rank 0 reads; collective.
int64_t best_checkpoint_step(const dist::MpiEnv& env, const std::string& run_dir, const io::CheckpointManager& ckpt,
                             int64_t total, const std::string& metric, MetricGoal goal);

// Writes <run_dir>/final (rank 0, to final.tmp then renamed; the others wait). Returns its path.
std::string write_final_weights(const dist::MpiEnv& env, model::LladaModelImpl& model, const model::ModelConfig& cfg,
                                const std::string& run_dir);

}  // namespace mdrl::train
