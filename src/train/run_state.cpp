// Run state and checkpoint assembly (run_state.hpp).
#include "train/run_state.hpp"

#include <torch/torch.h>

#include "core/error.hpp"
#include "core/log.hpp"
#include "model/llada.hpp"
#include "model/model_config.hpp"
#include "train/resume_check.hpp"
#include "train/train_config.hpp"
#include "train/trainer.hpp"

namespace mdrl::train {

void RunState::add_rng(const std::string& name, core::RngStream& stream) { rngs_.emplace_back(name, &stream); }

void RunState::add_sampler(const std::string& name, std::function<dist::ShardedSampler::State()> get,
                           std::function<void(const dist::ShardedSampler::State&)> set) {
  samplers_.push_back({name, std::move(get), std::move(set)});
}

void RunState::add_sampler(const std::string& name, dist::ShardedSampler& sampler) {
  add_sampler(name, [&sampler] { return sampler.state(); }, [&sampler](const auto& s) { sampler.restore(s); });
}

void RunState::fill(io::CheckpointState& st) const {
  for (const auto& [name, s] : rngs_) st.rng.emplace_back(name, s->state());
  for (const auto& s : samplers_) st.samplers.emplace_back(s.name, s.get());
}

void RunState::restore(const io::CheckpointState& st) {
  const std::string where = st.loaded_from.empty() ? std::string("the checkpoint") : st.loaded_from;
  for (auto& [name, s] : rngs_) {
    bool found = false;
    for (const auto& [n, state] : st.rng)
      if (n == name) {
        *s = core::RngStream(state);
        found = true;
      }
    MDRL_CHECK(found, core::FormatError, where + " has no state of the random stream '" + name + "'");
  }
  for (auto& s : samplers_) {
    bool found = false;
    for (const auto& [n, state] : st.samplers)
      if (n == s.name) {
        s.set(state);
        found = true;
      }
    MDRL_CHECK(found, core::FormatError, where + " has no state of the data sampler '" + s.name + "'");
  }
}

ModelIdentity ModelIdentity::of(model::LladaModelImpl& model, const model::ModelConfig& cfg) {
  ModelIdentity id;
  dist::NamedTensors all, base;
  for (const auto& p : model.named_parameters()) {
    all.emplace_back(p.key(), p.value());
    if (!p.value().requires_grad()) base.emplace_back(p.key(), p.value());
  }
  id.req.model_signature = io::signature_of(all);
  id.req.trainable = model.has_lora() ? io::Trainable::Lora : io::Trainable::Full;
  if (model.has_lora()) {
    id.req.base_checksum = io::weights_checksum(base);
    id.base_name = model::adapter_base_name(cfg);
  }
  return id;
}

void ModelIdentity::fill(io::CheckpointState& st) const {
  st.trainable = req.trainable;
  st.model_signature = req.model_signature;
  if (req.base_checksum) {
    st.base_checkpoint = base_name;
    st.base_checksum = *req.base_checksum;
  }
}

std::optional<io::CheckpointState> resume_from_latest(io::CheckpointManager& ckpt, const std::string& run_dir,
                                                      const ModelIdentity& id, const ResumeOptions& opt,
                                                      Trainer& trainer, RunState& state) {
  // Before any step is trained: a read-only or full run directory is an error now, not after the
  // first checkpoint interval.
  ckpt.ensure_writable();
  const auto latest = ckpt.find_latest();
  if (!latest) return std::nullopt;
  MDRL_CHECK(opt.train.resume, core::ConfigError,
             "run.dir '" + run_dir + "' already has checkpoints (" + *latest +
                 "); set train.resume = true to continue that run, or choose a new run.dir");
  io::ResumeRequirements req = id.req;
  req.other_world_size = opt.other_world_size;
  auto st = ckpt.resume(req);  // with checkpoint.fallback, past damaged ones to an intact one
  MDRL_ASSERT(st.has_value());
  std::vector<std::string> mode_free = opt.mode_free;
  if (st->world_size != ckpt.world_size()) {
    check_resume_world(st->loaded_from, st->config_ini, st->world_size, ckpt.world_size(), opt.train.batch_size);
    static const std::string batch_option = "train.batch_size";  // (a named string: GCC 12 warns on the literal)
    mode_free.push_back(batch_option);  // checked above: ranks x batch is the checkpoint's
  }
  check_resume_config(st->loaded_from, st->config_ini, opt.config_ini, mode_free, opt.train.resume_override);
  check_resume_length(st->loaded_from, st->step, opt.total_steps, opt.train);
  trainer.restore(*st);
  state.restore(*st);
  core::log::info() << "resumed from " << st->loaded_from << " at step " << st->step;
  return st;
}

io::CheckpointState checkpoint_state(const Trainer& trainer, const ModelIdentity& id, const RunState& state,
                                     const std::string& config_ini) {
  io::CheckpointState st;
  trainer.fill(st);
  id.fill(st);
  state.fill(st);
  st.config_ini = config_ini;
  return st;
}

}  // namespace mdrl::train
