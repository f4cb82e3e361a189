// Tensors as HDF5 datasets with a `dtype` attribute; 16-bit floats as raw words (see tensor_h5.hpp).
#include "io/tensor_h5.hpp"

#include <ATen/ATen.h>

#include "core/error.hpp"

namespace mdrl::io {

namespace {
struct DtypeEntry {
  c10::ScalarType dtype;
  const char* name;
  h5::Type storage;
};
constexpr DtypeEntry kDtypes[] = {
    {c10::ScalarType::Float, "float32", h5::Type::F32},   {c10::ScalarType::Double, "float64", h5::Type::F64},
    {c10::ScalarType::BFloat16, "bfloat16", h5::Type::U16}, {c10::ScalarType::Half, "float16", h5::Type::U16},
    {c10::ScalarType::Long, "int64", h5::Type::I64},      {c10::ScalarType::Int, "int32", h5::Type::I32},
    {c10::ScalarType::Short, "int16", h5::Type::I16},     {c10::ScalarType::Char, "int8", h5::Type::I8},
    {c10::ScalarType::Byte, "uint8", h5::Type::U8},       {c10::ScalarType::Bool, "bool", h5::Type::U8},
};

const DtypeEntry& entry(c10::ScalarType dtype) {
  for (const auto& e : kDtypes)
    if (e.dtype == dtype) return e;
  throw core::FormatError(std::string("tensors of dtype ") + c10::toString(dtype) +
                          " cannot be stored in HDF5 by mdrl (supported: float32/64, bfloat16, float16, "
                          "int8/16/32/64, uint8, bool)");
}
}  // namespace

std::string dtype_name(c10::ScalarType dtype) { return entry(dtype).name; }

c10::ScalarType dtype_from_name(const std::string& name, const std::string& where) {
  for (const auto& e : kDtypes)
    if (name == e.name) return e.dtype;
  throw core::FormatError(where + ": unknown dtype '" + name + "'");
}

h5::Type storage_type(c10::ScalarType dtype) { return entry(dtype).storage; }

h5::Dataset create_tensor_dataset(const h5::Group& group, const std::string& name, c10::ScalarType dtype,
                                  const std::vector<int64_t>& shape) {
  auto ds = group.create_dataset(name, storage_type(dtype), shape);
  ds.set_attr("dtype", dtype_name(dtype));
  return ds;
}

at::Tensor storage_view(const at::Tensor& t) {
  at::Tensor c = t.detach().to(at::kCPU).contiguous();
  switch (t.scalar_type()) {
    case c10::ScalarType::BFloat16:
    case c10::ScalarType::Half: return c.view(at::kShort);  // same bits; written as uint16
    case c10::ScalarType::Bool: return c.view(at::kByte);
    default: return c;
  }
}

void write_tensor(const h5::Dataset& ds, const at::Tensor& t, h5::Transfer xfer) {
  const at::Tensor s = storage_view(t);
  std::vector<int64_t> shape(t.sizes().begin(), t.sizes().end());
  MDRL_CHECK(shape == ds.shape(), core::InternalError, "tensor shape differs from dataset " + ds.where());
  // int16 memory into a uint16 file type would be a value conversion; keep the bits: memory type U16.
  h5::Type mem = storage_type(t.scalar_type());
  ds.write_all(mem, s.data_ptr(), xfer);
}

at::Tensor read_tensor(const h5::Dataset& ds) {
  const c10::ScalarType dtype = dtype_from_name(ds.attr_string("dtype"), ds.where());
  const h5::Type want = storage_type(dtype);
  MDRL_CHECK(ds.stored_type() == want, core::FormatError,
             ds.where() + " holds " + h5::type_name(ds.stored_type()) + " values but its dtype attribute says " +
                 dtype_name(dtype) + " (stored as " + h5::type_name(want) + ")");
  const auto shape = ds.shape();
  at::Tensor out = at::empty(shape, at::TensorOptions().dtype(dtype));
  if (out.numel() > 0) ds.read_all(want, storage_view(out).data_ptr());
  return out;
}

}  // namespace mdrl::io
