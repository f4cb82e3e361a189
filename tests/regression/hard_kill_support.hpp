// Hard-kill trials (issue 17 "Hard kills"), shared by tests/regression/test_hard_kill.cpp (a few
// trials per mode) and tests/bench/bench_hard_kill.cpp (many, JSON summary). A trial starts
// `mpirun -np 2 mdrl <mode>` on the tiny preset with frequent checkpoints, SIGKILLs both ranks at a
// random moment of the run (no checkpoint, no cleanup: as a node failure or a walltime kill), then
// runs the same command again. The rerun must resume from the newest complete checkpoint the
// killed run left (or start afresh when it left none) and end with the uninterrupted run's final
// weights (bytes), metrics rows (timing fields aside) and, for the RL modes, trajectory history
// (tools/mdrl_trajectories.py --dump: every column of the joined segments).
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "process_support.hpp"

namespace mdrl::test::hard_kill {

namespace fs = std::filesystem;

// One mode under test. To add one (cj-grpo), append it to modes().
struct Mode {
  std::string name;  // the mdrl mode
  std::string args;  // its settings: tiny preset, short run, frequent checkpoints
  bool trajectories = false;
};

// RL: 2 groups of 2 per micro-batch, mu = 2, checkpoints every 3 steps (so some fall in the middle
// of a rollout's mu-cycle and the rollout buffer is restored), trajectories written every step.
inline const std::string kRl =
    " --model.preset=tiny --rl.task=sudoku --rl.prompt_style=bare --tasks.generated_count=64"
    " --grpo.num_generations=2 --grpo.num_iterations=2 --train.batch_size=4 --train.grad_accum=2"
    " --train.lr=1e-3 --decode.gen_length=16 --decode.block_length=16 --decode.steps=8"
    " --train.max_steps=24 --checkpoint.every=3 --checkpoint.keep_last=2 --trajectory.flush_every=1";

inline std::vector<Mode> modes() {
  return {
      {"sft",
       " --model.preset=tiny --sft.task=sudoku --sft.prompt_style=bare --sft.response_style=answer"
       " --tasks.generated_count=64 --sft.max_length=128 --sft.eval_fraction=0 --train.lr=3e-3"
       " --train.batch_size=4 --train.grad_accum=2 --train.max_steps=24 --train.eval_every=0 --lora.rank=0"
       " --checkpoint.every=2 --checkpoint.keep_last=2",
       false},
      {"one-step-grpo", kRl, true},
      {"diffu-grpo", kRl, true},
      // CJ-GRPO with EOSER+ASS rollouts: 16 tokens in log2(16) = 4 steps, one backward per step.
      {"cj-grpo", kRl + " --decode.schedule=ass --decode.steps=4 --decode.block_num=1 --decode.eoser=true", true},
  };
}

inline std::string command(const Mode& m, const fs::path& run) {
  return env_or_throw("MPIEXEC") + " -np 2 --oversubscribe --bind-to none " + env_or_throw("MDRL_EXE") + " " + m.name +
         m.args + " --run.dir=" + run.string() + " --log.level=info";
}

inline std::string file_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// metrics.jsonl rows without the timing fields.
inline std::vector<nlohmann::json> metric_rows(const fs::path& run) {
  std::vector<nlohmann::json> rows;
  std::ifstream in(run / "metrics.jsonl");
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded()) continue;
    for (const char* k : {"rollout_s", "logp_s", "train_s", "tokens_per_s", "ms_per_step", "eta_s", "time"}) j.erase(k);
    rows.push_back(std::move(j));
  }
  return rows;
}

// The run's trajectory history as text; "" without a trajectories/ folder.
inline std::string trajectory_dump(const fs::path& run) {
  if (!fs::exists(run / "trajectories")) return "";
  const auto r = run_command("'" + env_or_throw("MDRL_PYTHON") + "' '" + env_or_throw("MDRL_SOURCE_DIR") +
                             "/tools/mdrl_trajectories.py' '" + (run / "trajectories").string() + "' --dump");
  return r.status == 0 ? r.output : "ERROR " + r.output;
}

// What an uninterrupted run ends with.
struct Reference {
  std::string weights, trajectories;
  std::vector<nlohmann::json> metrics;
  double seconds = 0;  // its wall time (the window kills are drawn from)
};

inline Reference reference(const Mode& m, const fs::path& run) {
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = run_command(command(m, run));
  Reference ref;
  ref.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (r.status != 0) throw std::runtime_error(m.name + ": the uninterrupted run failed:\n" + r.output);
  ref.weights = file_bytes(run / "final" / "model.safetensors");
  ref.metrics = metric_rows(run);
  ref.trajectories = m.trajectories ? trajectory_dump(run) : "";
  if (ref.weights.empty() || ref.metrics.empty() || (m.trajectories && ref.trajectories.empty()))
    throw std::runtime_error(m.name + ": the uninterrupted run left no weights, metrics or trajectories");
  return ref;
}

inline std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(e.path() / "stat");
    std::string s;
    std::getline(stat, s);
    const size_t close = s.rfind(')');
    if (close == std::string::npos || close + 2 >= s.size()) continue;
    std::istringstream rest(s.substr(close + 2));
    char state = 0;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == parent && state != 'Z') out.push_back(static_cast<pid_t>(std::stoi(name)));
  }
  return out;
}

// Complete checkpoints (step_<N>.h5, no temporaries) of a run directory; -1 when none.
inline int64_t newest_checkpoint(const fs::path& run) {
  int64_t newest = -1;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(run / "checkpoints", ec)) {
    const std::string n = e.path().filename().string();
    if (n.rfind("step_", 0) != 0 || !n.ends_with(".h5")) continue;
    const std::string digits = n.substr(5, n.size() - 8);
    if (!digits.empty() && digits.find_first_not_of("0123456789") == std::string::npos)
      newest = std::max<int64_t>(newest, std::stoll(digits));
  }
  return newest;
}

