#include "dist/device.hpp"

#include <sched.h>
#include <torch/cuda.h>
#include <ATen/Parallel.h>

#if MDRL_HAVE_CUDA
#include <cuda_runtime_api.h>
#endif

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <thread>
#include <vector>

#include "core/check_mpi.hpp"
#include "core/log.hpp"
#include "dist/collectives_mpi.hpp"
#include "dist/mpi_env.hpp"

namespace mdrl::dist {

namespace {
// The physical identity of a visible CUDA device (its PCI bus id), so ranks that each see one GPU
// through their own CUDA_VISIBLE_DEVICES (srun --gpus-per-task=1) are not taken for ranks sharing
// one. "" when unknown.
std::string physical_device_id(int index) {
#if MDRL_HAVE_CUDA
  char buf[64] = {};
  if (cudaDeviceGetPCIBusId(buf, static_cast<int>(sizeof buf), index) == cudaSuccess) return buf;
#else
  (void)index;
#endif
  return {};
}
}  // namespace

int auto_thread_count(int affinity_cpus, int sharing_ranks) {
  return std::max(1, affinity_cpus / std::max(1, sharing_ranks));
}

std::string format_cpu_list(const std::vector<int>& cpus) {
  std::string out;
  for (size_t i = 0; i < cpus.size();) {
    size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(cpus[i]);
    if (j > i) {
      out += '-';
      out += std::to_string(cpus[j]);
    }
    i = j + 1;
  }
  return out;
}

Placement place_rank(const MpiEnv& env, const DistConfig& cfg) {
  Placement p;

  // ---- device
  p.cuda_devices = torch::cuda::is_available() ? static_cast<int>(torch::cuda::device_count()) : 0;
  const bool want_cuda = cfg.device == DeviceKind::Cuda || (cfg.device == DeviceKind::Auto && p.cuda_devices > 0);
  if (want_cuda) {
    MDRL_CHECK(p.cuda_devices > 0, core::ConfigError,
               "dist.device = cuda, but no CUDA device is visible to rank " + std::to_string(env.rank()) + " on " +
                   env.hostname() + " (check CUDA_VISIBLE_DEVICES and the driver), or set dist.device = cpu");
    p.cuda_index = env.local_rank() % p.cuda_devices;
    p.device = "cuda:" + std::to_string(p.cuda_index);
  }
  // Ranks that picked the same physical GPU (by PCI bus id; by count when ids are unknown). Every
  // rank of the node takes part, whichever device it chose.
  const auto ids = allgather_strings(env.node(), p.cuda_index >= 0 ? physical_device_id(p.cuda_index) : "-");
  if (p.cuda_index >= 0) {
    std::map<std::string, int> per_gpu;
    bool known = true;
    for (const auto& id : ids) {
      if (id == "-") continue;  // a rank on the CPU
      known = known && !id.empty();
      ++per_gpu[id];
    }
    int most = 0;
    for (const auto& [id, n] : per_gpu) most = std::max(most, n);
    const bool shared = known ? most > 1 : env.local_size() > p.cuda_devices;
    if (shared && env.local_rank() == 0)
      core::log::warn() << env.local_size() << " ranks on " << env.hostname() << " share "
                        << (known ? per_gpu.size() : static_cast<size_t>(p.cuda_devices))
                        << " CUDA device(s); launch one rank per GPU for full speed";
  }

  // ---- CPU threads: compare this rank's affinity mask with the other ranks on the node.
  cpu_set_t mask;
  CPU_ZERO(&mask);
  if (sched_getaffinity(0, sizeof mask, &mask) != 0) {
    CPU_ZERO(&mask);
    for (int c = 0; c < std::max(1, static_cast<int>(std::thread::hardware_concurrency())); ++c) CPU_SET(c, &mask);
  }
  std::vector<int> cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &mask)) cpus.push_back(c);
  p.affinity_cpus = static_cast<int>(cpus.size());
  p.affinity = format_cpu_list(cpus);

  std::vector<unsigned char> all(sizeof mask * static_cast<size_t>(env.local_size()));
  MDRL_CHECK_MPI(MPI_Allgather(&mask, sizeof mask, MPI_BYTE, all.data(), sizeof mask, MPI_BYTE, env.node()));
  p.sharing_ranks = 0;
  for (int r = 0; r < env.local_size(); ++r)
    if (std::memcmp(all.data() + sizeof mask * static_cast<size_t>(r), &mask, sizeof mask) == 0) ++p.sharing_ranks;

  const char* omp = std::getenv("OMP_NUM_THREADS");
  if (cfg.threads > 0) {
    p.threads = static_cast<int>(cfg.threads);
    p.threads_reason = "dist.threads";
  } else if (omp != nullptr && std::atoi(omp) > 0) {
    p.threads = std::atoi(omp);
    p.threads_reason = "OMP_NUM_THREADS";
  } else {
    p.threads = auto_thread_count(p.affinity_cpus, p.sharing_ranks);
    p.threads_reason = std::to_string(p.affinity_cpus) + " cpus / " + std::to_string(p.sharing_ranks) + " ranks";
  }
  at::set_num_threads(p.threads);
  return p;
}

}  // namespace mdrl::dist
