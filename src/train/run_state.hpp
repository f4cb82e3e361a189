// Run state and checkpoint assembly shared by every training mode (DESIGN.md "train/"): the named
// RNG streams and data samplers a run registers once, saved into and restored from checkpoints, and
// the model's identity in them (signature, full or LoRA, base weights), so a mode's loop only says
// which streams it has. resume_from_latest() is the whole resume step: find the newest checkpoint,
// refuse it when train.resume is off or the configuration or run length does not fit, restore the
// trainer and every registered stream.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/rng.hpp"
#include "dist/sampler.hpp"
#include "io/checkpoint.hpp"

namespace mdrl::model {
class LladaModelImpl;
struct ModelConfig;
}  // namespace mdrl::model

namespace mdrl::train {

class Trainer;
struct TrainConfig;

class RunState {
 public:
  // Registers a stream or sampler under `name` (unique; identical on every rank). The object must
  // outlive the RunState.
  void add_rng(const std::string& name, core::RngStream& stream);
  void add_sampler(const std::string& name, std::function<dist::ShardedSampler::State()> get,
                   std::function<void(const dist::ShardedSampler::State&)> set);
  void add_sampler(const std::string& name, dist::ShardedSampler& sampler);

  void fill(io::CheckpointState& st) const;
  // core::FormatError naming the checkpoint and the entry when a registered name is missing.
  void restore(const io::CheckpointState& st);

 private:
  std::vector<std::pair<std::string, core::RngStream*>> rngs_;
  struct Sampler {
    std::string name;
    std::function<dist::ShardedSampler::State()> get;
    std::function<void(const dist::ShardedSampler::State&)> set;
  };
  std::vector<Sampler> samplers_;
};

// The model as checkpoints see it: what a resume requires of a checkpoint and what a save records.
struct ModelIdentity {
  io::ResumeRequirements req;
  std::string base_name;  // LoRA: model::adapter_base_name() of the base weights
  // Every parameter (the signature) and, for LoRA, the checksum of the frozen base.
  static ModelIdentity of(model::LladaModelImpl& model, const model::ModelConfig& cfg);
  void fill(io::CheckpointState& st) const;
};

struct ResumeOptions {
  const TrainConfig& train;
  std::string config_ini;                 // the running job's resolved configuration
  std::vector<std::string> mode_free;     // options this mode may change on resume (besides the common ones)
  int64_t total_steps = 0;
  // Whether the mode can continue a checkpoint of another world size (io::ResumeRequirements::
  // other_world_size; the batch rule of check_resume_world). Off: such a checkpoint is refused.
  bool other_world_size = false;
};

// The step resumed from (its checkpoint restored into `trainer` and `state`), or none for a fresh
// run. Collective. First refuses a run directory that cannot be written
// (io::CheckpointManager::ensure_writable).
std::optional<io::CheckpointState> resume_from_latest(io::CheckpointManager& ckpt, const std::string& run_dir,
                                                      const ModelIdentity& id, const ResumeOptions& opt,
                                                      Trainer& trainer, RunState& state);

// A checkpoint of the current step: trainer, model identity, registered state, config. Collective.
io::CheckpointState checkpoint_state(const Trainer& trainer, const ModelIdentity& id, const RunState& state,
                                     const std::string& config_ini);

}  // namespace mdrl::train
