// A thin RAII layer over the HDF5 C API (DESIGN.md "RAII for every handle"): files opened with the
// MPI-IO driver on a communicator (the serial sec2 driver when the communicator has one process),
// groups, datasets (fixed or chunked with an unlimited first dimension, optional shuffle+deflate),
// attributes (UTF-8 strings, string lists, integers, floats), and row-block reads/writes by
// hyperslab with collective or independent transfer. Every failure throws core::Hdf5Error naming the
// file and the object ("run/traj.h5:/samples/step_map") and quoting HDF5's error stack.
//
// Parallel HDF5 rules the callers must keep (they are the library's, not ours): creating or opening
// objects, extending datasets and writing attributes are collective (every rank of the file's
// communicator calls them in the same order with the same arguments); writes to filtered
// (compressed) datasets must use collective transfer.
#pragma once

#include <hdf5.h>
#include <mpi.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mdrl::io::h5 {

// Owns one HDF5 identifier and closes it with the function for its kind.
class Id {
 public:
  using Closer = herr_t (*)(hid_t);
  Id() = default;
  Id(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  Id(Id&& o) noexcept : id_(o.id_), closer_(o.closer_) { o.id_ = H5I_INVALID_HID; }
  Id& operator=(Id&& o) noexcept;
  Id(const Id&) = delete;
  Id& operator=(const Id&) = delete;
  ~Id() { reset(); }

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  void reset() noexcept;
  // Forgets the id without closing it (a parallel file during unwinding: closing is collective).
  void release() noexcept { id_ = H5I_INVALID_HID; }
  // Closes now and reports failure (destructors cannot); `where` names the object in the message.
  void close(const std::string& where);

 private:
  hid_t id_ = H5I_INVALID_HID;
  Closer closer_ = nullptr;
};

// Element types the layer reads and writes. Files store them little-endian.
enum class Type { I8, U8, I16, U16, I32, U32, I64, U64, F32, F64 };
size_t type_size(Type t);
hid_t memory_type(Type t);  // H5T_NATIVE_*
hid_t file_type(Type t);    // H5T_STD_*LE / H5T_IEEE_*LE
const char* type_name(Type t);

template <class T>
constexpr Type type_of();

// Per-file facts shared by the objects opened in it.
struct FileInfo {
  std::string path;
  MPI_Comm comm = MPI_COMM_SELF;  // not owned; HDF5 duplicates it internally
  bool parallel = false;          // MPI-IO driver
  int rank = 0, size = 1;
  Id collective_xfer;             // dataset transfer property lists
  Id independent_xfer;
};

enum class Transfer { Collective, Independent };

// How a dataset is laid out. `chunk` empty = contiguous (fixed size only).
struct DatasetLayout {
  bool extendible = false;     // first dimension unlimited (requires chunk)
  std::vector<int64_t> chunk;  // chunk dimensions
  int deflate = 0;             // 0 = no compression, 1..9 = shuffle + deflate level
};

// Something attributes hang on (a group, a dataset or the file's root group).
class Object {
 public:
  const std::string& where() const { return where_; }  // "path.h5:/group/name", for messages
  hid_t id() const { return id_.get(); }
  const FileInfo& file() const { return *file_; }

  bool has_attr(const std::string& name) const;
  // Writing replaces an existing attribute of that name. Collective in parallel files.
  void set_attr(const std::string& name, const std::string& value) const;
  void set_attr(const std::string& name, const char* value) const { set_attr(name, std::string(value)); }
  void set_attr(const std::string& name, const std::vector<std::string>& values) const;
  void set_attr(const std::string& name, int64_t value) const;
  void set_attr(const std::string& name, uint64_t value) const;
  void set_attr(const std::string& name, double value) const;
  void set_attr(const std::string& name, const std::vector<int64_t>& values) const;

  // Reading converts numbers; a missing attribute or a wrong kind throws FormatError naming it.
  std::string attr_string(const std::string& name) const;
  std::vector<std::string> attr_strings(const std::string& name) const;
  int64_t attr_int(const std::string& name) const;
  uint64_t attr_uint(const std::string& name) const;
  double attr_double(const std::string& name) const;
  std::vector<int64_t> attr_ints(const std::string& name) const;
  std::vector<std::string> attr_names() const;

 protected:
  Object() = default;
  Object(Id id, std::shared_ptr<const FileInfo> file, std::string where)
      : id_(std::move(id)), file_(std::move(file)), where_(std::move(where)) {}
  void write_attr(const std::string& name, hid_t mem_type, hid_t file_type, const std::vector<hsize_t>& dims,
                  const void* data) const;
  Id open_attr(const std::string& name) const;

