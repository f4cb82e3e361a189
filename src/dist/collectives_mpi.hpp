// Small MPI collectives on host values used across modules: gathering strings to one rank, and
// reducing scalars. Tensor collectives (NCCL/MPI, bucketed) come with the distributed runtime.
#pragma once

#include <mpi.h>

#include <string>
#include <vector>

namespace mdrl::dist {

// Every rank sends `text`; `root` receives all of them in rank order (other ranks get {}).
std::vector<std::string> gather_strings(MPI_Comm comm, const std::string& text, int root = 0);
// Every rank receives every rank's text, in rank order.
std::vector<std::string> allgather_strings(MPI_Comm comm, const std::string& text);

int allreduce_min(MPI_Comm comm, int value);
int allreduce_max(MPI_Comm comm, int value);

}  // namespace mdrl::dist
