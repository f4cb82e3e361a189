#include "core/check_mpi.hpp"

#include "core/log.hpp"

namespace mdrl::core::detail {

void throw_mpi_error(int rc, const char* expr, const char* file, int line) {
  char text[MPI_MAX_ERROR_STRING] = {0};
  int len = 0;
  if (MPI_Error_string(rc, text, &len) != MPI_SUCCESS) std::snprintf(text, sizeof text, "error code %d", rc);
  throw MpiError(std::string(expr) + " failed on rank " + std::to_string(log::rank()) + ": " + text + " (" +
                 source_location(file, line) + ")");
}

}  // namespace mdrl::core::detail
