// `mdrl info`: build, LibTorch, CUDA/NCCL, HDF5 and MPI facts, and where each rank runs.
#pragma once

#include <string>
#include <vector>

namespace mdrl::dist {
class MpiEnv;
}

namespace mdrl::apps {
int run_info(const dist::MpiEnv& env, const std::vector<std::string>& args);
}
