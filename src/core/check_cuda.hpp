// MDRL_CHECK_CUDA / MDRL_CHECK_NCCL: check CUDA runtime and NCCL return codes and throw CudaError /
// NcclError naming the call, the rank, the error and the source location. Only in CUDA builds.
#pragma once

#if MDRL_HAVE_CUDA
#include <cuda_runtime_api.h>
#include <nccl.h>

#include "core/error.hpp"

namespace mdrl::core::detail {
[[noreturn]] void throw_cuda_error(cudaError_t rc, const char* expr, const char* file, int line);
[[noreturn]] void throw_nccl_error(ncclResult_t rc, const char* expr, const char* file, int line);
}  // namespace mdrl::core::detail

#define MDRL_CHECK_CUDA(expr)                                                       \
  do {                                                                              \
    const cudaError_t mdrl_cuda_rc_ = (expr);                                       \
    if (mdrl_cuda_rc_ != cudaSuccess)                                               \
      ::mdrl::core::detail::throw_cuda_error(mdrl_cuda_rc_, #expr, __FILE__, __LINE__); \
  } while (0)

#define MDRL_CHECK_NCCL(expr)                                                       \
  do {                                                                              \
    const ncclResult_t mdrl_nccl_rc_ = (expr);                                      \
    if (mdrl_nccl_rc_ != ncclSuccess && mdrl_nccl_rc_ != ncclInProgress)            \
      ::mdrl::core::detail::throw_nccl_error(mdrl_nccl_rc_, #expr, __FILE__, __LINE__); \
  } while (0)
#endif
