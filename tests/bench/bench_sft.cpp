// Benchmark (label bench): `mdrl sft` throughput on CPU for the "tiny" and "llada-100m" presets with
// 1 and 2 MPI ranks at the same global batch (strong scaling: train.batch_size = global batch /
// ranks, grad_accum 1, so every optimizer step does the same work whatever the rank count). The
// data are generated 4x4 Sudoku puzzles (bare prompts, answer-only responses) padded to
// max_length 128, so every step processes global batch x 128 tokens. Each run goes through the real
// executable (`$MPIEXEC -np R --oversubscribe --bind-to none $MDRL_EXE sft ...`) in a temporary
// run.dir; the figures come from its metrics.jsonl (ms_per_step and tokens_per_s of each optimizer
// step; evaluation rows skipped), as medians over the steps after a warm-up. Start-up (model
// initialisation, data generation), the evaluation at the end of the run, the final checkpoint and
// the final/ export are outside the step timings; "wall_s" is the whole run.
//
// On one machine the cores are fixed: 1 rank uses all of them through LibTorch intra-op threads,
// 2 ranks split them (dist.threads = 0 divides the affinity mask among the ranks on the node), so
// "efficiency" = tokens/s with R ranks / tokens/s with 1 rank is ~1 when data parallelism
// (the gradient all-reduce, the smaller per-rank matrices) costs nothing against intra-op
// parallelism, and > 1 when ranks use the cores better than threads do. The threads each rank used
// are read from `mdrl info` with the same [dist] options. For the presets in
// MDRL_BENCH_SINGLE_THREAD (default tiny) a third run, 1 rank on 1 thread, gives the per-core
// efficiencies "R_ranks_per_core" = tokens/s / (threads used x single-thread tokens/s). Intra-op
// threads suffer most when other processes load the machine (spinning OpenMP barriers wait for
// descheduled threads), so every row records "cpu_busy_before" (share of the CPUs that other
// processes kept busy in the second before the run, from /proc/stat) and the object carries a
// "warning" when it exceeded 20%: compare figures from idle machines only.
//
// Environment: MDRL_EXE (the mdrl executable; required), MPIEXEC (default mpirun),
// MDRL_BENCH_PRESETS (comma-separated subset of tiny,llada-100m), MDRL_BENCH_RANKS (default 1,2),
// MDRL_BENCH_STEPS / MDRL_BENCH_BATCH / MDRL_BENCH_WARMUP (optimizer steps per run, global batch,
// steps skipped before the medians: one number for every preset or "tiny=60,llada-100m=8"),
// MDRL_BENCH_THREADS (dist.threads, default 0 = automatic), MDRL_BENCH_SFT_ARGS (extra
// --section.key=value options), MDRL_BENCH_SINGLE_THREAD (presets that get the 1-rank 1-thread
// baseline; "none" for none), MDRL_BENCH_DIR (where the temporary run directories go; default the
// system temp folder). Defaults: tiny 60 steps of 16 sequences, llada-100m 8 steps of 2 sequences
// (MDRL_BENCH_BATCH=llada-100m=4 puts 2 per rank but takes about twice as long); 2-5 minutes on a
// 2-core machine. Progress on stderr, one JSON object on stdout; exit 1 when a run failed (its row
// then carries "error").
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <stdexcept>
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
constexpr int64_t kMaxLength = 128;

// Threads per rank and where they came from, from `mdrl info` run with the same layout and options.
json thread_info(const std::string& launcher, const std::string& dist_args) {
  const auto r = run_command(launcher + " info " + dist_args);
  json info = {{"threads_per_rank", json::array()}, {"threads_from", ""}};
  if (r.status != 0) {
    info["threads_error"] = tail(r.output, 1000);
    return info;
  }
  // " rank  host  node  local/size  device  threads  affinity  threads from"
  static const std::regex row(R"(^\s*(\d+)\s+\S+\s+\d+\s+\d+/\d+\s+\S+\s+(\d+)\s+(\S+)\s+(.*)$)");
  std::stringstream in(r.output);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_match(line, m, row)) {
      info["threads_per_rank"].push_back(std::stoi(m[2]));
      info["affinity"] = m[3];
      info["threads_from"] = m[4];
    }
  }
  return info;
}

}  // namespace

