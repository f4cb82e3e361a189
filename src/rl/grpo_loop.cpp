// The GRPO loop of the three RL modes (grpo_loop.hpp; spec algorithms.md §2.0).
#include "rl/grpo_loop.hpp"

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "config/options.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/rng.hpp"
#include "decode/decode_plan.hpp"
#include "decode/denoiser.hpp"
#include "decode/generate.hpp"
#include "dist/consistency.hpp"
#include "dist/device.hpp"
#include "dist/metrics.hpp"
#include "dist/mpi_env.hpp"
#include "dist/tensor_collectives.hpp"
#include "eval/task_decode.hpp"
#include "io/checkpoint.hpp"
#include "io/metrics_log.hpp"
#include "io/trajectory_store.hpp"
#include "model/llada.hpp"
#include "rl/group_advantage.hpp"
#include "rl/grpo_algorithm.hpp"
#include "rl/prompt_groups.hpp"
#include "rl/rollout.hpp"
#include "rl/rollout_buffer.hpp"
#include "rl/trajectory_record.hpp"
#include "tokenizer/chat_template.hpp"
#include "tokenizer/tokenizer.hpp"
#include "train/final_weights.hpp"
#include "train/run_state.hpp"
#include "train/step_logger.hpp"
#include "train/trainer.hpp"

