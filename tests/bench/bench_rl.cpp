// Benchmark (label bench): where an optimizer step of `mdrl diffu-grpo` and `mdrl one-step-grpo`
// spends its time on CPU, for the "tiny" and "llada-100m" presets, against the forward counts of
// spec algorithms.md §2.1 ("Forwards per micro-batch and rollout": num_blocks * steps_per_block
// decoding + old + ref + mu training forwards), and 2 ranks vs 1 rank at a fixed global batch.
//
// Each run goes through the real executable (`$MPIEXEC -np R --oversubscribe --bind-to none
// $MDRL_EXE <mode> ...`) in a temporary run.dir on generated 4x4 Sudoku (bare prompts), full
// fine-tuning with the frozen-copy reference (grpo.beta 0.04), G 2, mu 2, train.grad_accum 1,
// rollouts at decode.temperature 1. The figures come from metrics.jsonl: rollout_s (decoding plus
// rewards and advantages), logp_s (old and reference log-probs, once per rollout) and train_s
// (loss forward + backward of the step's micro-batches) per optimizer step, each the slowest rank's.
// The first mu-cycle (one rollout and its reuses) is warm-up; of the rest, rollout_s and logp_s
// are medians over the fresh steps (rollout_reuse 0, the only ones that decode), train_s over all
// steps. The decoding forwards are counted from the "rollout of N rows: F forwards" lines that
// --log.level=debug prints per micro-batch and checked against num_blocks * steps_per_block.
//
// Forward counts per micro-batch and rollout, in forwards of the micro-batch's B rows (all of shape
// [B, P + L], so they cost about the same): decoding S = num_blocks * steps_per_block; old (mu > 1)
// and ref (beta != 0): diffu-GRPO one forward of mu * B rows each (= mu B-row forwards; mdrl runs
// mu forwards of B rows), one-step GRPO one forward of B rows each; training: mu forwards with
// gradient, one per optimizer step of the cycle, each followed by a backward (~2 forwards), so
// "expected_share" counts a training forward as 3. "time_share" is each phase's measured seconds per
// mu-cycle (rollout + logp + mu * train) over their sum; "forward_equivalents" converts the measured
// phases into forwards at the decoding forward's cost (rollout_s / S) for comparison with the
// counts. "other_share" is what the step wall time (ms_per_step summed over the measured cycles)
// spends outside the three phases: optimizer step, gradient all-reduce, metrics, trajectory writes.
//
// Scaling: steps/s = measured steps / their summed ms_per_step (whole mu-cycles, so fresh and reuse
// steps are weighted as they occur); "scaling" = steps/s with R ranks / steps/s with 1 rank at the
// same global batch (train.batch_size = global / R). On one machine 1 rank uses the cores through
// intra-op threads and R ranks split them (dist.threads = 0), as in bench_sft; every row records
// cpu_busy_before (share of the CPUs other processes kept busy in the second before the run) and
// the object carries a "warning" above 20%.
//
// Environment: MDRL_EXE (required), MPIEXEC (default mpirun), MDRL_BENCH_PRESETS (subset of
// tiny,llada-100m), MDRL_BENCH_MODES (subset of diffu-grpo,one-step-grpo), MDRL_BENCH_RANKS
// (default 1,2), MDRL_BENCH_STEPS / MDRL_BENCH_BATCH / MDRL_BENCH_MU (optimizer steps per run,
// global batch, grpo.num_iterations: one number or "tiny=12,llada-100m=6"), MDRL_BENCH_THREADS
// (dist.threads, default 0), MDRL_BENCH_RL_ARGS (extra --section.key=value options; the forward
// counts assume the [grpo]/[decode] settings listed in "setup"), MDRL_BENCH_DIR (temporary run
// directories; default the system temp folder). Defaults: tiny 12 steps, gen_length 64, block 32,
// 16 decoding steps; llada-100m 6 steps, gen_length 32, block 16, 8 decoding steps; global batch 4
// (2 groups of 2); a few minutes on a 2-core machine. Progress on stderr, one JSON object on stdout;
// exit 1 when a run failed (its row then carries "error").
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_support.hpp"
#include "process_support.hpp"

namespace fs = std::filesystem;
using mdrl::test::run_command;
using nlohmann::json;
using namespace mdrl::bench;

