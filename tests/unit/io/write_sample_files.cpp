// Writes a small trajectory store (two segments) and a checkpoint into the directory given as argv[1], plus
// expected.json with values to find in them, for tests/unit/io/check_h5py.py: users read mdrl's
// HDF5 files with h5py, so the formats of src/io/README.md are checked from Python too.
#include <mpi.h>
#include <torch/torch.h>

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "io/checkpoint.hpp"
#include "io/trajectory_store.hpp"

using namespace mdrl;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: io_write_samples <dir>\n";
    return 2;
  }
  MPI_Init(&argc, &argv);
  const std::string dir = argv[1];
  nlohmann::json expected;
  {
    io::TrajectoryMeta meta{"[run]\nseed = 42\n", {"correctness", "format"}, 126336};
    io::TrajectoryWriter w(MPI_COMM_SELF, dir + "/trajectories", meta, {});
    for (int64_t step = 0; step < 2; ++step) {
      io::TrajectoryBatch b;
      b.step = step;
      b.prompt_ids = torch::arange(6, torch::kLong).reshape({2, 3}) + 100 * step;
      b.prompt_mask = torch::tensor({false, true, true, true, true, true}).reshape({2, 3});
      b.completion_ids = torch::arange(8, torch::kLong).reshape({2, 4}) + 1000 * step;
      b.step_map = torch::tensor({1, 0, 1, 0, 0, 1, 1, 0}).reshape({2, 4});
      b.confidence = torch::full({2, 4}, 0.25);
      b.rewards = torch::tensor({1.0, 0.5, 0.0, 0.5}).reshape({2, 2});
      b.reward = b.rewards.sum(1);
      b.advantage = b.reward - b.reward.mean();
      b.group_id = torch::tensor({step, step});
      b.old_logprob = torch::full({2, 4}, -0.5);
      b.decoding = R"({"steps": 2})";
      w.append(b);
      if (step == 0) w.flush();  // a checkpoint after step 0: two segments, one step each
    }
  }
  io::CheckpointState s;
  s.step = 9;
  s.params = {{"w", torch::tensor({1.5, -2.25, 3.0e-3}).to(torch::kBFloat16)},
              {"h", torch::tensor({0.1, 65504.0}).to(torch::kHalf)}};
  s.model_signature = io::signature_of(s.params);
  s.optimizer_tensors = {{"exp_avg/w", torch::ones({3})}};
  s.optimizer_scalars = {{"lr", 1e-4}};
  s.counters = {{"epoch", 1}};
  s.rng = {{"sampling", core::RngStream(42, 0, core::RngPurpose::Sampling).state()}};
  s.samplers = {{"train", {1, 96}}};
  s.config_ini = "[run]\nseed = 42\n";
  io::CheckpointManager(MPI_COMM_SELF, dir, {}).save(s);
  for (const auto& [name, t] : s.params) {
    const auto f = t.to(torch::kFloat).contiguous();
    expected["params"][name] = std::vector<float>(f.data_ptr<float>(), f.data_ptr<float>() + f.numel());
  }
  std::ofstream(dir + "/expected.json") << expected.dump();
  MPI_Finalize();
  return 0;
}
