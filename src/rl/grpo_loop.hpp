// The loop of the three GRPO-family modes (DESIGN.md "Data flow of one GRPO step"; spec
// algorithms.md §2.0): prompt groups, a rollout every mu optimizer steps into the GA buffer (with
// its rewards, group advantages, and the algorithm's old and reference log-probs once), mu inner
// iterations of the algorithm's loss over the buffer, the optimizer step, metrics, the trajectory
// store, in-training evaluation on held-out task examples, checkpoints (with the rollout buffer,
// so resume is exact also in the middle of a mu-cycle) and run control. The mode picks the
// algorithm; everything else is shared.
#pragma once

#include <cstdint>
#include <string>

#include "config/run_config.hpp"
#include "decode/decode_config.hpp"
#include "dist/dist_config.hpp"
#include "io/io_config.hpp"
#include "model/model_config.hpp"
#include "rl/grpo_config.hpp"
#include "tasks/task.hpp"
#include "tokenizer/tokenizer_config.hpp"
#include "train/run_control.hpp"
#include "train/train_config.hpp"

namespace mdrl::config {
class Options;
}
namespace mdrl::dist {
class MpiEnv;
}

namespace mdrl::rl {

// [rl]: what is trained on and how it is evaluated during training.
struct RlConfig {
  std::string task = "sudoku";  // gsm8k, math, countdown, sudoku (tasks.* give the data)
  // Prompt of each example: task = the training prompt of spec §6.1 (system prompt and
  // instructions, the reference); bare = the question only (what the quickstart SFT model saw).
  enum class PromptStyle { Task, Bare } prompt_style = PromptStyle::Task;
  int64_t eval_examples = 0;      // training examples held out and decoded at each evaluation; 0 = none
  double eval_temperature = 0.0;  // decoding temperature of the evaluation (rollouts use decode.temperature)

  void add_options(config::Options& opts);
  void validate() const;
};

struct RlSettings {
  std::string mode;  // diffu-grpo | one-step-grpo | cj-grpo
  config::RunConfig run;
  train::RunControlConfig control;
  dist::DistConfig dist;
  tokenizer::TokenizerConfig tokenizer;
  model::ModelConfig model;
  model::LoraConfig lora;
  decode::DecodeConfig decode;
  tasks::TasksConfig tasks;
  train::TrainConfig train;
  io::CheckpointConfig checkpoint;
  io::TrajectoryConfig trajectory;
  GrpoConfig grpo;
  RlConfig rl;
  std::string config_ini;  // the resolved configuration, stored in checkpoints and trajectory files
};

// Registers every section of an RL mode; the [train] defaults become the RL ones of spec §4.1.
void add_rl_options(config::Options& opts, RlSettings& s);

struct RlOutcome {
  int64_t steps = 0, total_steps = 0;
  bool finished = false;
  double first_reward = 0, last_reward = 0;       // mean reward of the first and the last rollout of this run
  double eval_accuracy = -1, eval_solved = -1;    // last evaluation (-1 = none)
};

RlOutcome run_grpo(const dist::MpiEnv& env, const RlSettings& s);

}  // namespace mdrl::rl
