#include "core/check_cuda.hpp"

#include "core/log.hpp"

namespace mdrl::core::detail {

void throw_cuda_error(cudaError_t rc, const char* expr, const char* file, int line) {
  cudaGetLastError();  // clear the sticky non-fatal error so later calls are not blamed
  throw CudaError(std::string(expr) + " failed on rank " + std::to_string(log::rank()) + ": " +
                  cudaGetErrorName(rc) + ": " + cudaGetErrorString(rc) + " (" + source_location(file, line) + ")");
}

void throw_nccl_error(ncclResult_t rc, const char* expr, const char* file, int line) {
  std::string msg = std::string(expr) + " failed on rank " + std::to_string(log::rank()) + ": " +
                    ncclGetErrorString(rc);
  const char* last = ncclGetLastError(nullptr);
  if (last != nullptr && *last != '\0') msg += std::string(" (") + last + ")";
  throw NcclError(msg + " (" + source_location(file, line) + ")");
}

}  // namespace mdrl::core::detail
