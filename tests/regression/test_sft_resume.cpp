// Resume equality (DESIGN.md "Checkpoints ... continues bit-for-bit as if never stopped"; issue 9):
// `mpirun -np 2 mdrl sft` for N steps straight, against the same run stopped by SIGTERM to both
// ranks part way (as Slurm signals a job's tasks), then started again with the same command. The
// final weights must be identical bytes and metrics.jsonl identical in every non-timing field.
#include <signal.h>
#include <sys/types.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "test_support.hpp"

using namespace mdrl::test;
namespace fs = std::filesystem;

namespace {

constexpr int kSteps = 24;

std::string sft_command(const fs::path& run_dir) {
  return env_or_throw("MPIEXEC") + " -np 2 --oversubscribe --bind-to none " + env_or_throw("MDRL_EXE") +
         " sft --model.preset=tiny --sft.task=sudoku --sft.prompt_style=bare --sft.response_style=answer"
         " --tasks.generated_count=400 --sft.max_length=384 --sft.eval_fraction=0.05 --sft.eval_decode=8"
         " --decode.gen_length=40 --decode.block_length=40 --decode.steps=40"
         " --train.lr=3e-3 --train.schedule=cosine --train.warmup_steps=3 --train.batch_size=6 --train.grad_accum=2"
         " --train.max_steps=" + std::to_string(kSteps) + " --train.eval_every=8 --lora.rank=0 --checkpoint.every=8"
         " --run.dir=" + run_dir.string();
}

std::vector<nlohmann::json> metric_rows(const fs::path& run_dir) {
  std::ifstream in(run_dir / "metrics.jsonl");
  std::vector<nlohmann::json> rows;
  std::string line;
  while (std::getline(in, line)) {
    auto row = nlohmann::json::parse(line);
    for (const char* timing : {"tokens_per_s", "ms_per_step", "eta_s"}) row.erase(timing);
    rows.push_back(std::move(row));
  }
  return rows;
}

int64_t last_step(const fs::path& metrics) {
  std::ifstream in(metrics);
  std::string line;
  int64_t step = 0;
  while (std::getline(in, line)) {
    try {
      step = std::max<int64_t>(step, nlohmann::json::parse(line).at("step").get<int64_t>());
    } catch (...) {  // a line being written
    }
  }
  return step;
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

std::string file_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

BOOST_AUTO_TEST_CASE(sigterm_and_resume_equal_an_uninterrupted_run) {
  TempDir dir;
  const auto straight = dir.path() / "straight", resumed = dir.path() / "resumed";

  const auto a = run_command(sft_command(straight));
  BOOST_REQUIRE_MESSAGE(a.status == 0, a.output);

  // The interrupted run: its pid first, then mpirun in its place, so the ranks are its children.
  FILE* pipe = popen(("sh -c 'echo $$; exec " + sft_command(resumed) + "' 2>&1").c_str(), "r");
  BOOST_REQUIRE(pipe != nullptr);
  pid_t mpirun = 0;
  BOOST_REQUIRE(fscanf(pipe, "%d", &mpirun) == 1);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (last_step(resumed / "metrics.jsonl") < kSteps / 2 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const auto ranks = children_of(mpirun);
  BOOST_REQUIRE_EQUAL(ranks.size(), 2u);
  for (const pid_t r : ranks) BOOST_REQUIRE_EQUAL(kill(r, SIGTERM), 0);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  const int st = pclose(pipe);
  BOOST_REQUIRE_MESSAGE(WIFEXITED(st) && WEXITSTATUS(st) == 0, out);
  BOOST_REQUIRE_MESSAGE(out.find("stopping after step") != std::string::npos, out);
  const int64_t stopped = last_step(resumed / "metrics.jsonl");
  BOOST_TEST_MESSAGE("stopped after step " << stopped << " of " << kSteps);
  BOOST_REQUIRE(stopped < kSteps);
  BOOST_REQUIRE(!fs::exists(resumed / "final"));

  const auto b = run_command(sft_command(resumed));
  BOOST_REQUIRE_MESSAGE(b.status == 0, b.output);
  BOOST_TEST(b.output.find("resumed from") != std::string::npos, b.output);

  // Identical weights, byte for byte.
  const auto wa = file_bytes(straight / "final" / "model.safetensors");
  BOOST_REQUIRE(!wa.empty());
  BOOST_TEST((wa == file_bytes(resumed / "final" / "model.safetensors")));
  // Identical metrics: every step and evaluation row, timing fields aside.
  const auto ra = metric_rows(straight), rb = metric_rows(resumed);
  BOOST_TEST(ra.size() == static_cast<size_t>(kSteps + kSteps / 8));
  BOOST_REQUIRE_EQUAL(ra.size(), rb.size());
  for (size_t i = 0; i < ra.size(); ++i) BOOST_TEST(ra[i] == rb[i], "row " << i << ": " << ra[i] << " vs " << rb[i]);
  // The runs learned something (loss went down), so equality is not of two untouched models.
  BOOST_TEST(ra.front().at("loss").get<double>() > ra[ra.size() - 2].at("loss").get<double>());
}
