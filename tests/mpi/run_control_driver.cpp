// Test driver for the signal end-to-end test: a step loop under RunControl. Each rank writes its
// pid to <dir>/pid.<rank>, steps every 20 ms, and on a stop decision prints
// "rank R stopped at step N (reason)" and exits 0. Usage: run_control_driver <dir> [max_steps]
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

#include "core/error.hpp"
#include "dist/mpi_env.hpp"
#include "train/run_control.hpp"

int main(int argc, char** argv) {
  using namespace mdrl;
  if (argc < 2) return 2;
  const std::string dir = argv[1];
  const int max_steps = argc > 2 ? std::stoi(argv[2]) : 1500;
  dist::MpiEnv env(&argc, &argv);
  train::RunControl rc(env, train::RunControlConfig{}, dir);
  std::ofstream(dir + "/pid." + std::to_string(env.rank())) << getpid() << "\n";
  for (int step = 1; step <= max_steps; ++step) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const auto d = rc.at_step_boundary();
    if (d.stop) {
      std::printf("rank %d stopped at step %d (%s) checkpoint=%d\n", env.rank(), step, d.reason.c_str(),
                  d.checkpoint ? 1 : 0);
      std::fflush(stdout);
      return 0;
    }
  }
  std::printf("rank %d ran out of steps\n", env.rank());
  return 3;
}
