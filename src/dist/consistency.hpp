// Start-up agreement between ranks: parameters broadcast from rank 0 or verified identical by
// checksum (when every rank loaded the same checkpoint), and identical configuration text. A
// disagreement is a MismatchError on every rank naming what differs, never a silent divergence.
#pragma once

#include <ATen/core/Tensor.h>
#include <mpi.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "dist/tensor_collectives.hpp"

namespace mdrl::dist {

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

// Exact 64-bit fingerprint of a tensor's bytes, computed on its own device (no copy to the host of
// the whole tensor): integer arithmetic modulo 2^64, so every device and reduction order agrees.
uint64_t tensor_checksum(const at::Tensor& t);

// Copies rank `root`'s parameter values to every rank.
void broadcast_parameters(TensorCollectives& coll, const NamedTensors& params, int root = 0);

// Throws core::MismatchError on every rank when any parameter differs between ranks (names the
// first such parameter and the ranks that disagree with rank 0). Collective.
void verify_parameters_identical(MPI_Comm comm, const NamedTensors& params);

// Throws core::MismatchError on every rank when `text` differs between ranks; `what` names it
// ("resolved configuration") and the message quotes the first differing line. Collective.
void verify_same_text(MPI_Comm comm, const std::string& text, const std::string& what);

}  // namespace mdrl::dist