  Id id_;
  std::shared_ptr<const FileInfo> file_;
  std::string where_;
};

class Dataset : public Object {
 public:
  Dataset() = default;
  Dataset(Id id, std::shared_ptr<const FileInfo> file, std::string where)
      : Object(std::move(id), std::move(file), std::move(where)) {}

  std::vector<int64_t> shape() const;
  int64_t rows() const;  // first dimension (1 for a scalar)
  int64_t row_elements() const;  // product of the other dimensions
  Type stored_type() const;      // the file type, mapped to Type; FormatError for others

  // Grows or shrinks the first dimension (extendible datasets). Collective.
  void set_rows(int64_t rows) const;
  // Writes rows [first, first + count) from `data` (count * row_elements() values of `type`,
  // contiguous). With Transfer::Collective every rank calls, each with its own block (count may be 0).
  void write_rows(int64_t first, int64_t count, Type type, const void* data, Transfer xfer) const;
  // The whole dataset (or scalar); `data` holds rows() * row_elements() values.
  void write_all(Type type, const void* data, Transfer xfer) const;
  void read_rows(int64_t first, int64_t count, Type type, void* data) const;
  void read_all(Type type, void* data) const;
  // FormatError naming the dataset unless 0 <= first, 0 <= count and first + count <= rows().
  void check_rows(int64_t first, int64_t count) const;

  template <class T>
  std::vector<T> read_vector() const {
    std::vector<T> v(static_cast<size_t>(rows() * row_elements()));
    read_all(type_of<T>(), v.data());
    return v;
  }
  template <class T>
  std::vector<T> read_rows_vector(int64_t first, int64_t count) const {
    check_rows(first, count);  // before allocating: a damaged file's count may be negative or huge
    std::vector<T> v(static_cast<size_t>(count * row_elements()));
    read_rows(first, count, type_of<T>(), v.data());
    return v;
  }

 private:
  void transfer(int64_t first, int64_t count, Type type, void* data, bool write, Transfer xfer) const;
};

class Group : public Object {
 public:
  Group() = default;
  Group(Id id, std::shared_ptr<const FileInfo> file, std::string where)
      : Object(std::move(id), std::move(file), std::move(where)) {}

  // `name` may contain '/' (intermediate groups are created). Collective.
  Group create_group(const std::string& name) const;
  Group open_group(const std::string& name) const;
  bool exists(const std::string& name) const;  // a link of that name (a path) exists
  std::vector<std::string> children() const;   // link names, in name order

  // `shape` empty = scalar. Extendible datasets start with shape[0] rows. Collective.
  Dataset create_dataset(const std::string& name, Type type, const std::vector<int64_t>& shape,
                         const DatasetLayout& layout = {}) const;
  Dataset open_dataset(const std::string& name) const;

 protected:
  std::string child_where(const std::string& name) const;
};

enum class Access { ReadOnly, ReadWrite };

class File : public Group {
 public:
  File() = default;
  // Creates (truncating) `path` on `comm`: the MPI-IO driver when comm has several ranks, the serial
  // driver otherwise. Collective over comm.
  static File create(const std::string& path, MPI_Comm comm);
  // Opens an existing file; throws core::IoError naming it when it is missing or not a readable
  // HDF5 file (truncated, corrupt). Collective over comm.
  static File open(const std::string& path, MPI_Comm comm, Access access = Access::ReadOnly);

  File(File&&) noexcept = default;
  File& operator=(File&&) noexcept = default;
  ~File();

  const std::string& path() const { return file_->path; }
  bool parallel() const { return file_->parallel; }
  int rank() const { return file_->rank; }
  int size() const { return file_->size; }
  MPI_Comm comm() const { return file_->comm; }

  void flush() const;
  // Closes the file, reporting errors (the destructor closes silently). Every object opened in it
  // must be closed first. Collective.
  void close();

 private:
  Id file_id_;
};

// True when HDF5 was built with the deflate filter available for encoding.
bool deflate_available();

// ---- templates -------------------------------------------------------------------------------------

template <class T>
constexpr Type type_of() {
  if constexpr (std::is_same_v<T, int8_t>) return Type::I8;
  else if constexpr (std::is_same_v<T, uint8_t>) return Type::U8;
  else if constexpr (std::is_same_v<T, int16_t>) return Type::I16;
  else if constexpr (std::is_same_v<T, uint16_t>) return Type::U16;
  else if constexpr (std::is_same_v<T, int32_t>) return Type::I32;
  else if constexpr (std::is_same_v<T, uint32_t>) return Type::U32;
  else if constexpr (std::is_same_v<T, int64_t>) return Type::I64;
  else if constexpr (std::is_same_v<T, uint64_t>) return Type::U64;
  else if constexpr (std::is_same_v<T, float>) return Type::F32;
  else {
    static_assert(std::is_same_v<T, double>, "unsupported element type");
    return Type::F64;
  }
}

}  // namespace mdrl::io::h5