inline int64_t count_files(const fs::path& dir, const std::string& suffix) {
  int64_t n = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) n += e.path().string().ends_with(suffix) ? 1 : 0;
  return n;
}

struct Trial {
  double kill_after_s = 0;                                // from the start of mpirun
  int64_t killed_at_step = -1;                            // the last step row the killed run had written
  int64_t checkpoint = -1;                                // the newest complete checkpoint it left (-1: none)
  int64_t partial_checkpoints = 0, partial_segments = 0;  // *.tmp it left
  int64_t resumed_step = -1;                              // what the rerun reported (-1: started afresh)
  bool killed = false;                                    // both ranks were alive and got SIGKILL
  bool resumed_right = false, weights_equal = false, metrics_equal = false, trajectories_equal = false;
  std::string problem;  // the first thing that went wrong, with output
  bool ok() const { return killed && resumed_right && weights_equal && metrics_equal && trajectories_equal; }
  nlohmann::json to_json() const {
    return {{"kill_after_s", kill_after_s},
            {"killed_at_step", killed_at_step},
            {"checkpoint", checkpoint},
            {"partial_checkpoints", partial_checkpoints},
            {"partial_segments", partial_segments},
            {"resumed_step", resumed_step},
            {"ok", ok()},
            {"problem", problem}};
  }
};

inline int64_t last_step(const fs::path& run) {
  int64_t step = -1;
  for (const auto& row : metric_rows(run))
    if (row.contains("step") && row.contains("loss")) step = std::max<int64_t>(step, row["step"].get<int64_t>());
  return step;
}

// One trial in `run` (a fresh directory): the kill comes `delay_s` after the start; when the run
// had ended by then (or its ranks had not started), the trial is tried again earlier/later.
inline Trial run_trial(const Mode& m, const Reference& ref, const fs::path& run, std::mt19937_64& rng) {
  Trial t;
  std::uniform_real_distribution<double> when(0.1 * ref.seconds, 0.95 * ref.seconds);
  for (int attempt = 0; attempt < 5 && !t.killed; ++attempt) {
    std::error_code ec;
    fs::remove_all(run, ec);
    fs::create_directories(run);
    t.kill_after_s = when(rng);
    const auto t0 = std::chrono::steady_clock::now();
    // The shell's pid first, then mpirun in its place, so the ranks are its children.
    FILE* pipe = popen(
        ("sh -c 'echo $$; exec " + command(m, run) + " > " + (run / "killed.log").string() + " 2>&1'").c_str(), "r");
    if (pipe == nullptr) throw std::runtime_error("popen failed");
    pid_t mpirun = 0;
    if (fscanf(pipe, "%d", &mpirun) != 1) throw std::runtime_error("no pid from the shell");
    std::this_thread::sleep_until(t0 + std::chrono::duration<double>(t.kill_after_s));
    // Both ranks at once (waiting a little for them when mpirun has not started them yet).
    std::vector<pid_t> ranks = children_of(mpirun);
    for (int i = 0; i < 200 && ranks.size() < 2 && kill(mpirun, 0) == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      ranks = children_of(mpirun);
    }
    if (ranks.size() == 2) {
      t.killed = kill(ranks[0], SIGKILL) == 0;
      t.killed = kill(ranks[1], SIGKILL) == 0 && t.killed;
    }
    std::string rest;
    char buf[4096];
    while (fgets(buf, sizeof buf, pipe) != nullptr) rest += buf;
    const int status = pclose(pipe);
    if (t.killed && WIFEXITED(status) && WEXITSTATUS(status) == 0) t.killed = false;  // it had finished
    if (!t.killed && fs::exists(run / "final"))
      when = std::uniform_real_distribution<double>(0.05 * ref.seconds, t.kill_after_s);
  }
  if (!t.killed) {
    t.problem = "could not kill the run mid-way in 5 attempts";
    return t;
  }
  t.killed_at_step = last_step(run);
  t.checkpoint = newest_checkpoint(run);
  t.partial_checkpoints = count_files(run / "checkpoints", ".tmp");
  t.partial_segments = count_files(run / "trajectories", ".tmp");
  const auto r = run_command(command(m, run));
  if (r.status != 0) {
    t.problem = "the rerun failed (exit " + std::to_string(r.status) + "):\n" + r.output;
    return t;
  }
  const size_t at = r.output.find("resumed from ");
  if (at != std::string::npos) {
    const size_t s = r.output.find(" at step ", at);
    if (s != std::string::npos) t.resumed_step = std::stoll(r.output.substr(s + 9));
  }
  t.resumed_right = t.resumed_step == t.checkpoint;
  if (!t.resumed_right)
    t.problem = "newest complete checkpoint " + std::to_string(t.checkpoint) + ", the rerun resumed at " +
                std::to_string(t.resumed_step) + ":\n" + r.output;
  t.weights_equal = file_bytes(run / "final" / "model.safetensors") == ref.weights;
  t.metrics_equal = metric_rows(run) == ref.metrics;
  t.trajectories_equal = !m.trajectories || trajectory_dump(run) == ref.trajectories;
  if (t.problem.empty() && !(t.weights_equal && t.metrics_equal && t.trajectories_equal))
    t.problem = std::string("differs from the uninterrupted run:") + (t.weights_equal ? "" : " weights") +
                (t.metrics_equal ? "" : " metrics") + (t.trajectories_equal ? "" : " trajectories");
  return t;
}

}  // namespace mdrl::test::hard_kill
