// A dead rank ends the job (issue 17): under `mpirun -np 2`, one rank SIGKILLed from outside, or
// failing by itself through the MDRL_FAULT hook (core/fault_injection.hpp: an exception that main
// reports, or std::abort), in every training and decoding mode. Each time, every rank and mpirun
// end within 10 s of the fault with a non-zero exit, and no checkpoint is damaged: the same command
// run again resumes from the newest complete checkpoint and reaches the end. `generate` prints
// nothing when a rank dies (its output is gathered first); `eval` leaves its setup unfinished (no
// done marker) and the same command finishes it.
//
// The modes are one table (kModes): every mode that trains or decodes is one line.
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>
#include <vector>

#include "process_support.hpp"

using namespace mdrl::test;
namespace fs = std::filesystem;
using Clock = std::chrono::system_clock;

namespace {

constexpr double kMaxSecondsToEnd = 10.0;

struct ModeCase {
  std::string mode;
  std::string args;   // "{dir}" stands for the test's temporary directory
  bool checkpoints;   // a training mode: checkpoints, and the rerun must resume from the newest
  std::string fault;  // the MDRL_FAULT point: "step:N" (training) or "batch:N" (decoding)
};

const std::string kRl =
    " --model.preset=tiny --rl.task=sudoku --rl.prompt_style=bare --tasks.generated_count=64"
    " --grpo.num_generations=2 --grpo.num_iterations=2 --train.batch_size=4 --train.grad_accum=2"
    " --train.lr=1e-3 --decode.gen_length=16 --decode.block_length=16 --decode.steps=8"
    " --train.max_steps=24 --checkpoint.every=2 --run.dir={dir}/run";

const std::vector<ModeCase> kModes = {
    {"sft",
     " --model.preset=tiny --sft.task=sudoku --sft.prompt_style=bare --sft.response_style=answer"
     " --tasks.generated_count=400 --sft.max_length=112 --sft.eval_fraction=0.05 --sft.eval_decode=8"
     " --decode.gen_length=40 --decode.block_length=40 --decode.steps=40 --train.batch_size=4"
     " --train.max_steps=30 --checkpoint.every=3 --run.dir={dir}/run",
     true, "step:6"},
    {"diffu-grpo", kRl, true, "step:6"},
    {"one-step-grpo", kRl, true, "step:6"},
    {"cj-grpo", kRl + " --decode.schedule=ass --decode.steps=4 --decode.block_num=1 --decode.eoser=true", true,
     "step:6"},
    {"generate",
     " --model.preset=tiny --generate.prompt_file={dir}/prompts.txt --generate.batch_size=1"
     " --decode.gen_length=16 --decode.block_length=16 --decode.steps=8",
     false, "batch:3"},
    {"eval",
     " --model.preset=tiny --tokenizer.path=builtin:byte_level --eval.source=generated --eval.prompt_style=bare"
     " --eval.tasks=sudoku --tasks.generated_count=200 --eval.subsample=200 --eval.strategies=semi-ar_lcr"
     " --eval.gen_lengths=16 --eval.steps=8 --eval.block_lengths=16 --decode.gen_length=16 --eval.batch_size=1"
     " --eval.out_dir={dir}/eval",
     false, "batch:3"},
};

std::string replace_dir(std::string s, const fs::path& dir) {
  for (size_t at; (at = s.find("{dir}")) != std::string::npos;) s.replace(at, 5, dir.string());
  return s;
}

std::string file_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

size_t count_of(const std::string& s, const std::string& part) {
  size_t n = 0;
  for (size_t at = s.find(part); at != std::string::npos; at = s.find(part, at + 1)) ++n;
  return n;
}

double seconds_since_epoch(Clock::time_point t) { return std::chrono::duration<double>(t.time_since_epoch()).count(); }

// "R" running, "Z" zombie, "" gone.
std::string proc_state(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string s;
  if (!std::getline(stat, s)) return "";
  const size_t close = s.rfind(')');
  return close == std::string::npos || close + 2 >= s.size() ? "" : s.substr(close + 2, 1);
}
bool alive(pid_t pid) {
  const auto st = proc_state(pid);
  return !st.empty() && st != "Z";
}

// The world rank of a process started by mpirun (from its environment), or -1.
int world_rank_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/environ", std::ios::binary);
  std::string var;
  while (std::getline(in, var, '\0'))
    if (var.rfind("OMPI_COMM_WORLD_RANK=", 0) == 0) return std::stoi(var.substr(21));
  return -1;
}

