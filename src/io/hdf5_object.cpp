// HDF5 RAII layer, part two: attributes on any object (variable-length UTF-8 strings so h5py reads
// them as str; scalars and 1-D lists of numbers) and dataset row-block I/O by hyperslab.
#include <algorithm>

#include "core/check_hdf5.hpp"
#include "core/error.hpp"
#include "io/hdf5.hpp"

namespace mdrl::io::h5 {

namespace {

Id utf8_string_type(const std::string& where) {
  Id t(MDRL_CHECK_H5(H5Tcopy(H5T_C_S1), where), H5Tclose);
  MDRL_CHECK_H5(H5Tset_size(t.get(), H5T_VARIABLE), where);
  MDRL_CHECK_H5(H5Tset_cset(t.get(), H5T_CSET_UTF8), where);
  return t;
}

std::string attr_where(const std::string& where, const std::string& name) { return where + " attribute '" + name + "'"; }

}  // namespace

// ---- attributes ------------------------------------------------------------------------------------

bool Object::has_attr(const std::string& name) const {
  return MDRL_CHECK_H5(H5Aexists(id(), name.c_str()), attr_where(where_, name)) > 0;
}

Id Object::open_attr(const std::string& name) const {
  MDRL_CHECK(has_attr(name), core::FormatError,
             where_ + " has no attribute '" + name + "' (not an mdrl file, or written by an incompatible version?)");
  return Id(MDRL_CHECK_H5(H5Aopen(id(), name.c_str(), H5P_DEFAULT), attr_where(where_, name)), H5Aclose);
}

void Object::write_attr(const std::string& name, hid_t mem_type, hid_t ftype, const std::vector<hsize_t>& dims,
                        const void* data) const {
  const std::string w = attr_where(where_, name);
  if (has_attr(name)) {
    // A scalar number is overwritten in place (counters updated every step); anything else is
    // replaced, since its size may change.
    Id old(MDRL_CHECK_H5(H5Aopen(id(), name.c_str(), H5P_DEFAULT), w), H5Aclose);
    Id old_type(MDRL_CHECK_H5(H5Aget_type(old.get()), w), H5Tclose);
    Id old_space(MDRL_CHECK_H5(H5Aget_space(old.get()), w), H5Sclose);
    if (dims.empty() && H5Sget_simple_extent_type(old_space.get()) == H5S_SCALAR &&
        H5Tget_class(old_type.get()) != H5T_STRING && H5Tequal(old_type.get(), ftype) > 0) {
      MDRL_CHECK_H5(H5Awrite(old.get(), mem_type, data), w);
      old.close(w);
      return;
    }
    old.close(w);
    MDRL_CHECK_H5(H5Adelete(id(), name.c_str()), w);
  }
  // An empty list gets a null dataspace (h5py shows it as h5py.Empty), which HDF5 accepts everywhere.
  const bool empty = !dims.empty() && dims[0] == 0;
  Id space(dims.empty() ? MDRL_CHECK_H5(H5Screate(H5S_SCALAR), w)
           : empty      ? MDRL_CHECK_H5(H5Screate(H5S_NULL), w)
                        : MDRL_CHECK_H5(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), w),
           H5Sclose);
  Id attr(MDRL_CHECK_H5(H5Acreate2(id(), name.c_str(), ftype, space.get(), H5P_DEFAULT, H5P_DEFAULT), w), H5Aclose);
  if (!empty) MDRL_CHECK_H5(H5Awrite(attr.get(), mem_type, data), w);
  attr.close(w);
}

void Object::set_attr(const std::string& name, const std::string& value) const {
  Id t = utf8_string_type(where_);
  const char* p = value.c_str();
  write_attr(name, t.get(), t.get(), {}, &p);
}

void Object::set_attr(const std::string& name, const std::vector<std::string>& values) const {
  Id t = utf8_string_type(where_);
  std::vector<const char*> ptrs;
  for (const auto& v : values) ptrs.push_back(v.c_str());
  write_attr(name, t.get(), t.get(), {values.size()}, ptrs.data());
}

void Object::set_attr(const std::string& name, int64_t value) const {
  write_attr(name, H5T_NATIVE_INT64, H5T_STD_I64LE, {}, &value);
}
void Object::set_attr(const std::string& name, uint64_t value) const {
  write_attr(name, H5T_NATIVE_UINT64, H5T_STD_U64LE, {}, &value);
}
void Object::set_attr(const std::string& name, double value) const {
  write_attr(name, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, {}, &value);
}
void Object::set_attr(const std::string& name, const std::vector<int64_t>& values) const {
  write_attr(name, H5T_NATIVE_INT64, H5T_STD_I64LE, {values.size()}, values.data());
}

