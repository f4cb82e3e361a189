// [train] options shared by every training mode (SFT and the GRPO family): AdamW hyper-parameters,
// LR schedule, batch and accumulation, clipping, length of the run and logging/eval cadence.
// Defaults are the reference SFT's (spec algorithms.md §3/§4.3: HF Trainer adamw_torch, lr 1e-5,
// linear decay without warmup, weight decay 0.1, clip 1.0, batch 1 x GA 4, 20 epochs).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mdrl::config {
class Options;
}

namespace mdrl::train {

enum class ScheduleKind { Constant, ConstantWithWarmup, Linear, Cosine };
const char* schedule_name(ScheduleKind k);

struct TrainConfig {
  double lr = 1e-5;
  ScheduleKind schedule = ScheduleKind::Linear;
  int64_t warmup_steps = 0;
  double warmup_ratio = 0;  // HF: warmup = ceil(ratio * total steps) when warmup_steps is 0
  double weight_decay = 0.1;
  bool decay_1d = false;  // also decay 1-D parameters (norm weights, biases)
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  double max_grad_norm = 1.0;  // 0 = no clipping

  int64_t batch_size = 1;  // micro-batch per rank
  int64_t grad_accum = 4;  // micro-batches per optimizer step
  int64_t epochs = 20;
  int64_t max_steps = 0;   // optimizer steps; 0 = as many as `epochs` take

  int64_t log_every = 1;   // a log line every N steps (metrics.jsonl always gets every step)
  int64_t eval_every = 100;  // held-out evaluation every N steps; 0 = never
  bool resume = true;        // continue from the newest checkpoint in run.dir when there is one
  // Options allowed to differ from the checkpoint's on resume (train/resume_check.hpp).
  std::vector<std::string> resume_override;

  // The warmup in optimizer steps for a run of `total` steps: warmup_steps, else ceil(warmup_ratio x total).
  int64_t warmup_for(int64_t total) const;

  void add_options(config::Options& opts);
  void validate() const;
};

}  // namespace mdrl::train