std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> out;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(e.path() / "stat");
    std::string s;
    std::getline(stat, s);
    const size_t close = s.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(s.substr(close + 2));
    char state;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == parent) out.push_back(static_cast<pid_t>(std::stoi(name)));
  }
  return out;
}

// One `mpirun -np 2 mdrl ...` in the background (its own process group), output to a file.
class Job {
 public:
  Job(const std::string& command, fs::path log) : log_(std::move(log)) {
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      setpgid(0, 0);
      const std::string sh = "ulimit -c 0; exec " + command + " > '" + log_.string() + "' 2>&1";
      execl("/bin/sh", "sh", "-c", sh.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
  }
  ~Job() {
    if (!done_) {  // a failed check left it running: end it, its ranks too
      for (const pid_t r : ranks_) kill(r, SIGKILL);
      kill(-pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  Job(const Job&) = delete;
  Job& operator=(const Job&) = delete;

  std::string output() const { return file_text(log_); }

  // Waits until mpirun has started both ranks; their pids by world rank.
  bool find_ranks(double timeout_s) {
    const auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s);
    while (Clock::now() < deadline && !exited()) {
      std::vector<pid_t> by_rank(2, 0);
      for (const pid_t c : children_of(pid_)) {
        const int r = world_rank_of(c);
        if (r == 0 || r == 1) by_rank[static_cast<size_t>(r)] = c;
      }
      if (by_rank[0] > 0 && by_rank[1] > 0) {
        ranks_ = by_rank;
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
  pid_t rank_pid(int r) const { return ranks_.at(static_cast<size_t>(r)); }

  // Waits for the ranks (found before) and mpirun to end; false if they do not within timeout_s.
  bool wait(double timeout_s) {
    const auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s);
    while (Clock::now() < deadline) {
      bool any = false;
      for (const pid_t r : ranks_) any = any || alive(r);
      if (!any && ranks_end_ == Clock::time_point{}) ranks_end_ = Clock::now();
      // mpirun gone and the ranks too; a rank still running after mpirun (orphaned, a moment
      // before its SIGKILL lands) is waited for: its end time counts, and at the deadline it fails.
      if (exited() && !any) {
        if (ranks_end_ == Clock::time_point{}) ranks_end_ = Clock::now();
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    for (const pid_t r : ranks_)
      if (alive(r)) std::fprintf(stderr, "rank pid %d still running (state '%s')\n", r, proc_state(r).c_str());
    return false;
  }
  int exit_code() const { return WIFEXITED(status_) ? WEXITSTATUS(status_) : 128 + WTERMSIG(status_); }
  Clock::time_point end() const { return end_; }              // mpirun reaped
  Clock::time_point ranks_end() const { return ranks_end_; }  // the last rank gone

 private:
  bool exited() {
    if (done_) return true;
    if (waitpid(pid_, &status_, WNOHANG) == pid_) {
      done_ = true;
      end_ = Clock::now();
    }
    return done_;
  }

  fs::path log_;
  pid_t pid_ = -1;
  int status_ = 0;
  bool done_ = false;
  std::vector<pid_t> ranks_;
  Clock::time_point end_{}, ranks_end_{};
};

std::string mpirun2(const ModeCase& m, const fs::path& dir, const std::string& fault, const std::string& log_level) {
  std::string env, x;
  if (!fault.empty()) {
    env = "env MDRL_FAULT=" + fault + " ";
    x = " -x MDRL_FAULT";
  }
  return env + env_or_throw("MPIEXEC") + x + " -np 2 --oversubscribe --bind-to none " + env_or_throw("MDRL_EXE") + " " +
         m.mode + replace_dir(m.args, dir) + " --log.level=" + log_level;
}

// The step of the newest complete checkpoint in <run>/checkpoints (step_<N>.h5), or -1.
int newest_checkpoint(const fs::path& run) {
  int best = -1;
  std::error_code ec;
  const std::regex name("step_(\\d+)\\.h5");
  for (const auto& e : fs::directory_iterator(run / "checkpoints", ec)) {
    std::smatch m;
    const std::string f = e.path().filename().string();
    if (std::regex_match(f, m, name)) best = std::max(best, std::stoi(m[1]));
  }
  return best;
}
size_t checkpoint_count(const fs::path& run) {
  size_t n = 0;
  std::error_code ec;
  const std::regex name("step_(\\d+)\\.h5");
  for (const auto& e : fs::directory_iterator(run / "checkpoints", ec))
    n += std::regex_match(e.path().filename().string(), name) ? 1 : 0;
  return n;
}

// After the dead rank: the same command resumes from the newest complete checkpoint and ends.
void rerun_resumes(const ModeCase& m, const fs::path& dir, const std::string& what) {
  const int newest = newest_checkpoint(dir / "run");
  BOOST_REQUIRE_MESSAGE(newest > 0, m.mode << " " << what << ": no checkpoint was written before the fault");
  BOOST_REQUIRE_MESSAGE(!fs::exists(dir / "run" / "final"), m.mode << " " << what << ": the run had already ended");
  const auto r = run_command(mpirun2(m, dir, "", "info"));
  BOOST_TEST_REQUIRE(r.status == 0, m.mode << " " << what << ", rerun:\n" << r.output);
  const std::string resumed = "resumed from " + (dir / "run" / "checkpoints").string() + "/step_" +
                              std::to_string(newest) + ".h5 at step " + std::to_string(newest);
  BOOST_TEST(r.output.find(resumed) != std::string::npos, m.mode << " " << what << ": '" << resumed << "' in\n" << r.output);
  BOOST_TEST(fs::exists(dir / "run" / "final" / "model.safetensors"), m.mode << " " << what);
}

// The job ended in time, non-zero, leaving no rank behind; the figure goes to the log.
void check_ended(Job& job, const ModeCase& m, const std::string& what, double fault_time) {
  const bool ended = job.wait(60);
  BOOST_REQUIRE_MESSAGE(ended, m.mode << " " << what << ": the job did not end within 60 s\n" << job.output());
  const double ranks_s = seconds_since_epoch(job.ranks_end()) - fault_time;
  const double mpirun_s = seconds_since_epoch(job.end()) - fault_time;
  BOOST_TEST_MESSAGE(m.mode << " " << what << ": ranks ended " << ranks_s << " s, mpirun " << mpirun_s
                            << " s after the fault, exit " << job.exit_code());
  BOOST_TEST(job.exit_code() != 0, m.mode << " " << what << "\n" << job.output());
  BOOST_TEST(ranks_s < kMaxSecondsToEnd, m.mode << " " << what << ": ranks ended " << ranks_s << " s after the fault");
  BOOST_TEST(mpirun_s < kMaxSecondsToEnd, m.mode << " " << what << ": mpirun ended " << mpirun_s << " s after the fault");
  if (!m.checkpoints)  // generate prints only after every rank's share is gathered: nothing half-done
    BOOST_TEST(job.output().find("=== 0:") == std::string::npos, m.mode << " " << what << "\n" << job.output());
}

// eval: the killed run left its setup unfinished (no done marker), and the same command finishes it.
void eval_rerun_completes(const ModeCase& m, const fs::path& dir, const std::string& what) {
  const fs::path out = dir / "eval";
  BOOST_TEST(!fs::exists(out / "done" / "sudoku_semi-ar_lcr_16_8_b16.json"), what << ": a killed setup counted as done");
  const auto r = run_command(mpirun2(m, dir, "", "warn"));
  BOOST_TEST_REQUIRE(r.status == 0, "eval " << what << ", rerun:\n" << r.output);
  BOOST_TEST(file_text(out / "results.json").find("\"complete\": true") != std::string::npos, what);
  BOOST_TEST(fs::exists(out / "done" / "sudoku_semi-ar_lcr_16_8_b16.json"), what);
}

void prepare(const fs::path& dir) {
  std::ofstream prompts(dir / "prompts.txt");
  for (int i = 0; i < 2000; ++i) prompts << "prompt " << i << "\n";
}

// The fault hook's own time stamp ("unix time T") in the job's output, or -1.
double fault_time_in(const std::string& out) {
  std::smatch m;
  if (!std::regex_search(out, m, std::regex("MDRL_FAULT: \\w+ on rank \\d+ at \\w+ \\d+ \\(unix time ([0-9.]+)\\)")))
    return -1;
  return std::stod(m[1]);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(dead_rank)

// Rank 1 SIGKILLed from outside, mid-run (after two checkpoints, or a few decoded batches).
BOOST_AUTO_TEST_CASE(sigkill_of_one_rank_ends_the_job) {
  unsetenv("MDRL_FAULT");
  for (const auto& m : kModes) {
    TempDir dir;
    prepare(dir.path());
    Job job(mpirun2(m, dir.path(), "", m.checkpoints ? "warn" : "debug"), dir.path() / "job.log");
    BOOST_REQUIRE_MESSAGE(job.find_ranks(60), m.mode << ": the ranks did not start\n" << job.output());
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    auto far_enough = [&] {
      return m.checkpoints ? checkpoint_count(dir.path() / "run") >= 2
                           : count_of(job.output(), "decoded a batch") >= 2;  // rank 0's debug lines
    };
    while (!far_enough() && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    BOOST_REQUIRE_MESSAGE(far_enough(), m.mode << ": not far enough within 60 s\n" << job.output());
    const double t = seconds_since_epoch(Clock::now());
    BOOST_REQUIRE_EQUAL(kill(job.rank_pid(1), SIGKILL), 0);
    check_ended(job, m, "SIGKILL of rank 1", t);
    if (m.checkpoints) rerun_resumes(m, dir.path(), "SIGKILL of rank 1");
    if (m.mode == "eval") eval_rerun_completes(m, dir.path(), "SIGKILL of rank 1");
  }
}

// Rank 0 throws (main's error path: report_failure, then MPI_Abort) and rank 1 aborts (SIGABRT).
BOOST_AUTO_TEST_CASE(a_rank_that_throws_or_aborts_ends_the_job) {
  unsetenv("MDRL_FAULT");
  for (const auto& m : kModes) {
    for (const std::string fault : {"rank:0,kind:throw", "rank:1,kind:abort"}) {
      TempDir dir;
      prepare(dir.path());
      const std::string spec = fault + "," + m.fault;
      Job job(mpirun2(m, dir.path(), spec, "warn"), dir.path() / "job.log");
      BOOST_REQUIRE_MESSAGE(job.find_ranks(60), m.mode << ": the ranks did not start\n" << job.output());
      BOOST_REQUIRE_MESSAGE(job.wait(60), m.mode << " " << spec << ": the job did not end within 60 s\n" << job.output());
      const double t = fault_time_in(job.output());
      BOOST_REQUIRE_MESSAGE(t > 0, m.mode << " " << spec << ": the fault did not fire\n" << job.output());
      check_ended(job, m, "MDRL_FAULT=" + spec, t);
      if (spec.find("throw") != std::string::npos)  // main names the error and the rank
        BOOST_TEST(job.output().find("r0] unexpected error: fault injected by MDRL_FAULT on rank 0") != std::string::npos,
                   job.output());
      if (m.checkpoints && spec.find("throw") != std::string::npos) rerun_resumes(m, dir.path(), "MDRL_FAULT=" + spec);
      if (m.mode == "eval" && spec.find("throw") != std::string::npos) eval_rerun_completes(m, dir.path(), spec);
    }
  }
}

// A malformed MDRL_FAULT is a configuration error naming the variable (exit 2), not a silent no-op.
BOOST_AUTO_TEST_CASE(malformed_mdrl_fault_is_named) {
  TempDir dir;
  prepare(dir.path());
  const auto generate = std::find_if(kModes.begin(), kModes.end(), [](const ModeCase& m) { return m.mode == "generate"; });
  BOOST_REQUIRE(generate != kModes.end());
  const auto r = run_command("env MDRL_FAULT=rank:1,kind:explode,step:2 " + env_or_throw("MDRL_EXE") + " generate" +
                             replace_dir(generate->args, dir.path()) + " --log.level=warn");
  BOOST_TEST(r.status == 2, r.output);
  BOOST_TEST(r.output.find("MDRL_FAULT") != std::string::npos, r.output);
  BOOST_TEST(r.output.find("explode") != std::string::npos, r.output);
}

BOOST_AUTO_TEST_SUITE_END()
