// Benchmark (label bench, `mpirun -np 2`): trajectory write bandwidth for a realistic GRPO batch
// (96 samples per step x 256 completion positions with step maps, confidences and old log-probs,
// prompts of 64..128 tokens, 3 reward components) with 1 rank (rank 0 alone on MPI_COMM_SELF) and
// 2 ranks (48 samples each, collective writes), without and with deflate compression, against `dd`
// writing the same number of bytes to the same directory in the same run. Timings include
// creating, closing and fsync-ing the file (dd: conv=fdatasync); the *_nosync figures stop at
// close (dd without fdatasync), i.e. page-cache speed. Prints one JSON object on rank 0.
//
// Usage: bench_trajectory_write [steps=100] [reps=3] [levels=0,4]; files go to $MDRL_BENCH_DIR or ./
// (removed afterwards).
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "dist/mpi_env.hpp"
#include "io/file_util.hpp"
#include "io/trajectory_store.hpp"

using namespace mdrl;
namespace fs = std::filesystem;

namespace {
constexpr int64_t kGlobalBatch = 96, kLength = 256, kPromptWidth = 128, kDecodeSteps = 64;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

io::TrajectoryBatch make_batch(int64_t b, int rank) {
  torch::manual_seed(static_cast<uint64_t>(1000 + rank));
  io::TrajectoryBatch t;
  t.prompt_ids = torch::randint(0, 126464, {b, kPromptWidth}, torch::kLong);
  const auto lengths = torch::randint(64, kPromptWidth + 1, {b, 1}, torch::kLong);
  t.prompt_mask = torch::arange(kPromptWidth, torch::kLong).unsqueeze(0) >= (kPromptWidth - lengths);
  t.completion_ids = torch::randint(0, 126464, {b, kLength}, torch::kLong);
  t.step_map = torch::randint(0, kDecodeSteps, {b, kLength}, torch::kLong);
  t.confidence = torch::rand({b, kLength});
  t.old_logprob = -torch::rand({b, kLength}) * 5;
  t.rewards = torch::randint(0, 2, {b, 3}).to(torch::kFloat);
  t.reward = t.rewards.sum(1);
  t.advantage = t.reward - t.reward.mean();
  t.group_id = torch::arange(b, torch::kLong) / 8;
  t.decoding = R"({"gen_length": 256, "steps": 64, "block_length": 32, "remasking": "low_confidence"})";
  return t;
}

// Seconds for `cmd` (run by rank 0 only).
double time_command(const std::string& cmd) {
  const double t0 = MPI_Wtime();
  const int rc = std::system(cmd.c_str());
  const double t = MPI_Wtime() - t0;
  if (rc != 0) std::fprintf(stderr, "command failed (%d): %s\n", rc, cmd.c_str());
  return t;
}
}  // namespace