namespace mdrl::rl {
namespace fs = std::filesystem;

void RlConfig::add_options(config::Options& opts) {
  opts.section("rl", "task and in-training evaluation of the RL modes")
      .add("task", task, "training task: gsm8k, math, countdown, sudoku (data from [tasks])")
      .add_enum("prompt_style", prompt_style, {{"task", PromptStyle::Task}, {"bare", PromptStyle::Bare}},
                "prompt of each example: task = the training prompt of spec §6.1 (the reference); bare = the "
                "question only (as the quickstart SFT model was trained)")
      .add("eval_examples", eval_examples,
           "training examples held out and decoded at each evaluation (train.eval_every); 0 = no evaluation")
      .add("eval_temperature", eval_temperature, "decoding temperature of the evaluation; 0 = greedy");
  opts.add_validator([this] { validate(); });
}

void RlConfig::validate() const {
  tasks::find_task(task, "rl.task");
  MDRL_CHECK(eval_examples >= 0, core::ConfigError,
             "rl.eval_examples = " + std::to_string(eval_examples) + "; use 0 (none) or a positive count");
  MDRL_CHECK(eval_temperature >= 0, core::ConfigError,
             "rl.eval_temperature = " + std::to_string(eval_temperature) + "; use 0 (greedy) or a positive value");
}

void add_rl_options(config::Options& opts, RlSettings& s) {
  // The RL defaults of [train], [lora] and [decode] (spec §4.1, effective settings as launched).
  s.train.lr = 3e-6;
  s.train.schedule = train::ScheduleKind::ConstantWithWarmup;
  s.train.warmup_ratio = 1e-4;
  s.train.beta2 = 0.99;
  s.train.weight_decay = 0.1;
  s.train.max_grad_norm = 0.2;
  s.train.batch_size = 6;
  s.train.grad_accum = 2;
  s.train.epochs = 10;
  s.train.eval_every = 0;
  s.lora.settings.rank = 0;  // full fine-tuning unless lora.rank is set (the 8B recipes set 128)
  s.lora.settings.alpha = 64;
  s.lora.settings.targets = {"q_proj", "k_proj", "v_proj", "up_proj"};
  s.decode.gen_length = 128;
  s.decode.temperature = 1.0;
  s.decode.block_length = s.mode == "one-step-grpo" ? 64 : 32;
  s.decode.steps = 32;
  if (s.mode == "cj-grpo") {
    // CJ-GRPO with EOSER+ASS rollouts as the shipped launchers intend (L 128, eoser-ass, gamma_min
    // 0.01), with the steps the ASS schedule requires (7 = log2 128; the launchers' 32 fail, Q6),
    // and whole-layer activation checkpointing as the reference (spec §2.4).
    s.decode.schedule = decode::Schedule::Ass;
    s.decode.steps = 7;
    s.decode.block_num = 1;
    s.decode.eoser = true;
    s.decode.gamma_min = 0.01;
    s.model.activation_checkpointing = true;
  }
  s.run.add_options(opts);
  s.control.add_options(opts);
  s.dist.add_options(opts);
  s.tokenizer.add_options(opts);
  s.model.add_options(opts);
  s.lora.add_options(opts);
  s.train.add_options(opts);
  s.decode.add_options(opts);
  s.tasks.add_options(opts);
  s.checkpoint.add_options(opts);
  s.trajectory.add_options(opts);
  s.grpo.add_options(opts);
  s.rl.add_options(opts);
  opts.add_validator([&s] { validate_batch(s.grpo, s.train.batch_size, 1, s.train.grad_accum); });
}

namespace {

using train::StepLogger;
constexpr auto fixed = &StepLogger::fixed;
constexpr auto sci = &StepLogger::sci;
double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// Training examples and the held-out ones (the first rl.eval_examples of one seeded shuffle).
struct TaskData {
  const tasks::Task* task = nullptr;
  std::vector<tasks::Example> train, held_out;
};

TaskData load_task_data(const RlSettings& s, uint64_t seed) {
  TaskData d;
  d.task = &tasks::find_task(s.rl.task, "rl.task");
  auto all = tasks::training_examples(*d.task, s.tasks, seed);
  core::RngStream rng(seed, 0, core::RngPurpose::DataOrder, core::rng_block::kHeldOutSplit);  // as SFT's split
  core::shuffle(all, rng);
  const auto n_eval = static_cast<size_t>(std::min<int64_t>(s.rl.eval_examples, static_cast<int64_t>(all.size()) / 2));
  d.held_out.assign(all.begin(), all.begin() + static_cast<long>(n_eval));
  d.train.assign(all.begin() + static_cast<long>(n_eval), all.end());
  return d;
}

// One step's figures, reduced over ranks.
struct StepFigures {
  double loss = 0, kl = 0, clip = 0, tokens = 0, empty_steps = 0;
};

}  // namespace

RlOutcome run_grpo(const dist::MpiEnv& env, const RlSettings& s) {
  train::RunControl control(env, s.control, s.run.dir);  // first: the walltime clock includes loading
  const dist::Placement place = dist::place_rank(env, s.dist);
  const torch::Device device(place.device);
  const auto seed = static_cast<uint64_t>(s.run.seed);
  const int W = env.size(), rank = env.rank();
  const auto& g = s.grpo;
  validate_batch(g, s.train.batch_size, W, s.train.grad_accum);
  const auto algorithm = make_algorithm(s.mode, g, s.train.grad_accum);

  const auto tok = s.tokenizer.load();
  const auto chat = tokenizer::ChatTemplate::for_tokenizer(tok);
  const auto data = load_task_data(s, seed);
  auto model = model::build_model(s.model, s.lora, device, seed);
  MDRL_CHECK(tok.vocab_size() <= model->config().vocab_size, core::ConfigError,
             "tokenizer.path (" + tok.source() + ") has more tokens than the model's vocabulary; use the model's tokenizer");
  {
    dist::NamedTensors all;
    for (const auto& p : model->named_parameters()) all.emplace_back(p.key(), p.value());
    dist::verify_parameters_identical(env.world(), all);
  }
  // The reference policy: the base weights with the adapters off (LoRA), or a frozen copy of the
  // starting weights (full fine-tuning); none when beta = 0.
  model::LladaModel reference{nullptr};
  if (g.beta > 0 && !model->has_lora()) {
    reference = model::build_model(s.model, s.lora, device, seed);
    for (auto& p : reference->parameters()) p.set_requires_grad(false);
    reference->eval();
  }
  const Policies nets{model.get(), reference ? reference.get() : nullptr, model->config().mask_token_id,
                      !s.decode.attention_mask};
  decode::LladaDenoiser denoiser(model);
  const auto plan = decode::make_plan(s.decode);

  PromptGroups groups(static_cast<int64_t>(data.train.size()), g, s.train.batch_size, s.train.grad_accum, W, rank, seed);
  const int64_t total = s.train.max_steps > 0 ? s.train.max_steps : std::max<int64_t>(1, s.train.epochs * groups.steps_per_epoch());
  dist::TensorCollectives coll(env.world(), s.dist.bucket_bytes(), place.cuda_index);
  train::Trainer trainer(s.train, train::trainable_named(*model), coll, total);
  int64_t n_trainable = 0;
  for (const auto& [name, p] : trainer.trainable()) n_trainable += p.numel();
  core::log::info() << s.mode << ": " << total << " optimizer steps; " << groups.unique_prompts() << " prompts x G "
                    << g.num_generations << " = " << groups.rows_per_step() << " completions per step (" << s.train.batch_size
                    << " x GA " << s.train.grad_accum << " x " << W << " ranks), each rollout used mu = " << g.num_iterations
                    << " times; " << data.train.size() << " training prompts (" << groups.steps_per_epoch()
                    << " steps per epoch), " << data.held_out.size() << " held out; " << n_trainable
                    << " trainable parameters" << (model->has_lora() ? " (LoRA)" : "") << " on " << place.device;

  // Streams: rollout noise, per-rollout randomness of the algorithm, LoRA dropout.
  core::RngStream sampling(seed, rank, core::RngPurpose::Sampling);
  core::RngStream masking(seed, rank, core::RngPurpose::Masking, core::rng_block::kPromptMask);
  core::RngStream dropout(seed, rank, core::RngPurpose::Dropout, core::rng_block::kLoraInit);
  train::RunState state;
  state.add_rng("sampling", sampling);
  state.add_rng("masking", masking);
  state.add_rng("dropout", dropout);
  state.add_sampler("prompt_groups", [&groups] { return groups.state(); }, [&groups](const auto& st) { groups.restore(st); });

  io::CheckpointManager ckpt(env.world(), s.run.dir, s.checkpoint);
  const auto id = train::ModelIdentity::of(*model, s.model);
  const train::ResumeOptions resume_opt{s.train, s.config_ini, {"rl.eval_examples", "rl.eval_temperature"}, total};
  const auto resumed = train::resume_from_latest(ckpt, s.run.dir, id, resume_opt, trainer, state);
  const int64_t resume_step = resumed ? resumed->step : -1;
  std::vector<RolloutBatch> buffer;
  if (resumed) {
    const auto path = rollout_buffer_path(ckpt.dir(), resume_step, rank);
    if (fs::exists(path)) buffer = load_rollout_buffer(path);
  }

  const std::string decoding_json = nlohmann::json{{"mode", s.mode},
                                                   {"gen_length", s.decode.gen_length},
                                                   {"steps", s.decode.steps},
                                                   {"block_length", s.decode.block_length},
                                                   {"temperature", s.decode.temperature},
                                                   {"eoser", s.decode.eoser}}
                                        .dump();
  std::unique_ptr<io::TrajectoryWriter> traj;
  if (s.trajectory.enabled) {
    io::TrajectoryMeta meta{s.config_ini, reward_names(*data.task, s.tasks), model->config().mask_token_id};
    traj = std::make_unique<io::TrajectoryWriter>(env.world(), (fs::path(s.run.dir) / "trajectories").string(), meta,
                                                  s.trajectory);
  }
  auto save = [&](const std::string& why) {
    if (traj) traj->flush();  // the store holds every step the checkpoint covers
    fs::create_directories(ckpt.dir());
    save_rollout_buffer(rollout_buffer_path(ckpt.dir(), trainer.step(), rank), buffer);
    core::log::info() << "checkpoint at step " << trainer.step() << " (" << why << ")";
    ckpt.save(train::checkpoint_state(trainer, id, state, s.config_ini));
    prune_rollout_buffers(ckpt.dir(), rank);
  };

  const auto content = [&](const tasks::Example& ex) {
    return s.rl.prompt_style == RlConfig::PromptStyle::Bare ? data.task->eval_question(ex) : data.task->train_content(ex);
  };
  at::Generator rollout_gen;  // set from the sampling stream before each rollout
  decode::DecodeConfig rollout_decode = s.decode;
  rollout_decode.record_logp = algorithm->wants_rollout_logp();
  const RolloutInputs rin{denoiser, tok, chat, *data.task, data.train, s.tasks, rollout_decode, plan, g, rollout_gen, content};
  // Forwards of the policy and of a frozen reference copy (model::LladaModelImpl::forward_count).
  const auto forwards = [&] { return model->forward_count() + (reference ? reference->forward_count() : 0); };

  // In-training evaluation: the held-out prompts, decoded with [decode] at rl.eval_temperature,
  // scored by the task's evaluation parser; noise from (seed, step) only, so resumed = straight.
  decode::DecodeConfig eval_decode = s.decode;
  eval_decode.temperature = s.rl.eval_temperature;
  std::vector<std::vector<int64_t>> eval_prompts;
  for (const auto& ex : data.held_out) eval_prompts.push_back(left_truncate(encode_train_prompt(rin, ex), g.max_prompt_length));
  RlOutcome out;
  out.total_steps = total;
  io::MetricsLog metrics((fs::path(s.run.dir) / "metrics.jsonl").string(), rank == 0, resume_step);
  train::StepLogger logger(total, s.train.log_every, trainer.step(), rank == 0);
  auto run_eval = [&](int64_t step) {
    if (eval_prompts.empty()) return;
    logger.break_line();
    torch::NoGradGuard ng;
    model->eval();
    core::RngStream es(seed, rank, core::RngPurpose::Sampling, core::rng_block::kHeldOut + static_cast<uint64_t>(step));
    at::Generator egen = decode::sampling_generator(es, device);
    const auto plan_e = decode::make_plan(eval_decode);
    const auto mine = eval::decode_share(rank, W, denoiser, tok, eval_prompts, eval::DecodeJob{eval_decode, plan_e, 0, true, {}}, egen);
    const auto sc = eval::score_completions(*data.task, mine, [&](size_t i) -> const tasks::Example& { return data.held_out[i]; });
    dist::MetricReducer red;
    red.add("correct", sc.correct, dist::MetricKind::Sum);
    red.add("total", sc.total, dist::MetricKind::Sum);
    red.add("solved", sc.solved, dist::MetricKind::Sum);
    red.add("decoded", sc.decoded, dist::MetricKind::Sum);
    const auto v = red.reduce(env.world());
    out.eval_accuracy = v[1].second > 0 ? v[0].second / v[1].second : 0;
    out.eval_solved = v[3].second > 0 ? v[2].second / v[3].second : 0;
    metrics.write(step, {{"eval_accuracy", out.eval_accuracy}, {"eval_solved", out.eval_solved},
                         {"eval_decoded", static_cast<int64_t>(v[3].second)}});
    core::log::info() << "eval step " << step << " | " << data.task->name() << " accuracy "
                      << fixed(100 * out.eval_accuracy, 1) << "% | solved " << fixed(100 * out.eval_solved, 1) << "% of "
                      << static_cast<int64_t>(v[3].second);
    model->train();
  };
  if (!resumed && s.train.eval_every > 0) run_eval(0);  // the starting point of the curve

  model->train();
  int64_t last_saved = resume_step;
  bool first_rollout = true;
  const auto comp_names = reward_names(*data.task, s.tasks);
  while (trainer.step() < total) {
    logger.start_step();
    const int64_t step = trainer.step() + 1;
    const PromptStep ps = groups.next_step();
    double rollout_s = 0, logp_s = 0;
    int64_t rollout_fw = 0, logp_fw = 0;
    if (ps.fresh || buffer.size() != ps.micro_batches.size()) {
      MDRL_CHECK(ps.fresh, core::FormatError,
                 "resuming at step " + std::to_string(step) + " in the middle of a rollout's mu-cycle, but " +
                     rollout_buffer_path(ckpt.dir(), step - 1, rank) + " is missing; resume from an earlier checkpoint");
      // Rollouts with the deterministic network unless grpo.rollout_dropout (the reference's train mode).
      buffer.clear();
      for (const auto& rows : ps.micro_batches) {
        const auto t0 = std::chrono::steady_clock::now();
        if (g.rollout_dropout) {
          model->train();
          model->seed_dropout(dropout.derive_seed());
        } else {
          model->eval();
        }
        // A generator per rollout, seeded from the rank's sampling stream: the stream is in the
        // checkpoint, a torch generator's position is not.
        rollout_gen = decode::sampling_generator(sampling, device);
        const int64_t fw0 = forwards();
        RolloutBatch b = rollout(rin, rows);
        rollout_fw += forwards() - fw0;
        b.advantages = group_advantages(b.reward, g.num_generations, g.scale_rewards).advantages.to(torch::kFloat);
        rollout_s += seconds_since(t0);
        const auto t1 = std::chrono::steady_clock::now();
        {
          torch::NoGradGuard ng;
          const int64_t fw1 = forwards();
          algorithm->prepare(nets, b, masking);
          logp_fw += forwards() - fw1;
        }
        logp_s += seconds_since(t1);
        buffer.push_back(std::move(b));
      }
      model->train();
      if (traj) {
        // This rank's rollouts of the step in one record (all GA micro-batches).
        std::vector<io::TrajectoryBatch> parts;
        for (const auto& b : buffer) parts.push_back(to_trajectory(b, step, decoding_json));
        traj->append(concat_trajectories(parts));
      }
    }
    // mu inner iterations: this step is reuse ps.reuse of the buffer.
    const auto t2 = std::chrono::steady_clock::now();
    const int64_t fw2 = forwards();
    StepFigures f;
    for (size_t k = 0; k < buffer.size(); ++k) {
      model->seed_dropout(dropout.derive_seed());
      const auto st = algorithm->loss_and_backward(nets, buffer[k], ps.reuse, static_cast<int64_t>(k),
                                                   1.0 / static_cast<double>(s.train.grad_accum));
      f.loss += st.loss / static_cast<double>(s.train.grad_accum);
      // KL and clip ratio as token sums: reduced over ranks into means over every token of the
      // step, so they do not depend on how the rows are laid out over ranks and micro-batches.
      f.kl += st.kl * st.tokens;
      f.clip += st.clip_ratio * st.tokens;
      f.tokens += st.tokens;
      f.empty_steps += st.empty_steps;
    }
    const double train_s = seconds_since(t2);
    const int64_t train_fw = forwards() - fw2;

    // Rollout figures of the buffer (the same for its mu steps).
    dist::MetricReducer red;
    red.add("loss", f.loss);
    red.add("kl", f.kl, dist::MetricKind::Sum);
    red.add("clip_ratio", f.clip, dist::MetricKind::Sum);
    red.add("tokens", f.tokens, dist::MetricKind::Sum);
    torch::Tensor rewards = torch::cat([&] {
      std::vector<torch::Tensor> v;
      for (const auto& b : buffer) v.push_back(b.reward);
      return v;
    }());
    torch::Tensor comps = torch::cat([&] {
      std::vector<torch::Tensor> v;
      for (const auto& b : buffer) v.push_back(b.rewards);
      return v;
    }());
    torch::Tensor lengths = torch::cat([&] {
      std::vector<torch::Tensor> v;
      for (const auto& b : buffer) v.push_back(b.completion_mask.sum(1));
      return v;
    }());
    const auto adv = group_advantages(rewards, g.num_generations, AdvantageScaling::None);
    red.add("reward", rewards.mean().item<double>());
    for (size_t c = 0; c < comp_names.size(); ++c) red.add("rewards/" + comp_names[c], comps.select(1, static_cast<int64_t>(c)).mean().item<double>());
    red.add("reward_std", adv.reward_std.item<double>());
    red.add("zero_std_ratio", adv.zero_std_ratio.item<double>());
    red.add("completion_length", lengths.mean().item<double>());
    red.add("eos_share", lengths.lt(static_cast<double>(s.decode.gen_length)).to(torch::kFloat).mean().item<double>());
    red.add("rollout_s", rollout_s, dist::MetricKind::Max);
    red.add("logp_s", logp_s, dist::MetricKind::Max);
    red.add("train_s", train_s, dist::MetricKind::Max);
    // Forwards of this rank's models in each phase (the same on every rank), and CJ-GRPO's decoding
    // steps that unmasked nothing in a micro-batch (summed over ranks; quirk Q12).
    red.add("forwards_rollout", static_cast<double>(rollout_fw), dist::MetricKind::Max);
    red.add("forwards_logp", static_cast<double>(logp_fw), dist::MetricKind::Max);
    red.add("forwards_train", static_cast<double>(train_fw), dist::MetricKind::Max);
    if (s.mode == "cj-grpo") red.add("empty_steps", f.empty_steps, dist::MetricKind::Sum);
    auto v = red.reduce(env.world());
    const double all_tokens = std::max(1.0, v[3].second);
    v[1].second /= all_tokens;  // kl
    v[2].second /= all_tokens;  // clip_ratio
    MDRL_CHECK(std::isfinite(v[0].second), core::NumericError,
               "the loss is not finite at step " + std::to_string(step) +
                   " (no update applied, nothing saved); lower train.lr or check the rewards");
    const auto opt = trainer.optimizer_step();
    logger.end_step(step, static_cast<int64_t>(v[3].second));
    nlohmann::ordered_json row;
    for (const auto& [name, value] : v)
      if (name != "tokens") row[name] = value;
    row["tokens"] = static_cast<int64_t>(v[3].second);
    row["lr"] = opt.lr;
    row["grad_norm"] = opt.grad_norm;
    row["rollout_reuse"] = ps.reuse;
    row["epoch"] = ps.epoch;
    row["tokens_per_s"] = logger.tokens_per_second();
    row["ms_per_step"] = logger.step_seconds() * 1000;
    row["eta_s"] = logger.eta_seconds();
    metrics.write(step, row);
    const double reward = row["reward"].get<double>();
    if (ps.fresh && first_rollout) out.first_reward = reward;
    if (ps.fresh) first_rollout = false;
    out.last_reward = reward;
    logger.report(step, {{"reward", fixed(reward, 3)}, {"loss", fixed(v[0].second, 4)}, {"kl", sci(v[1].second)},
                         {"clip", fixed(v[2].second, 3)}, {"lr", sci(opt.lr)}, {"gnorm", fixed(opt.grad_norm, 3)}});
    if (s.train.eval_every > 0 && (step % s.train.eval_every == 0 || step == total)) run_eval(step);
    const auto decision = control.at_step_boundary();
    if (ckpt.due(step) || decision.checkpoint || step == total) {
      logger.break_line();
      save(decision.checkpoint ? decision.reason : step == total ? "end of training" : "checkpoint.every");
      last_saved = step;
    }
    if (decision.stop && step < total) {
      logger.break_line();
      core::log::info() << "stopping after step " << step << " (" << decision.reason
                        << "); run the same command again to resume";
      out.steps = step;
      if (traj) traj->close();
      return out;
    }
  }
  if (last_saved != trainer.step() && trainer.step() > 0) save("end of training");
  if (traj) traj->close();
  out.steps = trainer.step();
  out.finished = true;
  const auto final_dir = train::write_final_weights(env, *model, s.model, s.run.dir);
  core::log::info() << s.mode << " finished: " << out.steps << " steps; trained "
                    << (model->has_lora() ? "adapter" : "model") << " in " << final_dir;
  return out;
}

}  // namespace mdrl::rl
