// [train] options (train_config.hpp).
#include "train/train_config.hpp"

#include <cmath>
#include <string>

#include "config/options.hpp"
#include "core/error.hpp"

namespace mdrl::train {

const char* schedule_name(ScheduleKind k) {
  switch (k) {
    case ScheduleKind::Constant: return "constant";
    case ScheduleKind::ConstantWithWarmup: return "constant_with_warmup";
    case ScheduleKind::Linear: return "linear";
    case ScheduleKind::Cosine: return "cosine";
  }
  return "?";
}

void TrainConfig::add_options(config::Options& opts) {
  opts.section("train", "optimizer, schedule, batch and length of a training run")
      .add("lr", lr, "peak learning rate of AdamW")
      .add_enum("schedule", schedule,
                {{"constant", ScheduleKind::Constant},
                 {"constant_with_warmup", ScheduleKind::ConstantWithWarmup},
                 {"linear", ScheduleKind::Linear},
                 {"cosine", ScheduleKind::Cosine}},
                "learning-rate schedule after the warmup (Hugging Face semantics; linear and cosine decay to 0 at the "
                "last step)")
      .add("warmup_steps", warmup_steps, "optimizer steps of linear warmup from 0")
      .add("warmup_ratio", warmup_ratio,
           "warmup as a share of the run's optimizer steps, ceil(ratio x steps), when warmup_steps is 0 (HF semantics; "
           "the RL recipes' 1e-4)")
      .add("weight_decay", weight_decay, "AdamW decoupled weight decay")
      .add("decay_1d", decay_1d,
           "apply weight decay to 1-D parameters (norm weights) too; LoRA factors are 2-D and always decayed")
      .add("beta1", beta1, "AdamW beta1")
      .add("beta2", beta2, "AdamW beta2")
      .add("eps", eps, "AdamW epsilon")
      .add("max_grad_norm", max_grad_norm, "clip the global gradient norm (over all ranks) to this; 0 = no clipping")
      .add("batch_size", batch_size, "micro-batch size per rank")
      .add("grad_accum", grad_accum, "micro-batches accumulated per optimizer step (effective batch = "
                                     "batch_size x grad_accum x ranks)")
      .add("epochs", epochs, "passes over the training data (when max_steps = 0)")
      .add("max_steps", max_steps, "optimizer steps of the run; 0 = as many as `epochs` take")
      .add("log_every", log_every, "print a step line every N steps (metrics.jsonl gets every step)")
      .add("eval_every", eval_every, "held-out evaluation every N steps and at the last step; 0 = never")
      .add("resume", resume,
           "continue from the newest complete checkpoint in run.dir/checkpoints when there is one (same data order, "
           "same noise); false = refuse to start in a run directory that has checkpoints")
      .add_list("resume_override", resume_override,
                "options (section.key or section.*, comma-separated) that may differ from the checkpoint's on resume; "
                "without them a resume with other run-determining settings (seed, data, model, batch sizes, "
                "optimizer, schedule, ...) is refused. Run control, logging, cadences, devices and the run's "
                "length may always change");
  opts.add_validator([this] { validate(); });
}

int64_t TrainConfig::warmup_for(int64_t total) const {
  if (warmup_steps > 0 || warmup_ratio <= 0) return warmup_steps;
  return static_cast<int64_t>(std::ceil(warmup_ratio * static_cast<double>(total)));
}

void TrainConfig::validate() const {
  auto positive = [](const char* name, double v, bool allow_zero) {
    MDRL_CHECK(allow_zero ? v >= 0 : v > 0, core::ConfigError,
               std::string("train.") + name + " = " + std::to_string(v) + "; it must be " +
                   (allow_zero ? "at least 0" : "positive"));
  };
  positive("lr", lr, true);
  positive("warmup_steps", static_cast<double>(warmup_steps), true);
  MDRL_CHECK(warmup_ratio >= 0 && warmup_ratio <= 1, core::ConfigError,
             "train.warmup_ratio = " + std::to_string(warmup_ratio) + "; use [0, 1]");
  positive("weight_decay", weight_decay, true);
  positive("eps", eps, false);
  positive("max_grad_norm", max_grad_norm, true);
  positive("batch_size", static_cast<double>(batch_size), false);
  positive("grad_accum", static_cast<double>(grad_accum), false);
  positive("epochs", static_cast<double>(epochs), true);
  positive("max_steps", static_cast<double>(max_steps), true);
  positive("log_every", static_cast<double>(log_every), false);
  positive("eval_every", static_cast<double>(eval_every), true);
  MDRL_CHECK(beta1 >= 0 && beta1 < 1, core::ConfigError, "train.beta1 = " + std::to_string(beta1) + "; use [0, 1)");
  MDRL_CHECK(beta2 >= 0 && beta2 < 1, core::ConfigError, "train.beta2 = " + std::to_string(beta2) + "; use [0, 1)");
  MDRL_CHECK(max_steps > 0 || epochs > 0, core::ConfigError,
             "train.max_steps and train.epochs are both 0; set one of them");
}

}  // namespace mdrl::train