std::vector<std::string> Object::attr_strings(const std::string& name) const {
  const std::string w = attr_where(where_, name);
  Id attr = open_attr(name);
  Id type(MDRL_CHECK_H5(H5Aget_type(attr.get()), w), H5Tclose);
  MDRL_CHECK(H5Tget_class(type.get()) == H5T_STRING, core::FormatError, w + " is not a string");
  Id space(MDRL_CHECK_H5(H5Aget_space(attr.get()), w), H5Sclose);
  const auto n = static_cast<size_t>(MDRL_CHECK_H5(H5Sget_simple_extent_npoints(space.get()), w));
  std::vector<std::string> out;
  if (n == 0) return out;
  if (MDRL_CHECK_H5(H5Tis_variable_str(type.get()), w) > 0) {
    Id mem = utf8_string_type(w);
    std::vector<char*> ptrs(std::max<size_t>(n, 1), nullptr);
    MDRL_CHECK_H5(H5Aread(attr.get(), mem.get(), ptrs.data()), w);
    for (size_t i = 0; i < n; ++i) {
      out.emplace_back(ptrs[i] != nullptr ? ptrs[i] : "");
      H5free_memory(ptrs[i]);
    }
  } else {  // fixed-length strings (as h5py writes numpy bytes): NUL- or space-padded
    const size_t len = H5Tget_size(type.get());
    std::vector<char> buf(n * len + 1, '\0');
    MDRL_CHECK_H5(H5Aread(attr.get(), type.get(), buf.data()), w);
    for (size_t i = 0; i < n; ++i) {
      std::string s(buf.data() + i * len, len);
      s.erase(std::find(s.begin(), s.end(), '\0'), s.end());
      out.push_back(std::move(s));
    }
  }
  return out;
}

std::string Object::attr_string(const std::string& name) const {
  auto v = attr_strings(name);
  MDRL_CHECK(v.size() == 1, core::FormatError, attr_where(where_, name) + " is not a single string");
  return v[0];
}

namespace {
template <class T>
std::vector<T> read_numbers(Id attr, const std::string& w) {
  Id type(MDRL_CHECK_H5(H5Aget_type(attr.get()), w), H5Tclose);
  const H5T_class_t cls = H5Tget_class(type.get());
  MDRL_CHECK(cls == H5T_INTEGER || cls == H5T_FLOAT, core::FormatError, w + " is not a number");
  Id space(MDRL_CHECK_H5(H5Aget_space(attr.get()), w), H5Sclose);
  const auto n = static_cast<size_t>(MDRL_CHECK_H5(H5Sget_simple_extent_npoints(space.get()), w));
  std::vector<T> v(n);
  if (n == 0) return v;
  MDRL_CHECK_H5(H5Aread(attr.get(), memory_type(type_of<T>()), v.data()), w);
  return v;
}
}  // namespace

int64_t Object::attr_int(const std::string& name) const {
  auto v = read_numbers<int64_t>(open_attr(name), attr_where(where_, name));
  MDRL_CHECK(v.size() == 1, core::FormatError, attr_where(where_, name) + " is not a single number");
  return v[0];
}
uint64_t Object::attr_uint(const std::string& name) const {
  auto v = read_numbers<uint64_t>(open_attr(name), attr_where(where_, name));
  MDRL_CHECK(v.size() == 1, core::FormatError, attr_where(where_, name) + " is not a single number");
  return v[0];
}
double Object::attr_double(const std::string& name) const {
  auto v = read_numbers<double>(open_attr(name), attr_where(where_, name));
  MDRL_CHECK(v.size() == 1, core::FormatError, attr_where(where_, name) + " is not a single number");
  return v[0];
}
std::vector<int64_t> Object::attr_ints(const std::string& name) const {
  return read_numbers<int64_t>(open_attr(name), attr_where(where_, name));
}

std::vector<std::string> Object::attr_names() const {
  std::vector<std::string> names;
  auto collect = [](hid_t, const char* n, const H5A_info_t*, void* data) -> herr_t {
    static_cast<std::vector<std::string>*>(data)->emplace_back(n);
    return 0;
  };
  MDRL_CHECK_H5(H5Aiterate2(id(), H5_INDEX_NAME, H5_ITER_INC, nullptr, collect, &names), "listing attributes of " + where_);
  return names;
}

// ---- datasets --------------------------------------------------------------------------------------

std::vector<int64_t> Dataset::shape() const {
  Id space(MDRL_CHECK_H5(H5Dget_space(id()), where_), H5Sclose);
  const int nd = MDRL_CHECK_H5(H5Sget_simple_extent_ndims(space.get()), where_);
  std::vector<hsize_t> dims(static_cast<size_t>(nd));
  if (nd > 0) MDRL_CHECK_H5(H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr), where_);
  return {dims.begin(), dims.end()};
}