namespace {
constexpr int64_t kGroup = 2;       // grpo.num_generations
constexpr int64_t kGradAccum = 1;   // train.grad_accum
constexpr double kBeta = 0.04;      // grpo.beta (the default): reference forwards on

bool listed(const std::string& list, const std::string& item) {
  return list.empty() || ("," + list + ",").find("," + item + ",") != std::string::npos;
}

// Threads per rank, from `mdrl info` run with the same layout and [dist] options.
json threads_per_rank(const std::string& launcher, const std::string& dist_args) {
  const auto r = run_command(launcher + " info " + dist_args);
  json t = json::array();
  if (r.status != 0) return t;
  // " rank  host  node  local/size  device  threads  affinity  threads from"
  static const std::regex row(R"(^\s*(\d+)\s+\S+\s+\d+\s+\d+/\d+\s+\S+\s+(\d+)\s+(\S+)\s+(.*)$)");
  std::stringstream in(r.output);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_match(line, m, row)) t.push_back(std::stoi(m[2]));
  }
  return t;
}

struct Decoding {
  int64_t gen_length, block_length, steps;
  int64_t num_blocks() const { return gen_length / block_length; }
  int64_t steps_per_block() const { return std::max<int64_t>(1, steps / num_blocks()); }  // spec §1.3
};

// Spec §2.1/§2.2 forwards per micro-batch and rollout, in forwards of the micro-batch's B rows.
json expected_forwards(const std::string& mode, const Decoding& d, int64_t mu) {
  const int64_t decode = d.num_blocks() * d.steps_per_block();
  const int64_t per_lp = mode == "diffu-grpo" ? mu : 1;  // diffu: one forward of mu * B rows
  const int64_t old_f = mu > 1 ? per_lp : 0, ref_f = kBeta != 0.0 ? per_lp : 0;
  const int64_t total = decode + old_f + ref_f + mu;
  const double units = static_cast<double>(decode + old_f + ref_f) + 3.0 * static_cast<double>(mu);
  return {{"decode", decode},
          {"old", old_f},
          {"ref", ref_f},
          {"train", mu},
          {"total", total},
          {"forward_share",
           {{"rollout", static_cast<double>(decode) / total},
            {"logp", static_cast<double>(old_f + ref_f) / total},
            {"train", static_cast<double>(mu) / total}}},
          {"expected_share",  // a training forward + backward counted as 3 forwards
           {{"rollout", decode / units}, {"logp", (old_f + ref_f) / units}, {"train", 3.0 * mu / units}}}};
}
}  // namespace

