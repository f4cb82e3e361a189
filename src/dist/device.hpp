// Device and CPU-thread placement of each rank (DESIGN.md: the model is single-device; dist/
// decides which device). CUDA ranks take cuda:<local_rank mod device count>. CPU threads are chosen
// so the ranks on one node share its cores instead of oversubscribing them: a rank's affinity mask
// is divided among the local ranks that have the same mask (all of them when the launcher does
// not bind, none when it binds each rank to its own cores).
#pragma once

#include <string>
#include <vector>

#include "dist/dist_config.hpp"

namespace mdrl::dist {

class MpiEnv;

struct Placement {
  std::string device = "cpu";  // "cpu" or "cuda:<i>"
  int cuda_index = -1;         // -1 on CPU
  int cuda_devices = 0;        // CUDA devices visible to this rank
  int threads = 1;             // LibTorch intra-op threads set for this rank
  std::string threads_reason;  // how `threads` was chosen
  int affinity_cpus = 0;       // CPUs in this rank's affinity mask
  std::string affinity;        // the mask as a list, e.g. "0-3,8"
  int sharing_ranks = 1;       // local ranks with the same mask (this one included)
};

// Threads per rank when not set explicitly: the mask's CPUs divided among the ranks sharing it.
int auto_thread_count(int affinity_cpus, int sharing_ranks);

// "0-3,8" from a sorted list of CPU ids.
std::string format_cpu_list(const std::vector<int>& cpus);

// Decides device and threads for this rank, applies the thread count to LibTorch, and returns the
// placement. Collective over env.node(): every rank of a node must call it. Throws ConfigError when
// dist.device = cuda and no GPU is visible.
Placement place_rank(const MpiEnv& env, const DistConfig& cfg);

}  // namespace mdrl::dist
