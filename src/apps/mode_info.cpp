#include "apps/mode_info.hpp"

#include <torch/cuda.h>
#include <torch/headeronly/version.h>

#include <iomanip>
#include <iostream>
#include <sstream>

#include "apps/mode_setup.hpp"
#include "config/run_config.hpp"
#include "core/build_info.hpp"
#include "dist/collectives_mpi.hpp"
#include "dist/device.hpp"
#include "dist/mpi_env.hpp"

#if MDRL_HAVE_CUDA
#include <cuda_runtime_api.h>
#include <nccl.h>
#endif

namespace mdrl::apps {
namespace {

const char* thread_level_name(int level) {
  switch (level) {
    case MPI_THREAD_SINGLE: return "single";
    case MPI_THREAD_FUNNELED: return "funneled";
    case MPI_THREAD_SERIALIZED: return "serialized";
    case MPI_THREAD_MULTIPLE: return "multiple";
  }
  return "?";
}

std::string cuda_runtime_line() {
#if MDRL_HAVE_CUDA
  int n = 0;
  const cudaError_t rc = cudaGetDeviceCount(&n);
  if (rc != cudaSuccess) {
    cudaGetLastError();
    return std::string("no usable device (") + cudaGetErrorName(rc) + ")";
  }
  std::string s = std::to_string(n) + " device(s)";
  for (int i = 0; i < n; ++i) {
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, i) == cudaSuccess)
      s += "; " + std::to_string(i) + ": " + prop.name + " " +
           std::to_string(prop.totalGlobalMem >> 30) + " GiB sm_" + std::to_string(prop.major) + std::to_string(prop.minor);
  }
  int nccl = 0;
  if (ncclGetVersion(&nccl) == ncclSuccess) s += "; NCCL runtime " + std::to_string(nccl);
  return s;
#else
  return "CUDA path not compiled in";
#endif
}

}  // namespace

int run_info(const dist::MpiEnv& env, const std::vector<std::string>& args) {
  config::LogConfig log;
  dist::DistConfig dcfg;
  config::Options opts("info");
  log.add_options(opts);
  dcfg.add_options(opts);
  setup_mode(env, opts, args,
             "usage: mpirun -np N mdrl info [options]\n\n"
             "Prints the build (version, commit, LibTorch, CUDA/NCCL, HDF5), the MPI layout and each\n"
             "rank's host, local rank, device and CPU threads, as placed by the [dist] options.",
             log, /*table_at_debug=*/true);
  const dist::Placement p = dist::place_rank(env, dcfg);

  std::ostringstream row;
  row << std::setw(5) << env.rank() << "  " << std::left << std::setw(20) << env.hostname() << std::right
      << std::setw(5) << env.node_index() << std::setw(7) << env.local_rank() << "/" << std::left << std::setw(5)
      << env.local_size() << std::setw(9) << p.device << std::right << std::setw(7) << p.threads << "  " << std::left
      << std::setw(12) << p.affinity << p.threads_reason;
  const auto rows = dist::gather_strings(env.world(), row.str(), 0);
  if (env.rank() != 0) return 0;

  const auto& b = core::build_info();
  std::ostringstream out;
  out << core::version_line() << "\n"
      << "  build          " << b.build_type << ", " << b.compiler << "\n"
      << "  LibTorch       " << TORCH_VERSION << " (configured against " << b.torch_version << "), CUDA available: "
      << (torch::cuda::is_available() ? "yes, " + std::to_string(torch::cuda::device_count()) + " device(s)" : std::string("no"))
      << "\n"
      << "  CUDA path      " << (b.cuda ? "compiled in (toolkit " + b.cuda_version + ")" : std::string("not compiled in"))
      << "\n"
      << "  NCCL           " << (b.nccl ? "compiled in (" + b.nccl_version + ")" : std::string("not compiled in")) << "\n"
      << "  CUDA runtime   " << cuda_runtime_line() << "\n"
      << "  HDF5           " << b.hdf5_version << ", parallel: " << (b.hdf5_parallel ? "yes" : "no") << "\n"
      << "  MPI            " << env.library_version() << ", thread level " << thread_level_name(env.thread_level())
      << "\n"
      << "  world size     " << env.size() << " rank(s) on " << env.node_count() << " node(s)\n\n"
      << " rank  host                 node  local/size  device   threads  affinity    threads from\n";
  for (const auto& r : rows) out << r << "\n";
  std::cout << out.str() << std::flush;
  return 0;
}

}  // namespace mdrl::apps
