// NCCL communicator for CUDA tensor collectives (CUDA builds only). Bootstrapped over MPI: rank 0
// creates the unique id and broadcasts it. Collectives run on the backend's own stream; an event
// recorded on the current (compute) stream makes NCCL wait for the producers of the data, and an
// event recorded after the collective makes the compute stream wait for the result, so callers see
// ordinary stream semantics and the host never blocks.
#pragma once

#if MDRL_HAVE_CUDA
#include <ATen/core/Tensor.h>
#include <cuda_runtime_api.h>
#include <mpi.h>
#include <nccl.h>

namespace mdrl::dist {

class NcclBackend {
 public:
  NcclBackend(MPI_Comm comm, int device);
  ~NcclBackend();
  NcclBackend(const NcclBackend&) = delete;
  NcclBackend& operator=(const NcclBackend&) = delete;

  void all_reduce(at::Tensor& flat, bool mean);  // contiguous CUDA tensor, in place
  void broadcast(at::Tensor& flat, int root);
  int device() const { return device_; }

 private:
  void enter();  // nccl stream waits for the compute stream
  void leave();  // compute stream waits for the nccl stream

  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
  cudaEvent_t ready_ = nullptr, done_ = nullptr;
  int device_;
};

}  // namespace mdrl::dist
#else
namespace mdrl::dist {
// Without CUDA no backend is ever made; the complete (empty) type lets TensorCollectives' member
// std::unique_ptr<NcclBackend> be destroyed on its constructor's error path.
class NcclBackend {};
}  // namespace mdrl::dist
#endif
