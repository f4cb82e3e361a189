// Gradient averaging across ranks after backward (DESIGN.md data flow step 6). Ranks may disagree
// on which parameters received a gradient (a LoRA adapter that one rank's batch never reached): the
// set is agreed first, a missing gradient counts as zeros, so every rank ends with the same mean;
// parameters without a gradient on any rank are skipped on all of them.
#pragma once

#include <ATen/core/Tensor.h>

#include <vector>

#include "dist/tensor_collectives.hpp"

namespace mdrl::dist {

class GradientSync {
 public:
  // `params` are the trainable parameters, in the same order on every rank.
  GradientSync(TensorCollectives& collectives, std::vector<at::Tensor> params);

  // Averages the gradients in place; returns how many parameters took part.
  size_t average();

 private:
  TensorCollectives& coll_;
  std::vector<at::Tensor> params_;
};

}  // namespace mdrl::dist
