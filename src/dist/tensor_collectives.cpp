#include "dist/tensor_collectives.hpp"

#include <ATen/ATen.h>  // at::empty, at::mul_out (not only through the PCH)
#include <ATen/core/grad_mode.h>  // at::NoGradGuard (not only through the PCH)

#include <algorithm>
#include <climits>

#include "core/check_mpi.hpp"
#include "core/error.hpp"
#include "dist/nccl_backend.hpp"  // without CUDA: an empty NcclBackend, so unique_ptr<NcclBackend> compiles

namespace mdrl::dist {

namespace {

// MPI counts are int: move large buffers in chunks of at most 2^30 elements.
constexpr int64_t kMaxMpiCount = int64_t{1} << 30;

MPI_Datatype mpi_type(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return MPI_FLOAT;
    case at::kDouble: return MPI_DOUBLE;
    case at::kInt: return MPI_INT32_T;
    case at::kLong: return MPI_INT64_T;
    case at::kByte: return MPI_UINT8_T;
    case at::kChar: return MPI_INT8_T;
    case at::kBool: return MPI_C_BOOL;
    default: return MPI_DATATYPE_NULL;
  }
}

bool reduced_through_f32(at::ScalarType t) { return t == at::kBFloat16 || t == at::kHalf; }

void check_same_kind(const std::vector<at::Tensor>& tensors) {
  for (const auto& t : tensors) {
    MDRL_CHECK(t.defined(), core::InternalError, "tensor collective on an undefined tensor");
    MDRL_CHECK(t.is_cpu() || t.is_cuda(), core::InternalError,
               std::string("tensor collective on a tensor on unsupported device ") + t.device().str());
  }
}

// Copies the bucket's tensors, in order, into `flat` (converting dtype if flat's differs).
void pack(const std::vector<at::Tensor>& tensors, const std::vector<size_t>& bucket, at::Tensor& flat) {
  int64_t offset = 0;
  for (size_t i : bucket) {
    const int64_t n = tensors[i].numel();
    flat.narrow(0, offset, n).view(tensors[i].sizes()).copy_(tensors[i]);
    offset += n;
  }
}

// Copies `flat` back into the bucket's tensors; with scale != 1 multiplies on the way (one pass).
void unpack(const at::Tensor& flat, const std::vector<at::Tensor>& tensors, const std::vector<size_t>& bucket,
            double scale = 1.0) {
  int64_t offset = 0;
  for (size_t i : bucket) {
    const int64_t n = tensors[i].numel();
    const at::Tensor part = flat.narrow(0, offset, n).view(tensors[i].sizes());
    if (scale != 1.0) {
      at::Tensor dst = tensors[i];
      at::mul_out(dst, part, at::scalar_tensor(scale, part.options()));
    } else {
      tensors[i].copy_(part);
    }
    offset += n;
  }
}

int64_t total_numel(const std::vector<at::Tensor>& tensors, const std::vector<size_t>& bucket) {
  int64_t total = 0;
  for (size_t i : bucket) total += tensors[i].numel();
  return total;
}

}  // namespace

TensorCollectives::TensorCollectives(MPI_Comm comm, int64_t bucket_bytes, int cuda_device)
    : comm_(comm), bucket_bytes_(std::max<int64_t>(bucket_bytes, 1)) {
  MDRL_CHECK_MPI(MPI_Comm_rank(comm_, &rank_));
  MDRL_CHECK_MPI(MPI_Comm_size(comm_, &size_));
  if (cuda_device >= 0) {
#if MDRL_HAVE_CUDA
    nccl_ = std::make_unique<NcclBackend>(comm_, cuda_device);
#else
    throw core::ConfigError("a CUDA device was requested for collectives, but this mdrl build has no CUDA/NCCL "
                            "path; rebuild with -DMDRL_CUDA=ON or use dist.device = cpu");
#endif
  }
}

TensorCollectives::~TensorCollectives() = default;

std::vector<std::vector<size_t>> TensorCollectives::plan_buckets(const std::vector<at::Tensor>& tensors,
                                                                 int64_t bucket_bytes) {
  std::vector<std::vector<size_t>> buckets;
  int64_t used = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto& t = tensors[i];
    const int64_t bytes = t.numel() * static_cast<int64_t>(t.element_size());
    const bool fits = !buckets.empty() && used + bytes <= bucket_bytes &&
                      tensors[buckets.back().front()].scalar_type() == t.scalar_type() &&
                      tensors[buckets.back().front()].device() == t.device();
    if (!fits) {
      buckets.emplace_back();
      used = 0;
    }
    buckets.back().push_back(i);
    used += bytes;
  }
  return buckets;
}

