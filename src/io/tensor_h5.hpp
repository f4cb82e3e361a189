// LibTorch tensors as HDF5 datasets, restored bit-exactly. Every dataset carries a `dtype`
// attribute with the torch dtype name. HDF5 has no bfloat16 (and h5py would read a 16-bit float
// type as IEEE half), so bfloat16 and float16 are stored as their raw 16-bit words (uint16) and
// `dtype` says how to reinterpret them: in numpy, `a.view(np.float16)` for float16; bfloat16 words
// are the upper half of a float32 (`(a.astype(np.uint32) << 16).view(np.float32)`). bool is uint8.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "io/hdf5.hpp"

namespace mdrl::io {

// "float32", "bfloat16", ... (torch's names without the "torch." prefix).
std::string dtype_name(c10::ScalarType dtype);
// The inverse; throws core::FormatError naming `where` for an unknown name.
c10::ScalarType dtype_from_name(const std::string& name, const std::string& where);

// The HDF5 element type a tensor of `dtype` is stored as.
h5::Type storage_type(c10::ScalarType dtype);

// Creates a dataset shaped and typed for `t` (contiguous layout) with its `dtype` attribute, but
// writes no data. Collective in parallel files.
h5::Dataset create_tensor_dataset(const h5::Group& group, const std::string& name, c10::ScalarType dtype,
                                  const std::vector<int64_t>& shape);
// Writes the whole tensor (any device, any strides; copied to a contiguous CPU tensor first).
void write_tensor(const h5::Dataset& ds, const at::Tensor& t, h5::Transfer xfer);
// Reads a dataset written by write_tensor into a new CPU tensor of the stored dtype and shape.
at::Tensor read_tensor(const h5::Dataset& ds);

// The tensor's bytes as the storage type (a contiguous CPU tensor; bf16/f16/bool reinterpreted).
at::Tensor storage_view(const at::Tensor& t);

}  // namespace mdrl::io
