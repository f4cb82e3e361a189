// MDRL_CHECK_MPI: checks the return code of an MPI call and throws MpiError naming the call, the
// rank and the source location. Works because dist::MpiEnv sets MPI_ERRORS_RETURN on the world.
#pragma once

#include <mpi.h>

#include "core/error.hpp"

namespace mdrl::core::detail {
[[noreturn]] void throw_mpi_error(int rc, const char* expr, const char* file, int line);
}

#define MDRL_CHECK_MPI(expr)                                                     \
  do {                                                                           \
    const int mdrl_mpi_rc_ = (expr);                                             \
    if (mdrl_mpi_rc_ != MPI_SUCCESS)                                             \
      ::mdrl::core::detail::throw_mpi_error(mdrl_mpi_rc_, #expr, __FILE__, __LINE__); \
  } while (0)
