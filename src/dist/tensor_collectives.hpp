// Tensor collectives behind one interface (DESIGN.md data flow step 6): in-place all-reduce (sum or
// mean) and broadcast of lists of tensors, packed into flat buckets of a bounded size so many small
// gradients cost a few large messages. CPU tensors go through MPI (bf16/f16 reduced in f32 buffers,
// since MPI has no such types); CUDA tensors through NCCL on its own stream, ordered against the
// compute stream with events (dist/nccl_backend.hpp).
#pragma once

#include <ATen/core/Tensor.h>
#include <mpi.h>

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

namespace mdrl::dist {

enum class ReduceOp { Sum, Mean };

class NcclBackend;

class TensorCollectives {
 public:
  // `comm` is not owned and must outlive this object. With cuda_device >= 0 (and a CUDA build)
  // an NCCL communicator over the ranks of `comm` is created: collective over `comm`.
  TensorCollectives(MPI_Comm comm, int64_t bucket_bytes, int cuda_device = -1);
  ~TensorCollectives();
  TensorCollectives(const TensorCollectives&) = delete;
  TensorCollectives& operator=(const TensorCollectives&) = delete;

  // In place on every tensor. All ranks pass tensors of the same count, shapes, dtypes, devices and
  // order. Integer tensors allow Sum only.
  void all_reduce(const std::vector<at::Tensor>& tensors, ReduceOp op);
  // Copies root's values into every rank's tensors, in place.
  void broadcast(const std::vector<at::Tensor>& tensors, int root);

  MPI_Comm comm() const { return comm_; }
  int rank() const { return rank_; }
  int size() const { return size_; }
  int64_t bucket_bytes() const { return bucket_bytes_; }
  bool has_nccl() const { return nccl_ != nullptr; }

  // Tensors grouped into buckets: consecutive, same dtype and device, at most bucket_bytes each
  // (a larger tensor forms a bucket alone). Exposed for tests.
  static std::vector<std::vector<size_t>> plan_buckets(const std::vector<at::Tensor>& tensors, int64_t bucket_bytes);

 private:
  at::Tensor scratch(at::ScalarType dtype, const at::Device& device, int64_t numel);
  void reduce_flat(at::Tensor& flat, ReduceOp op);
  void broadcast_flat(at::Tensor& flat, int root);

  MPI_Comm comm_;
  int rank_ = 0, size_ = 1;
  int64_t bucket_bytes_;
  std::unique_ptr<NcclBackend> nccl_;
  std::map<at::ScalarType, at::Tensor> scratch_;  // CPU packing buffers, reused across calls
};

}  // namespace mdrl::dist
