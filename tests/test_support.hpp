// Helpers shared by mdrl's tests: MPI set-up, plus process_support.hpp (temporary directories,
// running the real `mdrl` executable).
#pragma once

#include <mpi.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "core/log.hpp"
#include "process_support.hpp"

namespace mdrl::test {

struct MpiFixture {
  MpiFixture() {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized) {
      int provided = 0;
      MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
    }
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    core::log::set_rank(rank, size);
  }
  ~MpiFixture() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Finalize();
  }
};

// This process's rank in MPI_COMM_WORLD (MPI must be initialised).
inline int world_rank() {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}

}  // namespace mdrl::test