int main() {
  const char* exe_env = std::getenv("MDRL_EXE");
  if (exe_env == nullptr || *exe_env == '\0') {
    std::fprintf(stderr, "bench_rl: MDRL_EXE is not set; run it through ctest or set MDRL_EXE=<path to mdrl>\n");
    return 2;
  }
  const std::string exe = exe_env;
  const std::string mpiexec = env_or("MPIEXEC", "mpirun");
  if (geteuid() == 0) {  // Open MPI refuses root without these (CI containers); ctest sets them too
    setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 0);
    setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 0);
  }
  const std::string presets = env_or("MDRL_BENCH_PRESETS", "");
  const std::string modes = env_or("MDRL_BENCH_MODES", "");
  std::vector<int> ranks_list;
  for (const auto& r : split(env_or("MDRL_BENCH_RANKS", "1,2"), ',')) ranks_list.push_back(std::stoi(r));
  const std::string threads = env_or("MDRL_BENCH_THREADS", "0");
  const std::string extra = env_or("MDRL_BENCH_RL_ARGS", "");
  const fs::path base = env_or("MDRL_BENCH_DIR", fs::temp_directory_path().string());
  std::string tmpl = (base / "bench_rl-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) {
    std::fprintf(stderr, "bench_rl: cannot create a directory under %s\n", base.c_str());
    return 2;
  }
  const fs::path dir = fs::absolute(tmpl);

  json out;
  out["benchmark"] = "rl";
  out["mdrl"] = first_line(run_command(quote(exe) + " --version").output);
  out["cpus"] = std::thread::hardware_concurrency();
  out["loadavg_start"] = loadavg();
  out["setup"] = {{"task", "sudoku"},         {"prompt_style", "bare"},  {"num_generations", kGroup},
                  {"grad_accum", kGradAccum}, {"beta", kBeta},           {"decode.temperature", 1.0},
                  {"lora", "none (full fine-tuning, frozen-copy reference)"},
                  {"dist.threads", threads},  {"extra_args", extra}};
  out["note"] =
      "per optimizer step on CPU; medians after the first mu-cycle, rollout_s/logp_s over fresh steps only. "
      "expected.forward_share: spec §2.1 forward counts per micro-batch and rollout (decode S = num_blocks x "
      "steps_per_block, old, ref, mu training forwards; diffu-GRPO's old/ref forward has mu x B rows = mu "
      "forwards of B rows); expected_share counts a training forward + backward as 3. time_share: measured "
      "rollout, logp, mu x train per mu-cycle over their sum. forward_equivalents: measured phase time / "
      "(rollout_s / S). scaling: steps/s with R ranks / with 1 rank at the same global batch on the same cores.";
  out["rows"] = json::array();
  out["scaling"] = json::object();
  bool failed = false;
  double max_busy = 0;
  static const std::regex fwd_line(R"(rollout of (\d+) rows: (\d+) forwards)");

  for (const std::string preset : {"tiny", "llada-100m"}) {
    if (!listed(presets, preset)) continue;
    const bool tiny = preset == "tiny";
    const int64_t steps = per_preset("MDRL_BENCH_STEPS", preset, tiny ? 12 : 6);
    const int64_t global_batch = per_preset("MDRL_BENCH_BATCH", preset, 4);
    const int64_t mu = per_preset("MDRL_BENCH_MU", preset, 2);
    const Decoding dec = tiny ? Decoding{64, 32, 16} : Decoding{32, 16, 8};
    for (const std::string mode : {"diffu-grpo", "one-step-grpo"}) {
      if (!listed(modes, mode)) continue;
      std::map<int, double> steps_per_s;
      for (const int ranks : ranks_list) {
        json row = {{"preset", preset},
                    {"mode", mode},
                    {"ranks", ranks},
                    {"global_batch", global_batch},
                    {"num_iterations", mu},
                    {"steps", steps},
                    {"decode", {{"gen_length", dec.gen_length}, {"block_length", dec.block_length},
                                {"steps", dec.steps}, {"num_blocks", dec.num_blocks()},
                                {"steps_per_block", dec.steps_per_block()}}},
                    {"loadavg", loadavg()},
                    {"cpu_busy_before", cpu_busy(1.0)}};
        max_busy = std::max(max_busy, row["cpu_busy_before"].get<double>());
        if (ranks < 1 || global_batch % (ranks * kGroup) != 0 || steps < 2 * mu) {
          row["error"] = "global batch " + std::to_string(global_batch) + " is not whole groups of " +
                         std::to_string(kGroup) + " per rank for " + std::to_string(ranks) +
                         " ranks, or fewer than 2 mu-cycles of steps";
          out["rows"].push_back(row);
          failed = true;
          continue;
        }
        const int64_t per_rank = global_batch / ranks;
        row["batch_size_per_rank"] = per_rank;
        const std::string launcher =
            quote(mpiexec) + " -np " + std::to_string(ranks) + " --oversubscribe --bind-to none " + quote(exe);
        const std::string dist_args = "--dist.device=cpu --dist.threads=" + threads;
        row["threads_per_rank"] = threads_per_rank(launcher, dist_args);
        const fs::path run_dir = dir / (preset + "-" + mode + "-np" + std::to_string(ranks));
        const std::string cmd =
            launcher + " " + mode + " " + dist_args + " --run.dir=" + quote(run_dir.string()) +
            " --model.preset=" + preset +
            " --rl.task=sudoku --rl.prompt_style=bare --tasks.generated_count=256" +
            " --grpo.num_generations=" + std::to_string(kGroup) + " --grpo.num_iterations=" + std::to_string(mu) +
            " --grpo.beta=0.04 --train.batch_size=" + std::to_string(per_rank) +
            " --train.grad_accum=" + std::to_string(kGradAccum) + " --train.max_steps=" + std::to_string(steps) +
            " --decode.temperature=1 --decode.gen_length=" + std::to_string(dec.gen_length) +
            " --decode.block_length=" + std::to_string(dec.block_length) +
            " --decode.steps=" + std::to_string(dec.steps) + " --checkpoint.every=0 --log.level=debug " + extra;
        std::fprintf(stderr, "bench_rl: %s %s, %d rank(s) x %ld rows, %ld steps ...\n", preset.c_str(), mode.c_str(),
                     ranks, static_cast<long>(per_rank), static_cast<long>(steps));
        const auto t0 = std::chrono::steady_clock::now();
        const auto r = run_command(cmd);
        row["wall_s"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

        // Decoding forwards actually run, per micro-batch rollout (the lines of the ranks that log).
        std::set<int64_t> logged;
        int64_t rollout_lines = 0;
        for (auto it = std::sregex_iterator(r.output.begin(), r.output.end(), fwd_line); it != std::sregex_iterator();
             ++it) {
          logged.insert(std::stoll((*it)[2]));
          ++rollout_lines;
        }

        std::vector<double> roll, logp, train, ms_fresh, ms_reuse;
        double ms_sum = 0;
        int64_t rows_read = 0, measured = 0;
        std::ifstream metrics(run_dir / "metrics.jsonl");
        for (std::string line; std::getline(metrics, line);) {
          if (line.empty()) continue;
          const json m = json::parse(line, nullptr, /*allow_exceptions=*/false);
          if (m.is_discarded() || !m.contains("ms_per_step")) continue;
          ++rows_read;
          if (m.value("step", int64_t{0}) <= mu) continue;  // the first mu-cycle: warm-up
          ++measured;
          const bool fresh = m.value("rollout_reuse", int64_t{0}) == 0;
          if (fresh) {
            roll.push_back(m.value("rollout_s", 0.0));
            logp.push_back(m.value("logp_s", 0.0));
            ms_fresh.push_back(m.value("ms_per_step", 0.0));
          } else {
            ms_reuse.push_back(m.value("ms_per_step", 0.0));
          }
          train.push_back(m.value("train_s", 0.0));
          ms_sum += m.value("ms_per_step", 0.0);
        }
        if (r.status != 0 || rows_read != steps || roll.empty()) {
          row["error"] = "exit status " + std::to_string(r.status) + ", " + std::to_string(rows_read) +
                         " step rows in metrics.jsonl: " + tail(r.output, 2000);
          failed = true;
        } else {
          const json exp = expected_forwards(mode, dec, mu);
          const double rs = median(roll), ls = median(logp), ts = median(train);
          const double cycle = rs + ls + static_cast<double>(mu) * ts;
          const double per_fwd = rs / static_cast<double>(kGradAccum * exp["decode"].get<int64_t>());
          const double cycles_wall_s = ms_sum / 1000.0 * static_cast<double>(mu) / static_cast<double>(measured);
          row["measured_steps"] = measured;
          row["median_s"] = {{"rollout", rs}, {"logp", ls}, {"train", ts}};
          row["ms_per_step_median"] = {{"fresh", median(ms_fresh)}, {"reuse", median(ms_reuse)}};
          row["mu_cycle_s"] = {{"phases", cycle}, {"wall", cycles_wall_s}};
          row["time_share"] = {{"rollout", rs / cycle}, {"logp", ls / cycle}, {"train", mu * ts / cycle}};
          row["other_share"] = cycles_wall_s > 0 ? 1.0 - cycle / cycles_wall_s : 0.0;
          row["expected"] = exp;
          row["decode_forwards_logged"] = std::vector<int64_t>(logged.begin(), logged.end());
          row["decode_forwards_match"] = logged.size() == 1 && *logged.begin() == exp["decode"].get<int64_t>();
          row["rollout_calls_logged"] = rollout_lines;
          row["s_per_decode_forward"] = per_fwd;
          // The measured phases in forwards of B rows at the decoding forward's cost.
          row["forward_equivalents"] = {
              {"logp", ls / per_fwd / kGradAccum},
              {"logp_expected", exp["old"].get<int64_t>() + exp["ref"].get<int64_t>()},
              {"train_per_step", ts / per_fwd / kGradAccum},
              {"train_per_step_expected", "1 forward + backward (~3)"}};
          row["steps_per_s"] = 1000.0 * static_cast<double>(measured) / ms_sum;
          steps_per_s[ranks] = row["steps_per_s"].get<double>();
          if (!row["decode_forwards_match"].get<bool>()) {
            row["error"] = "decoding forwards per rollout differ from num_blocks x steps_per_block";
            failed = true;
          }
        }
        std::error_code ec;
        fs::remove_all(run_dir, ec);  // llada-100m checkpoints are ~1.3 GB
        std::fprintf(stderr, "%s\n", row.dump().c_str());
        out["rows"].push_back(row);
      }
      json sc = json::object();
      for (const auto& [ranks, sps] : steps_per_s)
        if (ranks != 1 && steps_per_s.count(1) != 0) sc[std::to_string(ranks) + "_ranks"] = sps / steps_per_s[1];
      out["scaling"][preset][mode] = sc;
    }
  }
  out["loadavg_end"] = loadavg();
  out["cpu_busy_before_max"] = max_busy;
  if (max_busy > 0.2)
    out["warning"] = "other processes kept up to " + std::to_string(static_cast<int>(100 * max_busy)) +
                     "% of the CPUs busy just before a run (cpu_busy_before): the timings reflect that load; rerun "
                     "on an idle machine for figures to compare";
  std::error_code ec;
  fs::remove_all(dir, ec);
  std::printf("%s\n", out.dump(2).c_str());
  return failed ? 1 : 0;
}
