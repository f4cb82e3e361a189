#include "dist/nccl_backend.hpp"

#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "core/check_cuda.hpp"
#include "core/check_mpi.hpp"
#include "core/error.hpp"

namespace mdrl::dist {
namespace {
ncclDataType_t nccl_type(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return ncclFloat32;
    case at::kDouble: return ncclFloat64;
    case at::kHalf: return ncclFloat16;
    case at::kBFloat16: return ncclBfloat16;
    case at::kInt: return ncclInt32;
    case at::kLong: return ncclInt64;
    case at::kByte: return ncclUint8;
    case at::kChar: return ncclInt8;
    default: throw core::InternalError(std::string("no NCCL type for ") + c10::toString(t));
  }
}
}  // namespace

NcclBackend::NcclBackend(MPI_Comm comm, int device) : device_(device) {
  int rank = 0, size = 1;
  MDRL_CHECK_MPI(MPI_Comm_rank(comm, &rank));
  MDRL_CHECK_MPI(MPI_Comm_size(comm, &size));
  c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(device));
  ncclUniqueId id{};
  if (rank == 0) MDRL_CHECK_NCCL(ncclGetUniqueId(&id));
  MDRL_CHECK_MPI(MPI_Bcast(&id, sizeof id, MPI_BYTE, 0, comm));
  MDRL_CHECK_NCCL(ncclCommInitRank(&comm_, size, id, rank));
  MDRL_CHECK_CUDA(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  MDRL_CHECK_CUDA(cudaEventCreateWithFlags(&ready_, cudaEventDisableTiming));
  MDRL_CHECK_CUDA(cudaEventCreateWithFlags(&done_, cudaEventDisableTiming));
}

NcclBackend::~NcclBackend() {
  // No throwing here: release what exists, in reverse order.
  if (comm_ != nullptr) ncclCommDestroy(comm_);
  if (done_ != nullptr) cudaEventDestroy(done_);
  if (ready_ != nullptr) cudaEventDestroy(ready_);
  if (stream_ != nullptr) cudaStreamDestroy(stream_);
}

void NcclBackend::enter() {
  const cudaStream_t compute = c10::cuda::getCurrentCUDAStream(static_cast<c10::DeviceIndex>(device_)).stream();
  MDRL_CHECK_CUDA(cudaEventRecord(ready_, compute));
  MDRL_CHECK_CUDA(cudaStreamWaitEvent(stream_, ready_, 0));
}

void NcclBackend::leave() {
  const cudaStream_t compute = c10::cuda::getCurrentCUDAStream(static_cast<c10::DeviceIndex>(device_)).stream();
  MDRL_CHECK_CUDA(cudaEventRecord(done_, stream_));
  MDRL_CHECK_CUDA(cudaStreamWaitEvent(compute, done_, 0));
}

void NcclBackend::all_reduce(at::Tensor& flat, bool mean) {
  MDRL_ASSERT(flat.is_cuda() && flat.is_contiguous() && flat.get_device() == device_);
  c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(device_));
  enter();
  void* p = flat.data_ptr();
  MDRL_CHECK_NCCL(ncclAllReduce(p, p, static_cast<size_t>(flat.numel()), nccl_type(flat.scalar_type()),
                                mean ? ncclAvg : ncclSum, comm_, stream_));
  leave();
}

void NcclBackend::broadcast(at::Tensor& flat, int root) {
  MDRL_ASSERT(flat.is_cuda() && flat.is_contiguous() && flat.get_device() == device_);
  c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(device_));
  enter();
  void* p = flat.data_ptr();
  MDRL_CHECK_NCCL(ncclBroadcast(p, p, static_cast<size_t>(flat.numel() * flat.element_size()), ncclUint8, root, comm_,
                                stream_));
  leave();
}

}  // namespace mdrl::dist
