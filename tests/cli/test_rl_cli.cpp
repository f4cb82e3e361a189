// `mdrl diffu-grpo` / `mdrl one-step-grpo` / `mdrl cj-grpo` from the command line under `mpirun -np 2`: a short run
// on the tiny preset writes metrics, trajectories and final weights; a run stopped in the middle of
// a mu-cycle (STOP file) and rerun equals an uninterrupted run (weights bytes, metrics rows,
// trajectory contents); bad settings exit 2 naming the option and the valid values.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "test_support.hpp"

using namespace mdrl::test;
namespace fs = std::filesystem;

namespace {
bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// A tiny random-init model on generated Sudoku: 2 groups of 2 per micro-batch, mu = 2.
const std::string kTiny =
    " --model.preset=tiny --rl.task=sudoku --rl.prompt_style=bare --tasks.generated_count=64"
    " --grpo.num_generations=2 --grpo.num_iterations=2 --train.batch_size=4 --train.grad_accum=2"
    " --train.lr=1e-3 --decode.gen_length=16 --decode.block_length=16 --decode.steps=8 --log.level=warn";

CommandResult mpirun2(const std::string& args) {
  return run_command(env_or_throw("MPIEXEC") + " -np 2 --oversubscribe --bind-to none " + env_or_throw("MDRL_EXE") +
                     " " + args);
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// metrics.jsonl rows without the timing fields (which differ from run to run).
std::vector<nlohmann::json> metric_rows(const fs::path& run) {
  std::vector<nlohmann::json> rows;
  std::ifstream in(run / "metrics.jsonl");
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    for (const char* k : {"rollout_s", "logp_s", "train_s", "tokens_per_s", "ms_per_step", "eta_s", "time"}) j.erase(k);
    rows.push_back(j);
  }
  return rows;
}

// Every column of the run's trajectory history (its segments joined in step order, which depend on
// where checkpoints fell), as text: tools/mdrl_trajectories.py (h5py) through the project's Python.
std::string trajectory_dump(const fs::path& run) {
  const auto r = run_command("'" + env_or_throw("MDRL_PYTHON") + "' '" + env_or_throw("MDRL_SOURCE_DIR") +
                             "/tools/mdrl_trajectories.py' '" + (run / "trajectories").string() + "' --dump");
  BOOST_REQUIRE_MESSAGE(r.status == 0, r.output);
  return r.output;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(rl_cli)

BOOST_AUTO_TEST_CASE(diffu_grpo_runs_on_two_ranks) {
  TempDir dir;
  const auto run = dir.path() / "run";
  const auto r = mpirun2("diffu-grpo --run.dir=" + run.string() + " --train.max_steps=4" + kTiny);
  BOOST_REQUIRE_MESSAGE(r.status == 0, r.output);
  const auto rows = metric_rows(run);
  BOOST_REQUIRE_EQUAL(rows.size(), 4u);
  for (const auto& row : rows)
    for (const char* k : {"reward", "rewards/sudoku", "reward_std", "zero_std_ratio", "kl", "clip_ratio", "loss", "lr",
                          "grad_norm", "completion_length", "eos_share"})
      BOOST_TEST(row.contains(k), k << " in " << row.dump());
  BOOST_TEST(rows[0]["rollout_reuse"] == 0);
  BOOST_TEST(rows[1]["rollout_reuse"] == 1);
  BOOST_TEST(rows[1]["reward"] == rows[0]["reward"]);  // the same rollout, used twice
  BOOST_TEST(rows[0]["clip_ratio"] == 0.0);            // first iteration: ratio exactly 1
  BOOST_TEST(fs::exists(run / "final" / "model.safetensors"));
  BOOST_TEST(!trajectory_dump(run).empty());
}

// CJ-GRPO with EOSER+ASS rollouts on the tiny settings: 16 tokens in log2(16) = 4 steps.
const std::string kCjAss = " --decode.schedule=ass --decode.steps=4 --decode.block_num=1 --decode.eoser=true";

BOOST_AUTO_TEST_CASE(cj_grpo_runs_on_two_ranks_and_counts_its_forwards) {
  // Forwards per optimizer step (spec §2.3): rollout S per decode call, old 0 (dropout-free
  // rollouts: taken from the rollout), ref S (beta > 0, a frozen copy: full fine-tuning), train S.
  TempDir dir;
  const auto run = dir.path() / "run";
  const auto r = mpirun2("cj-grpo --run.dir=" + run.string() + " --train.max_steps=4 --grpo.beta=0.04" + kTiny + kCjAss);
  BOOST_REQUIRE_MESSAGE(r.status == 0, r.output);
  const auto rows = metric_rows(run);
  BOOST_REQUIRE_EQUAL(rows.size(), 4u);
  const int S = 4, GA = 2;
  for (const auto& row : rows) {
    const bool fresh = row["rollout_reuse"] == 0;
    BOOST_TEST(row["forwards_rollout"].get<double>() == (fresh ? GA * S : 0), row.dump());
    BOOST_TEST(row["forwards_logp"].get<double>() == (fresh ? GA * S : 0), row.dump());  // ref only
    BOOST_TEST(row["forwards_train"].get<double>() == GA * S, row.dump());
    BOOST_TEST(row["empty_steps"].get<double>() == 0.0);
    BOOST_TEST(std::isfinite(row["loss"].get<double>()));
  }
  BOOST_TEST(rows[0]["clip_ratio"] == 0.0);  // first iteration: ratio exactly 1 (old from the rollout)
  BOOST_TEST(rows[3]["kl"].get<double>() > 0.0);  // lr is 0 at step 1 (warmup), so from step 3 on
  BOOST_TEST(fs::exists(run / "final" / "model.safetensors"));
  // grpo.cj_old_logp = recompute: S more no-grad forwards per rollout, the same first-step loss.
  const auto run2 = dir.path() / "recompute";
  const auto r2 = mpirun2("cj-grpo --run.dir=" + run2.string() + " --train.max_steps=1 --grpo.beta=0.04" + kTiny + kCjAss +
                          " --grpo.cj_old_logp=recompute");
  BOOST_REQUIRE_MESSAGE(r2.status == 0, r2.output);
  const auto rows2 = metric_rows(run2);
  BOOST_REQUIRE_EQUAL(rows2.size(), 1u);
  BOOST_TEST(rows2[0]["forwards_logp"].get<double>() == 2 * GA * S);
  BOOST_TEST(std::abs(rows2[0]["loss"].get<double>() - rows[0]["loss"].get<double>()) <= 1e-6);
  BOOST_TEST(rows2[0]["clip_ratio"].get<double>() == 0.0);
}

BOOST_AUTO_TEST_CASE(stop_mid_mu_cycle_then_rerun_equals_straight_run) {
  for (const std::string mode : {"diffu-grpo", "one-step-grpo", "cj-grpo"}) {
    TempDir dir;
    const auto straight = dir.path() / "straight", split = dir.path() / "split";
    const std::string args = " --train.max_steps=4 --checkpoint.every=0" + kTiny + (mode == "cj-grpo" ? kCjAss : "");
    const auto a = mpirun2(mode + " --run.dir=" + straight.string() + args);
    BOOST_REQUIRE_MESSAGE(a.status == 0, a.output);
    fs::create_directories(split);
    std::ofstream(split / "STOP").close();  // stops after step 1: the rollout's second use is still due
    const auto b1 = mpirun2(mode + " --run.dir=" + split.string() + args + " --log.level=info");
    BOOST_REQUIRE_MESSAGE(b1.status == 0, b1.output);
    BOOST_TEST(has(b1.output, "stopping after step 1"), b1.output);
    BOOST_TEST(!fs::exists(split / "final"));
    const auto b2 = mpirun2(mode + " --run.dir=" + split.string() + args + " --log.level=info");
    BOOST_REQUIRE_MESSAGE(b2.status == 0, b2.output);
    BOOST_TEST(has(b2.output, "resumed from"), b2.output);
    BOOST_TEST((read_file(straight / "final" / "model.safetensors") == read_file(split / "final" / "model.safetensors")),
               mode);
    BOOST_TEST((metric_rows(straight) == metric_rows(split)), mode);
    BOOST_TEST((trajectory_dump(straight) == trajectory_dump(split)), mode);
  }
}

// SIGTERM (as Slurm sends it) to both ranks wherever the run is, mid-mu-cycle or not: checkpoint,
// exit 0; the rerun finishes with the weights, metrics and trajectories of a straight run.
BOOST_AUTO_TEST_CASE(sigterm_to_the_ranks_then_rerun_equals_straight_run) {
  TempDir dir;
  const auto straight = dir.path() / "straight", split = dir.path() / "split";
  const std::string args = " --train.max_steps=300 --checkpoint.every=0" + kTiny;
  const auto a = mpirun2("one-step-grpo --run.dir=" + straight.string() + args);
  BOOST_REQUIRE_MESSAGE(a.status == 0, a.output);
  // The ranks' command lines start with the executable (mpirun's with "mpirun"): signal only them.
  const std::string cmd = env_or_throw("MPIEXEC") + " -np 2 --oversubscribe --bind-to none " + env_or_throw("MDRL_EXE") +
                          " one-step-grpo --run.dir=" + split.string() + args + " --log.level=info > " +
                          (dir.path() / "b1.log").string() + " 2>&1 & for i in $(seq 600); do grep -q 'step 7/' " +
                          (dir.path() / "b1.log").string() + " && break; sleep 0.05; done; pkill -TERM -f '^" +
                          env_or_throw("MDRL_EXE") + " one-step-grpo --run.dir=" + split.string() + " '; wait";
  const auto b1 = run_command(cmd);
  const std::string log1 = read_file(dir.path() / "b1.log");
  BOOST_TEST(b1.status == 0, log1);
  BOOST_TEST(has(log1, "stopping after step"), log1);
  const auto b2 = mpirun2("one-step-grpo --run.dir=" + split.string() + args);
  BOOST_REQUIRE_MESSAGE(b2.status == 0, b2.output);
  BOOST_TEST((read_file(straight / "final" / "model.safetensors") == read_file(split / "final" / "model.safetensors")));
  BOOST_TEST((metric_rows(straight) == metric_rows(split)));
  BOOST_TEST((trajectory_dump(straight) == trajectory_dump(split)));
}

BOOST_AUTO_TEST_CASE(bad_settings_exit_2_naming_the_option) {
  TempDir dir;
  const std::string run = " --run.dir=" + (dir.path() / "run").string();
  const auto g = run_mdrl("diffu-grpo" + run + kTiny + " --grpo.num_generations=3");
  BOOST_TEST(g.status == 2, g.output);
  BOOST_TEST(has(g.output, "grpo.num_generations"), g.output);
  BOOST_TEST(has(g.output, "2, 4"), g.output);  // the values that divide train.batch_size = 4
  const auto t = run_mdrl("one-step-grpo" + run + kTiny + " --rl.task=chess");
  BOOST_TEST(t.status == 2, t.output);
  BOOST_TEST(has(t.output, "rl.task"), t.output);
  BOOST_TEST(has(t.output, "sudoku"), t.output);
  const auto d = run_mdrl("diffu-grpo" + run + kTiny + " --decode.block_length=5");
  BOOST_TEST(d.status == 2, d.output);
  BOOST_TEST(has(d.output, "decode.block_length"), d.output);
  // The shipped CJ launchers' EOSER+ASS setting (L 128, 32 steps; Q6/Q7), refused before any model loads.
  const auto c = run_mdrl("cj-grpo" + run + kTiny + kCjAss + " --decode.gen_length=128 --decode.steps=32");
  BOOST_TEST(c.status == 2, c.output);
  BOOST_TEST(has(c.output, "decode.steps"), c.output);
  BOOST_TEST(has(c.output, "= 7"), c.output);
  BOOST_TEST(!has(c.output, "loaded"), c.output);
  BOOST_TEST(!fs::exists(dir.path() / "run" / "checkpoints"));
}

BOOST_AUTO_TEST_SUITE_END()
