// The SFT loop (sft_loop.hpp).
#include "sft/sft_loop.hpp"

#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

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
#include "dist/sampler.hpp"
#include "dist/tensor_collectives.hpp"
#include "eval/task_decode.hpp"
#include "io/checkpoint.hpp"
#include "io/metrics_log.hpp"
#include "model/hf_checkpoint.hpp"
#include "model/peft.hpp"
#include "sft/sft_data.hpp"
#include "sft/sft_objective.hpp"
#include "tokenizer/tokenizer.hpp"
#include "train/final_weights.hpp"
#include "train/run_state.hpp"
#include "train/step_logger.hpp"
#include "train/trainer.hpp"

namespace mdrl::sft {
namespace fs = std::filesystem;

namespace {

at::Generator cpu_generator(uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

struct EvalResult {
  double loss = -1, unscaled = -1;
  double accuracy = -1, solved = -1;  // task metric over the decoded held-out examples
  int64_t decoded = 0;
};

// Everything one run holds.
struct Run {
  const dist::MpiEnv& env;
  const SftSettings& s;
  torch::Device device;
  tokenizer::Tokenizer tok;
  SftDataset data;
  model::LladaModel model;
  int64_t pad_id, mask_id;

  int64_t pad_to() const { return s.sft.padding == Padding::MaxLength ? s.sft.max_length : 0; }
  std::vector<const SftSequence*> pick(const std::vector<SftSequence>& from, const std::vector<int64_t>& idx) const {
    std::vector<const SftSequence*> out;
    for (const auto i : idx) out.push_back(&from[static_cast<size_t>(i)]);
    return out;
  }
};

// Held-out loss with the reference's fixed t = linspace(0, 1, n_eval)[i], and task accuracy from
// greedy-or-configured decoding of the first sft.eval_decode held-out examples. Collective. The
// noise depends only on (seed, step), so a resumed run evaluates exactly as an uninterrupted one.
EvalResult evaluate(Run& r, int64_t step) {
  EvalResult out;
  const auto& eval = r.data.eval;
  if (eval.empty()) return out;
  const int W = r.env.size(), rank = r.env.rank();
  const auto n = static_cast<int64_t>(eval.size());
  torch::NoGradGuard ng;
  r.model->eval();
  dist::MetricReducer red;
  double loss_sum = 0, ce_sum = 0;
  int64_t batches = 0, masked = 0;
  at::Generator gen = cpu_generator(core::RngStream(static_cast<uint64_t>(r.s.run.seed), rank, core::RngPurpose::Masking,
                                                    core::rng_block::kHeldOut + static_cast<uint64_t>(step))
                                        .derive_seed());
  std::vector<int64_t> mine;
  for (int64_t i = rank; i < n; i += W) mine.push_back(i);
  for (size_t at = 0; at < mine.size(); at += static_cast<size_t>(r.s.train.batch_size)) {
    const size_t end = std::min(mine.size(), at + static_cast<size_t>(r.s.train.batch_size));
    std::vector<int64_t> idx(mine.begin() + static_cast<long>(at), mine.begin() + static_cast<long>(end));
    std::vector<double> t;
    for (const auto i : idx) t.push_back(n > 1 ? static_cast<double>(i) / static_cast<double>(n - 1) : 0.0);
    const auto batch = collate(r.pick(eval, idx), r.pad_id, r.pad_to());
    const auto noised = forward_process(batch, r.mask_id, r.s.sft.eps, gen, t);
    const auto l = sft_loss(*r.model, batch, noised, r.s.sft.loss_norm, r.device);
    loss_sum += l.loss.item<double>();
    ce_sum += l.ce_sum;
    masked += l.masked;
    ++batches;
  }
  red.add("loss_sum", loss_sum, dist::MetricKind::Sum);
  red.add("batches", static_cast<double>(batches), dist::MetricKind::Sum);
  red.add("ce_sum", ce_sum, dist::MetricKind::Sum);
  red.add("masked", static_cast<double>(masked), dist::MetricKind::Sum);

  // Task accuracy: decode the prompts of the first eval_decode held-out examples.
  double correct = 0, total = 0, solved = 0, decoded = 0;
  const int64_t n_decode = r.data.task ? std::min<int64_t>(r.s.sft.eval_decode, n) : 0;
  if (n_decode > 0) {
    std::vector<std::vector<int64_t>> prompts;
    for (int64_t i = 0; i < n_decode; ++i) {
      const auto& seq = eval[static_cast<size_t>(i)];
      prompts.emplace_back(seq.ids.begin(), seq.ids.begin() + seq.prompt_len);
    }
    decode::LladaDenoiser den(r.model);
    const auto plan = decode::make_plan(r.s.decode);
    core::RngStream sampling(static_cast<uint64_t>(r.s.run.seed), rank, core::RngPurpose::Sampling,
                             core::rng_block::kHeldOut + static_cast<uint64_t>(step));
    at::Generator sgen = decode::sampling_generator(sampling, r.device);
    // The rank's whole share in one batch (batch_size 0).
    const auto decoded_share =
        eval::decode_share(rank, W, den, r.tok, prompts, eval::DecodeJob{r.s.decode, plan, 0, true, {}}, sgen);
    const auto score = eval::score_completions(*r.data.task, decoded_share, [&](size_t i) -> const tasks::Example& {
      return r.data.examples[static_cast<size_t>(eval[i].example)];
    });
    correct = score.correct;
    total = score.total;
    solved = score.solved;
    decoded = score.decoded;
  }
  red.add("correct", correct, dist::MetricKind::Sum);
  red.add("total", total, dist::MetricKind::Sum);
  red.add("solved", solved, dist::MetricKind::Sum);
  red.add("decoded", decoded, dist::MetricKind::Sum);
  const auto v = red.reduce(r.env.world());
  auto get = [&](const char* k) {
    for (const auto& [name, value] : v)
      if (name == k) return value;
    return 0.0;
  };
  out.loss = get("batches") > 0 ? get("loss_sum") / get("batches") : -1;
  out.unscaled = get("masked") > 0 ? get("ce_sum") / get("masked") : -1;
  if (get("decoded") > 0) {
    out.decoded = static_cast<int64_t>(get("decoded"));
    out.accuracy = get("total") > 0 ? get("correct") / get("total") : 0;
    out.solved = get("solved") / get("decoded");
  }
  r.model->train();
  return out;
}

using train::StepLogger;
constexpr auto fixed = &StepLogger::fixed;
constexpr auto sci = &StepLogger::sci;

}  // namespace

SftOutcome run_sft(const dist::MpiEnv& env, const SftSettings& s) {
  // First, so the walltime clock includes loading the data and the model, and a signal that
  // arrives during loading stops the run at its first step boundary.
  train::RunControl control(env, s.control, s.run.dir);
  const dist::Placement place = dist::place_rank(env, s.dist);
  const torch::Device device(place.device);
  const auto seed = static_cast<uint64_t>(s.run.seed);
  auto tok = s.tokenizer.load();
  auto data = load_sft_data(s.sft, s.tasks, tok, seed, place.threads);
  core::log::info() << "sft data: " << data.source << ": " << data.train.size() << " train, " << data.eval.size()
                    << " held out; " << data.stats.describe();
  const int64_t skipped = data.stats.skipped_empty + data.stats.skipped_long_prompt + data.stats.skipped_too_long;
  if (skipped > 0 || data.stats.truncated > 0)
    core::log::warn() << "sft data: skipped " << skipped << " and truncated " << data.stats.truncated << " of "
                      << data.stats.rows << " rows (see the counts above)";
  auto model = model::build_model(s.model, s.lora, device, seed);
  MDRL_CHECK(tok.vocab_size() <= model->config().vocab_size, core::ConfigError,
             "tokenizer.path (" + tok.source() + ") has more tokens than the model's vocabulary; use the model's tokenizer");
  Run r{env, s, device, std::move(tok), std::move(data), model, model->config().pad_token_id,
        model->config().mask_token_id};
  r.model->train();

  // Every rank built the same weights (same files or the same seed); verify rather than assume.
  dist::NamedTensors all_named;
  for (const auto& p : r.model->named_parameters()) all_named.emplace_back(p.key(), p.value());
  dist::verify_parameters_identical(env.world(), all_named);

  dist::TensorCollectives coll(env.world(), s.dist.bucket_bytes(), place.cuda_index);
  const int W = env.size();
  const int64_t micro_per_epoch = static_cast<int64_t>(r.data.train.size()) / (W * s.train.batch_size);
  MDRL_CHECK(micro_per_epoch > 0, core::ConfigError,
             "train.batch_size = " + std::to_string(s.train.batch_size) + " x " + std::to_string(W) +
                 " ranks is more than the " + std::to_string(r.data.train.size()) + " training examples");
  // As the HF Trainer: whole optimizer steps per epoch, times the epochs (990 examples on 2 ranks,
  // GA 4: 123 x 20 = 2460, the reference's checkpoint-2460).
  const int64_t total = s.train.max_steps > 0 ? s.train.max_steps
                                              : std::max<int64_t>(1, s.train.epochs * (micro_per_epoch / s.train.grad_accum));
  train::Trainer trainer(s.train, train::trainable_named(*r.model), coll, total);
  int64_t n_trainable = 0;
  for (const auto& [name, p] : trainer.trainable()) n_trainable += p.numel();
  core::log::info() << "sft: " << total << " optimizer steps of " << s.train.batch_size << " x " << s.train.grad_accum
                    << " x " << W << " sequences (" << micro_per_epoch << " micro-batches per epoch), "
                    << n_trainable << " trainable parameters" << (r.model->has_lora() ? " (LoRA)" : "") << " on "
                    << place.device;

  dist::ShardedSampler sampler(static_cast<int64_t>(r.data.train.size()), W, env.rank(), seed);
  core::RngStream masking(seed, env.rank(), core::RngPurpose::Masking);
  core::RngStream dropout(seed, env.rank(), core::RngPurpose::Dropout, uint64_t{1} << 40);

  // Resume: the trainer and the registered streams. In SFT, [decode] and sft.eval_decode shape only
  // the evaluation decodes, sft.final_weights the export: free to change.
  train::RunState state;
  state.add_rng("masking", masking);
  state.add_rng("dropout", dropout);
  state.add_sampler("train", sampler);
  io::CheckpointManager ckpt(env.world(), s.run.dir, s.checkpoint);
  const auto id = train::ModelIdentity::of(*r.model, s.model);
  // Another world size may resume (same ranks x train.batch_size: train::check_resume_world): the
  // sampler's cursor is global, and the per-rank streams map (io::ResumeRequirements).
  const train::ResumeOptions resume_opt{
      s.train, s.config_ini, {"decode.*", "sft.eval_decode", "sft.final_weights"}, total, true};
  const auto resumed = train::resume_from_latest(ckpt, s.run.dir, id, resume_opt, trainer, state);
  const int64_t resume_step = resumed ? resumed->step : -1;
  auto save = [&](const char* why) {
    auto st = train::checkpoint_state(trainer, id, state, s.config_ini);
    st.counters["epoch"] = sampler.state().epoch;
    core::log::info() << "checkpoint at step " << st.step << " (" << why << ")";
    ckpt.save(st);
  };

  io::MetricsLog metrics((fs::path(s.run.dir) / "metrics.jsonl").string(), env.rank() == 0, resume_step);
  train::StepLogger logger(total, s.train.log_every, trainer.step(), env.rank() == 0);
  SftOutcome out;
  out.total_steps = total;
  int64_t last_saved = resume_step;
  auto run_eval = [&](int64_t step) {
    logger.break_line();
    const auto e = evaluate(r, step);
    out.eval_loss = e.loss;
    out.eval_accuracy = e.accuracy;
    out.eval_solved = e.solved;
    nlohmann::ordered_json row = {{"eval_loss", e.loss}, {"eval_unscaled_loss", e.unscaled}};
    std::string line = "eval step " + std::to_string(step) + " | loss " + fixed(e.loss, 4) + " | unscaled " + fixed(e.unscaled, 4);
    if (e.decoded > 0) {
      row["eval_accuracy"] = e.accuracy;
      row["eval_solved"] = e.solved;
      row["eval_decoded"] = e.decoded;
      line += " | " + r.data.task->name() + " accuracy " + fixed(100 * e.accuracy, 1) + "% | solved " +
              fixed(100 * e.solved, 1) + "% of " + std::to_string(e.decoded);
    }
    metrics.write(step, row);
    core::log::info() << line;
  };

  while (trainer.step() < total) {
    logger.start_step();
    const int64_t step = trainer.step() + 1;
    double loss = 0, ce_sum = 0;
    int64_t masked = 0, tokens = 0;
    for (int64_t k = 0; k < s.train.grad_accum; ++k) {
      const auto batch = collate(r.pick(r.data.train, sampler.next(s.train.batch_size)), r.pad_id, r.pad_to());
      if (core::log::enabled(core::log::Level::Debug)) {
        // The global data order (every rank's samples, the same for any ranks x batch split).
        std::string ids;
        for (const auto i : sampler.last_global_batch()) ids += (ids.empty() ? "" : ",") + std::to_string(i);
        core::log::debug() << "data step " << step << " micro " << k << " samples " << ids;
      }
      at::Generator gen = cpu_generator(masking.derive_seed());
      const auto noised = forward_process(batch, r.mask_id, s.sft.eps, gen);
      r.model->seed_dropout(dropout.derive_seed());
      const auto l = sft_loss(*r.model, batch, noised, s.sft.loss_norm, device);
      (l.loss / static_cast<double>(s.train.grad_accum)).backward();
      loss += l.loss.item<double>() / static_cast<double>(s.train.grad_accum);
      ce_sum += l.ce_sum;
      masked += l.masked;
      tokens += batch.ids.numel();
    }
    dist::MetricReducer red;
    red.add("loss", loss);
    red.add("ce_sum", ce_sum, dist::MetricKind::Sum);
    red.add("masked", static_cast<double>(masked), dist::MetricKind::Sum);
    red.add("tokens", static_cast<double>(tokens), dist::MetricKind::Sum);
    const auto v = red.reduce(env.world());
    const double g_loss = v[0].second, unscaled = v[2].second > 0 ? v[1].second / v[2].second : 0;
    const auto g_tokens = static_cast<int64_t>(v[3].second);
    MDRL_CHECK(std::isfinite(g_loss), core::NumericError,
               "the loss is not finite at step " + std::to_string(step) +
                   " (no update applied, nothing saved); lower train.lr or check the data");
    const auto opt = trainer.optimizer_step();
    logger.end_step(step, g_tokens);
    const double epoch = static_cast<double>(sampler.state().epoch) +
                         static_cast<double>(sampler.state().cursor) / static_cast<double>(r.data.train.size());
    metrics.write(step, {{"loss", g_loss},
                         {"unscaled_loss", unscaled},
                         {"lr", opt.lr},
                         {"grad_norm", opt.grad_norm},
                         {"epoch", epoch},
                         {"tokens", g_tokens},
                         {"masked_tokens", static_cast<int64_t>(v[2].second)},
                         {"tokens_per_s", logger.tokens_per_second()},
                         {"ms_per_step", logger.step_seconds() * 1000},
                         {"eta_s", logger.eta_seconds()}});
    logger.report(step, {{"loss", fixed(g_loss, 4)}, {"lr", sci(opt.lr)}, {"gnorm", fixed(opt.grad_norm, 3)},
                         {"epoch", fixed(epoch, 2)}});
    if (s.train.eval_every > 0 && !r.data.eval.empty() && (step % s.train.eval_every == 0 || step == total))
      run_eval(step);
    const auto decision = control.at_step_boundary();
    if (ckpt.due(step) || decision.checkpoint || step == total) {
      logger.break_line();
      save(decision.checkpoint ? decision.reason.c_str() : step == total ? "end of training" : "checkpoint.every");
      last_saved = step;
    }
    if (decision.stop && step < total) {
      logger.break_line();
      core::log::info() << "stopping after step " << step << " (" << decision.reason
                        << "); run the same command again to resume";
      out.steps = step;
      return out;
    }
  }
  if (last_saved != trainer.step() && trainer.step() > 0) save("end of training");
  out.steps = trainer.step();
  out.finished = true;
  if (s.sft.final_weights == FinalWeights::Best) {
    const int64_t best = train::best_checkpoint_step(env, s.run.dir, ckpt, total, "eval_loss", train::MetricGoal::Minimise);
    if (best < 0 && s.train.eval_every > 0) {
      core::log::warn() << "sft.final_weights = best, but no kept checkpoint has an eval_loss (evaluate at "
                           "checkpoint steps: train.eval_every = checkpoint.every); final/ holds the last step";
    } else if (best >= 0 && best != trainer.step()) {
      trainer.restore(ckpt.load(ckpt.path_for_step(best), id.req));
      core::log::info() << "final weights from step " << best << " (lowest eval_loss of the kept checkpoints)";
    }
  }
  const auto final_dir = train::write_final_weights(env, *r.model, s.model, s.run.dir);
  core::log::info() << "sft finished: " << out.steps << " steps; trained " << (r.model->has_lora() ? "adapter" : "model")
                    << " in " << final_dir;
  return out;
}

}  // namespace mdrl::sft