int64_t Dataset::rows() const {
  const auto s = shape();
  return s.empty() ? 1 : s[0];
}

int64_t Dataset::row_elements() const {
  const auto s = shape();
  int64_t n = 1;
  for (size_t i = 1; i < s.size(); ++i) n *= s[i];
  return n;
}

Type Dataset::stored_type() const {
  Id t(MDRL_CHECK_H5(H5Dget_type(id()), where_), H5Tclose);
  const size_t size = H5Tget_size(t.get());
  switch (H5Tget_class(t.get())) {
    case H5T_INTEGER: {
      const bool is_signed = H5Tget_sign(t.get()) == H5T_SGN_2;
      if (size == 1) return is_signed ? Type::I8 : Type::U8;
      if (size == 2) return is_signed ? Type::I16 : Type::U16;
      if (size == 4) return is_signed ? Type::I32 : Type::U32;
      if (size == 8) return is_signed ? Type::I64 : Type::U64;
      break;
    }
    case H5T_FLOAT:
      if (size == 4) return Type::F32;
      if (size == 8) return Type::F64;
      break;
    default: break;
  }
  throw core::FormatError(where_ + " has an element type mdrl does not read (" + std::to_string(size) +
                          "-byte, not an integer or IEEE float)");
}

void Dataset::set_rows(int64_t n) const {
  auto dims = shape();
  MDRL_CHECK(!dims.empty(), core::InternalError, "cannot resize scalar dataset " + where_);
  dims[0] = n;
  std::vector<hsize_t> d(dims.begin(), dims.end());
  MDRL_CHECK_H5(H5Dset_extent(id(), d.data()), "resizing " + where_ + " to " + std::to_string(n) + " rows");
}

void Dataset::transfer(int64_t first, int64_t count, Type type, void* data, bool write, Transfer xfer) const {
  const auto dims = shape();
  hid_t plist = H5P_DEFAULT;
  if (file_->parallel)
    plist = (xfer == Transfer::Collective ? file_->collective_xfer : file_->independent_xfer).get();
  hid_t mem = H5S_ALL, filesel = H5S_ALL;
  Id mem_space, file_space;
  if (!dims.empty()) {
    check_rows(first, count);
    file_space = Id(MDRL_CHECK_H5(H5Dget_space(id()), where_), H5Sclose);
    if (count == 0) {
      // A rank with nothing to write still joins the collective call, with empty selections.
      const hsize_t one = 1;
      mem_space = Id(MDRL_CHECK_H5(H5Screate_simple(1, &one, nullptr), where_), H5Sclose);
      MDRL_CHECK_H5(H5Sselect_none(mem_space.get()), where_);
      MDRL_CHECK_H5(H5Sselect_none(file_space.get()), where_);
    } else {
      std::vector<hsize_t> start(dims.size(), 0), cnt(dims.begin(), dims.end());
      start[0] = static_cast<hsize_t>(first);
      cnt[0] = static_cast<hsize_t>(count);
      MDRL_CHECK_H5(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr, cnt.data(), nullptr),
                    where_);
      mem_space = Id(MDRL_CHECK_H5(H5Screate_simple(static_cast<int>(cnt.size()), cnt.data(), nullptr), where_), H5Sclose);
    }
    mem = mem_space.get();
    filesel = file_space.get();
  }
  uint64_t dummy = 0;
  if (data == nullptr) data = &dummy;
  if (write) {
    MDRL_CHECK_H5(H5Dwrite(id(), memory_type(type), mem, filesel, plist, data), "writing " + where_);
  } else {
    MDRL_CHECK_H5(H5Dread(id(), memory_type(type), mem, filesel, plist, data), "reading " + where_);
  }
}

void Dataset::write_rows(int64_t first, int64_t count, Type type, const void* data, Transfer xfer) const {
  transfer(first, count, type, const_cast<void*>(data), true, xfer);
}

void Dataset::write_all(Type type, const void* data, Transfer xfer) const {
  transfer(0, rows(), type, const_cast<void*>(data), true, xfer);
}

void Dataset::check_rows(int64_t first, int64_t count) const {
  const int64_t n = rows();
  // first + count compared as count <= n - first: no overflow for any first, count from a file.
  MDRL_CHECK(first >= 0 && count >= 0 && first <= n && count <= n - first, core::FormatError,
             where_ + ": rows [" + std::to_string(first) + ", " + std::to_string(first) + " + " + std::to_string(count) +
                 ") are outside its " + std::to_string(n) + " rows");
}

void Dataset::read_rows(int64_t first, int64_t count, Type type, void* data) const {
  transfer(first, count, type, data, false, Transfer::Independent);
}

void Dataset::read_all(Type type, void* data) const { transfer(0, rows(), type, data, false, Transfer::Independent); }

}  // namespace mdrl::io::h5
