#include "dist/grad_sync.hpp"

#include <ATen/ATen.h>

#include "core/check_mpi.hpp"

namespace mdrl::dist {

GradientSync::GradientSync(TensorCollectives& collectives, std::vector<at::Tensor> params)
    : coll_(collectives), params_(std::move(params)) {}

size_t GradientSync::average() {
  // 1. Agree on the set of parameters with a gradient (logical OR over ranks).
  std::vector<uint8_t> has(params_.size());
  for (size_t i = 0; i < params_.size(); ++i) has[i] = params_[i].grad().defined() ? 1 : 0;
  if (coll_.size() > 1 && !has.empty())
    MDRL_CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, has.data(), static_cast<int>(has.size()), MPI_UINT8_T, MPI_MAX,
                                 coll_.comm()));
  // 2. Zeros where this rank has none, then one bucketed mean over the agreed set.
  std::vector<at::Tensor> grads;
  for (size_t i = 0; i < params_.size(); ++i) {
    if (!has[i]) continue;
    at::Tensor& p = params_[i];
    if (!p.grad().defined()) p.mutable_grad() = at::zeros_like(p);
    grads.push_back(p.grad());
  }
  coll_.all_reduce(grads, ReduceOp::Mean);
  return grads.size();
}

}  // namespace mdrl::dist
