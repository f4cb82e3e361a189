// Benchmark (label bench, `mpirun -np 2`): trajectory write bandwidth for a realistic GRPO batch
// (96 samples per step x 256 completion positions with step maps, confidences and old log-probs,
// prompts of 64..128 tokens, 3 reward components) with 1 rank (rank 0 alone on MPI_COMM_SELF) and
// 2 ranks (48 samples each), without and with deflate compression, against `dd` writing the same
// number of bytes to the same directory in the same run: each repetition of each configuration runs
// dd right before the store, so both see the same load, and the ratio `vs_dd` is the median over
// the repetitions of each pair's ratio (robust to load that changes during the run). Timings include creating, closing and fsync-ing the file (dd: conv=fdatasync); the
// *_nosync figures stop at close (dd without fdatasync), i.e. page-cache speed. Prints one JSON
// object on rank 0, whose `target_met` says whether the uncompressed store reaches half of dd's
// bandwidth with 1 and with 2 ranks (the goal of issue 7).
//
// A rank with nothing to measure (rank 1 while rank 0 runs dd or writes alone) sleeps in its
// barrier instead of spinning, and MPI waits yield the CPU (mpi_yield_when_idle, unless
// OMPI_MCA_mpi_yield_when_idle is set): on a small shared machine a spinning rank would otherwise
// take the core the measured process needs, and the figures would measure MPI's busy polling.
//
// Usage: bench_trajectory_write [steps=100] [reps=5] [levels=0,4] [flush_every=8]; files go to
// $MDRL_BENCH_DIR or ./ (removed afterwards).
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

// A barrier that sleeps while it waits (see the file comment).
void quiet_barrier(MPI_Comm comm) {
  MPI_Request request;
  MPI_Ibarrier(comm, &request);
  for (int done = 0;;) {
    MPI_Test(&request, &done, MPI_STATUS_IGNORE);
    if (done != 0) return;
    usleep(50);
  }
}

// Seconds of dd writing `bytes` (rounded up to whole MiB) to `path`, with or without fdatasync.
double time_dd(const std::string& path, int64_t bytes, bool sync) {
  const int64_t mib = (bytes + (1 << 20) - 1) >> 20;
  const double t = time_command("dd if=/dev/zero of='" + path + "' bs=1M count=" + std::to_string(mib) +
                                (sync ? " conv=fdatasync" : "") + " status=none");
  fs::remove(path);
  return t;
}
}  // namespace

