// What a resume may change (DESIGN.md "Checkpoints: resume ... continues bit-for-bit as if never
// stopped"): the resolved configuration a checkpoint stores (config_ini) against the resuming run's.
// Options that determine the run (seed, data, model, batch arithmetic, optimizer, schedule, lengths,
// ...) must be unchanged, except those the user lists in train.resume_override; run control,
// logging, cadences, devices and the run's length may change freely. A run whose length is already
// behind the checkpoint is refused instead of reported finished. Shared by every training mode, each
// adding the options only it knows to be free (e.g. SFT's evaluation decoding).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mdrl::train {

struct TrainConfig;

// Options every training mode may change between a checkpoint and the run resuming from it:
// "section.key" or "section.*".
const std::vector<std::string>& resume_free_options();

// Whether `key` ("section.key") matches one of `patterns` ("section.key" or "section.*").
bool matches_option(const std::string& key, const std::vector<std::string>& patterns);

struct OptionChange {
  std::string key, in_checkpoint, now;
};
// The options set in both INI texts (config::Options::resolved_ini()) whose values differ, in the
// order of `now_ini`. Options missing from either text (added or removed between mdrl versions) are
// skipped. `checkpoint_where` names the stored text in parse errors.
std::vector<OptionChange> changed_options(const std::string& checkpoint_ini, const std::string& now_ini,
                                          const std::string& checkpoint_where);

// Refuses (core::ConfigError naming the checkpoint, and every changed option with both values) a
// resume from `checkpoint_path` whose configuration differs from `now_ini` in an option that is
// neither free (resume_free_options() or `mode_free`) nor listed in `overrides`
// (train.resume_override; each entry must be an option of this mode). Accepted changes are logged.
// An empty stored configuration (files written without one) is not checked.
void check_resume_config(const std::string& checkpoint_path, const std::string& checkpoint_ini,
                         const std::string& now_ini, const std::vector<std::string>& mode_free,
                         const std::vector<std::string>& overrides);

// Resuming on another number of ranks (a requeued job that got fewer or more nodes; modes that
// allow it: SFT). The sampler hands out global micro-batches of ranks x train.batch_size sequences
// and cuts each epoch's tail in those units, so the run continues the same global data order from
// the same sample when that product is kept: the checkpoint's ranks x train.batch_size (read from
// its config_ini) must equal `world_size` x `batch_size` (train.grad_accum stays as it was, like
// every option check_resume_config compares). Refuses (core::ConfigError naming train.batch_size,
// both products and a batch size that works, or that none does) otherwise. Not bit-exact: the
// reductions and each rank's masking noise differ.
void check_resume_world(const std::string& checkpoint_path, const std::string& checkpoint_ini,
                        int64_t checkpoint_world, int64_t world_size, int64_t batch_size);

// Refuses (core::ConfigError) resuming a checkpoint at `checkpoint_step` in a run of `total_steps`
// optimizer steps when the checkpoint is already past the end: nothing would be trained, and calling
// that "finished" would hide that train.max_steps (or train.epochs) was lowered.
void check_resume_length(const std::string& checkpoint_path, int64_t checkpoint_step, int64_t total_steps,
                         const TrainConfig& cfg);

}  // namespace mdrl::train