int main() {
  const char* exe_env = std::getenv("MDRL_EXE");
  if (exe_env == nullptr || *exe_env == '\0') {
    std::fprintf(stderr, "bench_sft: MDRL_EXE is not set; run it through ctest or set MDRL_EXE=<path to mdrl>\n");
    return 2;
  }
  const std::string exe = exe_env;
  const std::string mpiexec = env_or("MPIEXEC", "mpirun");
  // Open MPI refuses root without these (CI containers); ctest sets them too.
  if (geteuid() == 0) {
    setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 0);
    setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 0);
  }
  const std::string only = env_or("MDRL_BENCH_PRESETS", "");
  std::vector<int> ranks_list;
  for (const auto& r : split(env_or("MDRL_BENCH_RANKS", "1,2"), ',')) ranks_list.push_back(std::stoi(r));
  const std::string threads = env_or("MDRL_BENCH_THREADS", "0");
  const std::string extra = env_or("MDRL_BENCH_SFT_ARGS", "");
  const std::string single_thread = env_or("MDRL_BENCH_SINGLE_THREAD", "tiny");
  const fs::path base = env_or("MDRL_BENCH_DIR", fs::temp_directory_path().string());

  std::string tmpl = (base / "bench_sft-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) {
    std::fprintf(stderr, "bench_sft: cannot create a directory under %s\n", base.c_str());
    return 2;
  }
  const fs::path dir = fs::absolute(tmpl);

  json out;
  out["benchmark"] = "sft";
  out["mdrl"] = first_line(run_command(quote(exe) + " --version").output);
  out["cpus"] = std::thread::hardware_concurrency();
  out["omp_num_threads_env"] = env_or("OMP_NUM_THREADS", "");
  out["loadavg_start"] = loadavg();
  out["setup"] = {
      {"task", "sudoku"},         {"generated_count", 2000}, {"prompt_style", "bare"}, {"response_style", "answer"},
      {"max_length", kMaxLength}, {"padding", "max_length"}, {"grad_accum", 1},        {"dist.threads", threads},
      {"extra_args", extra}};
  out["note"] =
      "strong scaling at a fixed global batch on one machine: 1 rank uses all cores through intra-op "
      "threads, R ranks split them (see threads_per_rank), so efficiency = tokens/s(R ranks) / tokens/s(1 "
      "rank) ~ 1 means data parallelism costs nothing against intra-op threading. Medians over the steps "
      "after the warm-up. R_ranks_per_core = tokens/s / (threads used x tokens/s of 1 rank on 1 thread). "
      "Threads degrade most on a loaded machine: see cpu_busy_before. Start-up, the end-of-run evaluation, "
      "the final checkpoint and the final/ export are not in the step timings (wall_s includes them).";
  out["rows"] = json::array();
  out["efficiency"] = json::object();
  bool failed = false;
  double max_busy = 0;  // largest share of the CPUs that other processes used just before a run

  for (const std::string preset : {"tiny", "llada-100m"}) {
    if (!only.empty() && ("," + only + ",").find("," + preset + ",") == std::string::npos) continue;
    const bool tiny = preset == "tiny";
    const int64_t steps = per_preset("MDRL_BENCH_STEPS", preset, tiny ? 60 : 8);
    const int64_t global_batch = per_preset("MDRL_BENCH_BATCH", preset, tiny ? 16 : 2);
    const int64_t warmup = std::min<int64_t>(per_preset("MDRL_BENCH_WARMUP", preset, tiny ? 3 : 2), steps - 1);
    // (ranks, dist.threads) of each run: the rank counts at MDRL_BENCH_THREADS, then the
    // single-thread baseline.
    std::vector<std::pair<int, std::string>> configs;
    for (const int ranks : ranks_list) configs.emplace_back(ranks, threads);
    const bool want_baseline = ("," + single_thread + ",").find("," + preset + ",") != std::string::npos;
    if (want_baseline && threads != "1") configs.emplace_back(1, "1");
    std::map<int, double> tokens_per_s;  // by rank count, at MDRL_BENCH_THREADS
    std::map<int, int> cores_used;       // threads summed over the ranks
    double single_thread_tps = 0;
    for (const auto& [ranks, run_threads] : configs) {
      const bool baseline = run_threads != threads;
      json row = {{"preset", preset},
                  {"ranks", ranks},
                  {"global_batch", global_batch},
                  {"steps", steps},
                  {"warmup_steps", warmup},
                  {"dist.threads", run_threads},
                  {"single_thread_baseline", baseline},
                  {"loadavg", loadavg()},
                  {"cpu_busy_before", cpu_busy(1.0)}};
      max_busy = std::max(max_busy, row["cpu_busy_before"].get<double>());
      if (ranks < 1 || global_batch % ranks != 0) {
        row["error"] =
            "global batch " + std::to_string(global_batch) + " is not divisible by " + std::to_string(ranks) + " ranks";
        out["rows"].push_back(row);
        failed = true;
        continue;
      }
      const int64_t per_rank = global_batch / ranks;
      row["batch_size_per_rank"] = per_rank;
      const std::string launcher =
          quote(mpiexec) + " -np " + std::to_string(ranks) + " --oversubscribe --bind-to none " + quote(exe);
      const std::string dist_args = "--dist.device=cpu --dist.threads=" + run_threads;
      row.update(thread_info(launcher, dist_args));

      const fs::path run_dir = dir / (preset + "-np" + std::to_string(ranks) + "-t" + run_threads);
      const std::string cmd =
          launcher + " sft " + dist_args + " --run.dir=" + quote(run_dir.string()) + " --model.preset=" + preset +
          " --sft.task=sudoku --tasks.generated_count=2000 --sft.prompt_style=bare --sft.response_style=answer" +
          " --sft.max_length=" + std::to_string(kMaxLength) + " --sft.padding=max_length" +
          // No held-out split: with train.eval_every = 0 the run still evaluates once at the end.
          " --sft.eval_fraction=0 --sft.eval_decode=0 --train.eval_every=0 --checkpoint.every=0" +
          " --train.lr=1e-4 --train.batch_size=" + std::to_string(per_rank) +
          " --train.grad_accum=1 --train.max_steps=" + std::to_string(steps) +
          " --train.log_every=" + std::to_string(std::max<int64_t>(1, steps / 4)) + " " + extra;
      std::fprintf(stderr, "bench_sft: %s, %d rank(s), dist.threads %s, %ld x %ld sequences, %ld steps ...\n",
                   preset.c_str(), ranks, run_threads.c_str(), static_cast<long>(per_rank), static_cast<long>(ranks),
                   static_cast<long>(steps));
      const auto t0 = std::chrono::steady_clock::now();
      const auto r = run_command(cmd);
      row["wall_s"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

      std::vector<double> ms, tps;
      double tokens_sum = 0, ms_sum = 0, last_loss = 0;
      int64_t tokens_per_step = 0, rows_read = 0;
      std::ifstream metrics(run_dir / "metrics.jsonl");
      for (std::string line; std::getline(metrics, line);) {
        if (line.empty()) continue;
        const json m = json::parse(line, nullptr, /*allow_exceptions=*/false);
        if (m.is_discarded() || m.contains("eval_loss") || !m.contains("ms_per_step")) continue;
        ++rows_read;
        last_loss = m.value("loss", 0.0);
        tokens_per_step = m.value("tokens", int64_t{0});
        if (m.value("step", int64_t{0}) <= warmup) continue;
        ms.push_back(m.value("ms_per_step", 0.0));
        tps.push_back(m.value("tokens_per_s", 0.0));
        tokens_sum += m.value("tokens", 0.0);
        ms_sum += m.value("ms_per_step", 0.0);
      }
      if (r.status != 0 || rows_read != steps || ms.empty()) {
        row["error"] = "exit status " + std::to_string(r.status) + ", " + std::to_string(rows_read) +
                       " step rows in metrics.jsonl: " + tail(r.output, 2000);
        failed = true;
      } else {
        const double ms_median = median(ms);
        row["measured_steps"] = ms.size();
        row["tokens_per_step"] = tokens_per_step;
        row["ms_per_step_median"] = ms_median;
        row["ms_per_step_min"] = *std::min_element(ms.begin(), ms.end());
        row["ms_per_step_max"] = *std::max_element(ms.begin(), ms.end());
        row["steps_per_s"] = 1000.0 / ms_median;
        row["tokens_per_s_median"] = median(tps);
        row["tokens_per_s_mean"] = 1000.0 * tokens_sum / ms_sum;  // all measured tokens / their time
        row["final_loss"] = last_loss;
        if (baseline) {
          single_thread_tps = median(tps);
        } else {
          tokens_per_s[ranks] = median(tps);
          int cores = 0;
          for (const auto& t : row["threads_per_rank"]) cores += t.get<int>();
          cores_used[ranks] = cores;
        }
      }
      std::error_code ec;
      fs::remove_all(run_dir, ec);  // llada-100m checkpoints are ~1.3 GB
      std::fprintf(stderr, "%s\n", row.dump().c_str());
      out["rows"].push_back(row);
    }
    // "R_ranks": tokens/s with R ranks / tokens/s with 1 rank (same cores); "R_ranks_per_core" (and
    // "1_ranks_per_core" for intra-op threads alone): tokens/s / (threads used x tokens/s of 1 rank
    // on 1 thread), the classic strong-scaling efficiency against one core.
    if (threads == "1" && tokens_per_s.count(1) != 0) single_thread_tps = tokens_per_s[1];
    json eff = json::object();
    for (const auto& [ranks, tps] : tokens_per_s) {
      if (ranks != 1 && tokens_per_s.count(1) != 0) eff[std::to_string(ranks) + "_ranks"] = tps / tokens_per_s[1];
      if (single_thread_tps > 0 && cores_used[ranks] > 0)
        eff[std::to_string(ranks) + "_ranks_per_core"] = tps / (cores_used[ranks] * single_thread_tps);
    }
    out["efficiency"][preset] = eff;
  }
  out["loadavg_end"] = loadavg();
  out["cpu_busy_before_max"] = max_busy;
  if (max_busy > 0.2)
    out["warning"] = "other processes kept up to " + std::to_string(static_cast<int>(100 * max_busy)) +
                     "% of the CPUs busy just before a run (cpu_busy_before): the timings, the intra-op threaded "
                     "ones most, reflect that load; rerun on an idle machine for figures to compare";
  std::error_code ec;
  fs::remove_all(dir, ec);
  std::printf("%s\n", out.dump(2).c_str());
  return failed ? 1 : 0;
}