int main(int argc, char** argv) {
  setenv("OMPI_MCA_mpi_yield_when_idle", "1", 0);  // read by MPI_Init; an explicit setting wins
  dist::MpiEnv env(&argc, &argv);
  const int64_t steps = argc > 1 ? std::atoll(argv[1]) : 100;
  const int reps = argc > 2 ? std::atoi(argv[2]) : 5;
  std::vector<int64_t> levels;
  for (const char* p = argc > 3 ? argv[3] : "0,4"; *p != '\0';) {
    char* end = nullptr;
    levels.push_back(std::strtoll(p, &end, 10));
    p = *end == ',' ? end + 1 : end;
    if (end == p && *p != '\0') break;
  }
  const int64_t flush_every = argc > 4 ? std::atoll(argv[4]) : io::TrajectoryConfig{}.flush_every;
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

  // The payload of one run, for dd: bytes_appended() of a short run, scaled.
  int64_t payload = 0;
  {
    io::TrajectoryConfig cfg;
    if (env.rank() == 0) {
      io::TrajectoryWriter w(MPI_COMM_SELF, dir + "/probe", meta, cfg);
      auto b = make_batch(kGlobalBatch, 0);
      w.append(b);
      payload = w.bytes_appended() * steps;
      w.close();
      fs::remove_all(dir + "/probe");
    }
    payload = io::bcast_int(env.world(), payload);
  }
  const double dd_mb = static_cast<double>((payload + (1 << 20) - 1) >> 20 << 20) / 1e6;

  std::string rows;
  double vs_dd_plain[2] = {0, 0};
  std::vector<double> dd_all, dd_all_nosync;
  for (int ranks : {1, 2}) {
    const bool active = ranks == 2 || env.rank() == 0;
    const MPI_Comm comm = ranks == 2 ? env.world() : MPI_COMM_SELF;
    const auto batch = make_batch(kGlobalBatch / ranks, env.rank());
    for (int64_t compression : levels) {
      io::TrajectoryConfig cfg;
      cfg.compression = compression;
      cfg.flush_every = flush_every;
      std::vector<double> t_sync, t_nosync, dd_sync, dd_nosync;
      int64_t bytes = 0, file_bytes = 0;
      for (int rep = 0; rep < reps; ++rep) {
        quiet_barrier(env.world());
        if (env.rank() == 0) {
          dd_sync.push_back(time_dd(dir + "/dd.bin", payload, true));
          dd_nosync.push_back(time_dd(dir + "/dd.bin", payload, false));
        }
        const std::string tdir = dir + "/r" + std::to_string(ranks) + "c" + std::to_string(compression);
        quiet_barrier(env.world());
        const double t0 = MPI_Wtime();
        double t_close = 0, t = 0;
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
          if (env.rank() == 0) io::fsync_path(tdir + "/seg-00000000.h5");
          t = MPI_Wtime() - t0;
        }
        MPI_Allreduce(&mine, &bytes, 1, MPI_INT64_T, MPI_SUM, env.world());
        MPI_Allreduce(MPI_IN_PLACE, &t_close, 1, MPI_DOUBLE, MPI_MAX, env.world());
        MPI_Allreduce(MPI_IN_PLACE, &t, 1, MPI_DOUBLE, MPI_MAX, env.world());
        t_sync.push_back(t);
        t_nosync.push_back(t_close);
        if (env.rank() == 0) {
          file_bytes = static_cast<int64_t>(fs::file_size(tdir + "/seg-00000000.h5"));
          fs::remove_all(tdir);
        }
      }
      if (env.rank() == 0) {
        dd_all.insert(dd_all.end(), dd_sync.begin(), dd_sync.end());
        dd_all_nosync.insert(dd_all_nosync.end(), dd_nosync.begin(), dd_nosync.end());
        const double mb = static_cast<double>(bytes) / 1e6;
        const double dd_mbps = dd_mb / median(dd_sync), mbps = mb / median(t_sync);
        std::vector<double> ratios;
        for (size_t i = 0; i < t_sync.size(); ++i) ratios.push_back((mb / t_sync[i]) / (dd_mb / dd_sync[i]));
        const double vs_dd = median(ratios);
        if (compression == 0) vs_dd_plain[ranks - 1] = vs_dd;
        char row[640];
        std::snprintf(row, sizeof row,
                      "%s{\"ranks\": %d, \"compression\": %lld, \"MBps\": %.1f, \"dd_MBps\": %.1f, \"vs_dd\": %.3f, "
                      "\"MBps_nosync\": %.1f, \"dd_MBps_nosync\": %.1f, \"ms_per_step\": %.3f, \"file_bytes\": %lld}",
                      rows.empty() ? "" : ", ", ranks, static_cast<long long>(compression), mbps, dd_mbps, vs_dd,
                      mb / median(t_nosync), dd_mb / median(dd_nosync),
                      median(t_sync) * 1e3 / static_cast<double>(steps), static_cast<long long>(file_bytes));
        rows += row;
      }
    }
  }
  if (env.rank() == 0) {
    const bool plain = std::find(levels.begin(), levels.end(), 0) != levels.end();
    std::printf("{\"bench\": \"trajectory_write\", \"samples_per_step\": %lld, \"completion_length\": %lld, "
                "\"prompt_width\": %lld, \"steps\": %lld, \"reps\": %d, \"flush_every\": %lld, "
                "\"payload_bytes\": %lld, "
                "\"dir\": \"%s\", \"dd_MBps\": %.1f, \"dd_MBps_nosync\": %.1f, \"uncompressed_vs_dd_1rank\": %.3f, "
                "\"uncompressed_vs_dd_2ranks\": %.3f, \"target_met\": %s, \"results\": [%s]}\n",
                static_cast<long long>(kGlobalBatch), static_cast<long long>(kLength),
                static_cast<long long>(kPromptWidth), static_cast<long long>(steps), reps,
                static_cast<long long>(flush_every), static_cast<long long>(payload), dir.c_str(),
                dd_mb / median(dd_all), dd_mb / median(dd_all_nosync), vs_dd_plain[0], vs_dd_plain[1],
                plain && vs_dd_plain[0] >= 0.5 && vs_dd_plain[1] >= 0.5 ? "true" : "false", rows.c_str());
    fs::remove_all(dir);
  }
  return 0;
}
