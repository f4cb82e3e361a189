// The SFT training loop (spec algorithms.md §3; DESIGN.md data flow step 6): rank-strided
// micro-batches, the masked-diffusion loss, gradient accumulation, averaged gradients, clipping,
// AdamW with the LR schedule, one log line and one metrics.jsonl row per step, held-out evaluation
// (loss, and task accuracy by decoding), checkpoints on cadence and on signals, bit-exact resume,
// and the trained weights (or LoRA adapter) written to <run.dir>/final at the end.
#pragma once

#include <cstdint>
#include <string>

#include "config/run_config.hpp"
#include "decode/decode_config.hpp"
#include "dist/dist_config.hpp"
#include "io/io_config.hpp"
#include "model/model_config.hpp"
#include "sft/sft_config.hpp"
#include "tasks/task.hpp"
#include "tokenizer/tokenizer_config.hpp"
#include "train/run_control.hpp"
#include "train/train_config.hpp"

namespace mdrl::dist {
class MpiEnv;
}

namespace mdrl::sft {

struct SftSettings {
  config::RunConfig run;
  dist::DistConfig dist;
  tokenizer::TokenizerConfig tokenizer;
  model::ModelConfig model;
  model::LoraConfig lora;
  decode::DecodeConfig decode;
  tasks::TasksConfig tasks;
  train::TrainConfig train;
  train::RunControlConfig control;
  io::CheckpointConfig checkpoint;
  SftConfig sft;
  std::string config_ini;  // the resolved configuration, stored in checkpoints
};

struct SftOutcome {
  int64_t steps = 0;        // optimizer steps completed (resumed ones included)
  int64_t total_steps = 0;
  bool finished = false;    // false: stopped early by a signal / walltime / STOP file
  double eval_loss = -1, eval_accuracy = -1, eval_solved = -1;  // last evaluation (-1 = none)
};

// Collective over env.world().
SftOutcome run_sft(const dist::MpiEnv& env, const SftSettings& s);

}  // namespace mdrl::sft