at::Tensor TensorCollectives::scratch(at::ScalarType dtype, const at::Device& device, int64_t numel) {
  if (device.is_cuda()) return at::empty({numel}, at::TensorOptions().dtype(dtype).device(device));  // caching allocator
  // CPU: reuse one buffer per dtype. A fresh large allocation is fresh pages from the kernel, and
  // faulting them in costs as much as the reduction itself.
  at::Tensor& buf = scratch_[dtype];
  if (!buf.defined() || buf.numel() < numel) buf = at::empty({numel}, at::TensorOptions().dtype(dtype));
  return buf.narrow(0, 0, numel);
}

void TensorCollectives::all_reduce(const std::vector<at::Tensor>& tensors, ReduceOp op) {
  check_same_kind(tensors);
  if (size_ == 1) return;  // sum and mean over one rank are the identity
  at::NoGradGuard no_grad;
  for (const auto& bucket : plan_buckets(tensors, bucket_bytes_)) {
    const at::Tensor& first = tensors[bucket.front()];
    const at::ScalarType dtype = first.scalar_type();
    MDRL_CHECK(op == ReduceOp::Sum || at::isFloatingType(dtype), core::InternalError,
               "mean all-reduce of an integer tensor");
    const bool via_f32 = !first.is_cuda() && reduced_through_f32(dtype);
    if (bucket.size() == 1 && first.is_contiguous() && !via_f32) {
      at::Tensor view = first.view(-1);  // reduce in place, no packing
      reduce_flat(view, op);
      continue;
    }
    at::Tensor flat = scratch(via_f32 ? at::kFloat : dtype, first.device(), total_numel(tensors, bucket));
    pack(tensors, bucket, flat);  // converting bf16/f16 to f32 on the way
    // NCCL averages itself; on MPI the 1/world factor is fused into the copy back.
    const bool scale_on_unpack = op == ReduceOp::Mean && !flat.is_cuda();
    reduce_flat(flat, scale_on_unpack ? ReduceOp::Sum : op);
    unpack(flat, tensors, bucket, scale_on_unpack ? 1.0 / size_ : 1.0);
  }
}

void TensorCollectives::reduce_flat(at::Tensor& flat, ReduceOp op) {
  if (flat.is_cuda()) {
#if MDRL_HAVE_CUDA
    MDRL_CHECK(nccl_ != nullptr, core::InternalError, "CUDA tensor all-reduce without an NCCL communicator");
    nccl_->all_reduce(flat, op == ReduceOp::Mean);
    return;
#else
    throw core::InternalError("CUDA tensor in a build without the CUDA path");
#endif
  }
  MDRL_ASSERT(flat.is_contiguous() && !reduced_through_f32(flat.scalar_type()));
  at::Tensor& buf = flat;
  const MPI_Datatype type = mpi_type(buf.scalar_type());
  MDRL_CHECK(type != MPI_DATATYPE_NULL, core::InternalError,
             std::string("no MPI reduction for dtype ") + std::string(c10::toString(buf.scalar_type())));
  char* base = static_cast<char*>(buf.data_ptr());
  const int64_t esize = static_cast<int64_t>(buf.element_size());
  for (int64_t start = 0; start < buf.numel(); start += kMaxMpiCount) {
    const int count = static_cast<int>(std::min(kMaxMpiCount, buf.numel() - start));
    MDRL_CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, base + start * esize, count, type, MPI_SUM, comm_));
  }
  if (op == ReduceOp::Mean) buf.div_(static_cast<double>(size_));
}

void TensorCollectives::broadcast(const std::vector<at::Tensor>& tensors, int root) {
  check_same_kind(tensors);
  if (size_ == 1) return;
  at::NoGradGuard no_grad;
  for (const auto& bucket : plan_buckets(tensors, bucket_bytes_)) {
    const at::Tensor& first = tensors[bucket.front()];
    if (bucket.size() == 1 && first.is_contiguous()) {
      at::Tensor view = first.view(-1);
      broadcast_flat(view, root);
      continue;
    }
    at::Tensor flat = scratch(first.scalar_type(), first.device(), total_numel(tensors, bucket));
    pack(tensors, bucket, flat);
    broadcast_flat(flat, root);
    unpack(flat, tensors, bucket);
  }
}

void TensorCollectives::broadcast_flat(at::Tensor& flat, int root) {
  if (flat.is_cuda()) {
#if MDRL_HAVE_CUDA
    MDRL_CHECK(nccl_ != nullptr, core::InternalError, "CUDA tensor broadcast without an NCCL communicator");
    nccl_->broadcast(flat, root);
    return;
#else
    throw core::InternalError("CUDA tensor in a build without the CUDA path");
#endif
  }
  // Bytes are bytes: no conversion needed for bf16/f16.
  char* base = static_cast<char*>(flat.data_ptr());
  const int64_t bytes = flat.numel() * static_cast<int64_t>(flat.element_size());
  for (int64_t start = 0; start < bytes; start += kMaxMpiCount) {
    const int count = static_cast<int>(std::min(kMaxMpiCount, bytes - start));
    MDRL_CHECK_MPI(MPI_Bcast(base + start, count, MPI_BYTE, root, comm_));
  }
}

}  // namespace mdrl::dist
