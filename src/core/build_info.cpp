#include "core/build_info.hpp"

#include <hdf5.h>

namespace mdrl::core {

namespace generated {
extern const char* const kGitCommit;
extern const bool kGitDirty;
}  // namespace generated

const BuildInfo& build_info() {
  static const BuildInfo info = [] {
    BuildInfo b;
    b.version = MDRL_VERSION;
    b.git_commit = generated::kGitCommit;
    b.git_dirty = generated::kGitDirty;
    b.build_type = MDRL_BUILD_TYPE;
#if defined(__clang__)
    b.compiler = "Clang " __clang_version__;
#elif defined(__GNUC__)
    b.compiler = "GCC " __VERSION__;
#endif
    b.torch_version = MDRL_TORCH_VERSION_BUILT;
#if MDRL_HAVE_CUDA
    b.cuda = true;
    b.cuda_version = MDRL_CUDA_VERSION_BUILT;
    b.nccl = true;
    b.nccl_version = MDRL_NCCL_VERSION_BUILT;
#endif
    unsigned maj = 0, min = 0, rel = 0;
    H5get_libversion(&maj, &min, &rel);
    b.hdf5_version = std::to_string(maj) + "." + std::to_string(min) + "." + std::to_string(rel);
#ifdef H5_HAVE_PARALLEL
    b.hdf5_parallel = true;
#endif
    return b;
  }();
  return info;
}

std::string version_line() {
  const auto& b = build_info();
  return "mdrl " + b.version + " (git " + b.git_commit + (b.git_dirty ? ", dirty" : "") + ")";
}

}  // namespace mdrl::core