int main(int argc, char** argv) {
  dist::MpiEnv env(&argc, &argv);
  const int64_t steps = argc > 1 ? std::atoll(argv[1]) : 100;
  const int reps = argc > 2 ? std::atoi(argv[2]) : 3;
  std::vector<int64_t> levels;
  for (const char* p = argc > 3 ? argv[3] : "0,4"; *p != '\0';) {
    char* end = nullptr;
    levels.push_back(std::strtoll(p, &end, 10));
    p = *end == ',' ? end + 1 : end;
    if (end == p && *p != '\0') break;
  }
  const char* base = std::getenv("MDRL_BENCH_DIR");
  std::string dir;
  if (env.rank() == 0) {
    std::string tmpl = (fs::path(base != nullptr ? base : ".") / "bench_trajectory-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) dist::MpiEnv::abort(1);
    dir = fs::absolute(tmpl).string();
  }
  dir = io::bcast_string(env.world(), dir);
  io::TrajectoryMeta meta;
  meta.reward_names = {"correctness", "format", "length"};
  meta.config_ini = "[run]\nseed = 42\n";

  std::string rows;
  int64_t payload = 0;
  double best_vs_dd_plain = 0;
  std::vector<double> dd_sync, dd_nosync;
  for (int ranks : {1, 2}) {
    const bool active = ranks == 2 || env.rank() == 0;
    const MPI_Comm comm = ranks == 2 ? env.world() : MPI_COMM_SELF;
    const auto batch = make_batch(kGlobalBatch / ranks, env.rank());
    for (int64_t compression : levels) {
      io::TrajectoryConfig cfg;
      cfg.compression = compression;
      std::vector<double> t_sync, t_nosync;
      int64_t bytes = 0, file_bytes = 0;
      for (int rep = 0; rep < reps; ++rep) {
        const std::string tdir = dir + "/r" + std::to_string(ranks) + "c" + std::to_string(compression);
        MPI_Barrier(env.world());
        const double t0 = MPI_Wtime();
        double t_close = 0;
        int64_t mine = 0;
        if (active) {
          io::TrajectoryWriter w(comm, tdir, meta, cfg);
          for (int64_t s = 0; s < steps; ++s) {
            auto b = batch;
            b.step = s;
            w.append(b);
          }
          w.close();
          t_close = MPI_Wtime() - t0;
          mine = w.bytes_appended();
          if (env.rank() == 0) io::fsync_path(tdir + "/trajectories.h5");
        }
        MPI_Barrier(env.world());
        const double t = MPI_Wtime() - t0;
        MPI_Allreduce(&mine, &bytes, 1, MPI_INT64_T, MPI_SUM, env.world());
        MPI_Allreduce(MPI_IN_PLACE, &t_close, 1, MPI_DOUBLE, MPI_MAX, env.world());
        t_sync.push_back(t);
        t_nosync.push_back(t_close);
        if (env.rank() == 0) {
          file_bytes = static_cast<int64_t>(fs::file_size(tdir + "/trajectories.h5"));
          fs::remove_all(tdir);
        }
      }
      payload = bytes;
      if (env.rank() == 0 && dd_sync.empty()) {
        // dd of the same number of bytes to the same directory, in whole MiB blocks.
        const int64_t mib = (payload + (1 << 20) - 1) >> 20;
        const std::string out = dir + "/dd.bin";
        for (int rep = 0; rep < reps; ++rep) {
          dd_sync.push_back(time_command("dd if=/dev/zero of='" + out + "' bs=1M count=" + std::to_string(mib) +
                                         " conv=fdatasync status=none"));
          fs::remove(out);
          dd_nosync.push_back(time_command("dd if=/dev/zero of='" + out + "' bs=1M count=" + std::to_string(mib) +
                                           " status=none"));
          fs::remove(out);
        }
      }
      if (env.rank() == 0) {
        const double mb = static_cast<double>(payload) / 1e6;
        const double dd_mbps = static_cast<double>((payload + (1 << 20) - 1) >> 20 << 20) / 1e6 / median(dd_sync);
        const double mbps = mb / median(t_sync);
        if (compression == 0) best_vs_dd_plain = std::max(best_vs_dd_plain, mbps / dd_mbps);
        char row[512];
        std::snprintf(row, sizeof row,
                      "%s{\"ranks\": %d, \"compression\": %lld, \"MBps\": %.1f, \"vs_dd\": %.3f, \"MBps_nosync\": %.1f, "
                      "\"ms_per_step\": %.3f, \"file_bytes\": %lld}",
                      rows.empty() ? "" : ", ", ranks, static_cast<long long>(compression), mbps, mbps / dd_mbps,
                      mb / median(t_nosync), median(t_sync) * 1e3 / static_cast<double>(steps),
                      static_cast<long long>(file_bytes));
        rows += row;
      }
    }
  }
  if (env.rank() == 0) {
    const double mib = static_cast<double>((payload + (1 << 20) - 1) >> 20 << 20) / 1e6;
    std::printf("{\"bench\": \"trajectory_write\", \"samples_per_step\": %lld, \"completion_length\": %lld, "
                "\"prompt_width\": %lld, \"steps\": %lld, \"reps\": %d, \"payload_bytes\": %lld, \"dir\": \"%s\", "
                "\"dd_MBps\": %.1f, \"dd_MBps_nosync\": %.1f, \"uncompressed_vs_dd_best\": %.3f, \"results\": [%s]}\n",
                static_cast<long long>(kGlobalBatch), static_cast<long long>(kLength),
                static_cast<long long>(kPromptWidth), static_cast<long long>(steps), reps,
                static_cast<long long>(payload), dir.c_str(), mib / median(dd_sync), mib / median(dd_nosync),
                best_vs_dd_plain, rows.c_str());
    fs::remove_all(dir);
  }
  return 0;
}
