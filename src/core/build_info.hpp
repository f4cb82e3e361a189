// What this binary is: version, git commit, build type, and which optional parts were compiled in.
#pragma once

#include <string>

namespace mdrl::core {

struct BuildInfo {
  std::string version;        // mdrl version (CMake project version)
  std::string git_commit;     // short hash, "unknown" outside a git checkout
  bool git_dirty = false;     // tracked files differed from the commit at build time
  std::string build_type;     // Release, Debug, ...
  std::string compiler;       // e.g. "GCC 12.2.0"
  std::string torch_version;  // LibTorch the build was configured against
  bool cuda = false;          // CUDA code path compiled in
  std::string cuda_version;   // toolkit version when compiled in
  bool nccl = false;          // NCCL compiled in
  std::string nccl_version;
  std::string hdf5_version;   // HDF5 library linked
  bool hdf5_parallel = false; // built with MPI-IO
};

const BuildInfo& build_info();
// "mdrl 0.1.0 (git 1a2b3c4d5e6f, dirty)"
std::string version_line();

}  // namespace mdrl::core
