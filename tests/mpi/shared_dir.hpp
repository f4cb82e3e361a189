// A directory every rank of MPI_COMM_WORLD agrees on (rank 0's temporary directory), removed by
// rank 0 after all ranks are done with it. For the `mpirun -np 2` io tests.
#pragma once

#include <memory>
#include <string>

#include "io/file_util.hpp"
#include "test_support.hpp"

namespace mdrl::test {

struct SharedDir {
  std::unique_ptr<TempDir> owner;
  std::string path;
  SharedDir() {
    if (world_rank() == 0) owner = std::make_unique<TempDir>();
    path = io::bcast_string(MPI_COMM_WORLD, owner ? owner->path().string() : std::string());
  }
  ~SharedDir() { MPI_Barrier(MPI_COMM_WORLD); }
};

}  // namespace mdrl::test
