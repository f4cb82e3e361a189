// HDF5 RAII layer: identifiers, element types, files (MPI-IO or serial driver), groups and datasets
// (attributes are in hdf5_attributes.cpp).
#include "io/hdf5.hpp"

#include <algorithm>
#include <exception>
#include <filesystem>

#include "core/check_hdf5.hpp"
#include "core/check_mpi.hpp"
#include "core/error.hpp"

namespace mdrl::io::h5 {

Id& Id::operator=(Id&& o) noexcept {
  if (this != &o) {
    reset();
    id_ = o.id_;
    closer_ = o.closer_;
    o.id_ = H5I_INVALID_HID;
  }
  return *this;
}

void Id::reset() noexcept {
  if (id_ >= 0 && closer_ != nullptr) closer_(id_);
  id_ = H5I_INVALID_HID;
}

void Id::close(const std::string& where) {
  if (id_ < 0) return;
  const hid_t id = id_;
  id_ = H5I_INVALID_HID;
  MDRL_CHECK_H5(closer_(id), "closing " + where);
}

size_t type_size(Type t) {
  switch (t) {
    case Type::I8: case Type::U8: return 1;
    case Type::I16: case Type::U16: return 2;
    case Type::I32: case Type::U32: case Type::F32: return 4;
    case Type::I64: case Type::U64: case Type::F64: return 8;
  }
  return 0;
}

hid_t memory_type(Type t) {
  switch (t) {
    case Type::I8: return H5T_NATIVE_INT8;
    case Type::U8: return H5T_NATIVE_UINT8;
    case Type::I16: return H5T_NATIVE_INT16;
    case Type::U16: return H5T_NATIVE_UINT16;
    case Type::I32: return H5T_NATIVE_INT32;
    case Type::U32: return H5T_NATIVE_UINT32;
    case Type::I64: return H5T_NATIVE_INT64;
    case Type::U64: return H5T_NATIVE_UINT64;
    case Type::F32: return H5T_NATIVE_FLOAT;
    case Type::F64: return H5T_NATIVE_DOUBLE;
  }
  return H5I_INVALID_HID;
}

hid_t file_type(Type t) {
  switch (t) {
    case Type::I8: return H5T_STD_I8LE;
    case Type::U8: return H5T_STD_U8LE;
    case Type::I16: return H5T_STD_I16LE;
    case Type::U16: return H5T_STD_U16LE;
    case Type::I32: return H5T_STD_I32LE;
    case Type::U32: return H5T_STD_U32LE;
    case Type::I64: return H5T_STD_I64LE;
    case Type::U64: return H5T_STD_U64LE;
    case Type::F32: return H5T_IEEE_F32LE;
    case Type::F64: return H5T_IEEE_F64LE;
  }
  return H5I_INVALID_HID;
}

const char* type_name(Type t) {
  switch (t) {
    case Type::I8: return "int8";
    case Type::U8: return "uint8";
    case Type::I16: return "int16";
    case Type::U16: return "uint16";
    case Type::I32: return "int32";
    case Type::U32: return "uint32";
    case Type::I64: return "int64";
    case Type::U64: return "uint64";
    case Type::F32: return "float32";
    case Type::F64: return "float64";
  }
  return "?";
}

bool deflate_available() {
  if (H5Zfilter_avail(H5Z_FILTER_DEFLATE) <= 0) return false;
  unsigned flags = 0;
  if (H5Zget_filter_info(H5Z_FILTER_DEFLATE, &flags) < 0) return false;
  return (flags & H5Z_FILTER_CONFIG_ENCODE_ENABLED) != 0;
}

// ---- File ------------------------------------------------------------------------------------------

namespace {

// File access properties: MPI-IO on comm when it has several ranks. The 1.8 format floor gives
// dense attribute storage (the resolved config can exceed the 64 KiB compact limit) while staying
// readable by every h5py.
std::shared_ptr<FileInfo> make_info(const std::string& path, MPI_Comm comm, Id& fapl) {
  auto info = std::make_shared<FileInfo>();
  info->path = path;
  info->comm = comm;
  // Readers in tools may run without MPI: then the file is opened serially by this process alone.
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized != 0) {
    MDRL_CHECK_MPI(MPI_Comm_rank(comm, &info->rank));
    MDRL_CHECK_MPI(MPI_Comm_size(comm, &info->size));
  }
  info->parallel = info->size > 1;
  fapl = Id(MDRL_CHECK_H5(H5Pcreate(H5P_FILE_ACCESS), path), H5Pclose);
  MDRL_CHECK_H5(H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V18, H5F_LIBVER_LATEST), path);
  info->collective_xfer = Id(MDRL_CHECK_H5(H5Pcreate(H5P_DATASET_XFER), path), H5Pclose);
  info->independent_xfer = Id(MDRL_CHECK_H5(H5Pcreate(H5P_DATASET_XFER), path), H5Pclose);
  if (info->parallel) {
    MDRL_CHECK_H5(H5Pset_fapl_mpio(fapl.get(), comm, MPI_INFO_NULL), path);
    // Metadata is flushed by all ranks together (one collective write instead of rank-0 bursts).
    MDRL_CHECK_H5(H5Pset_coll_metadata_write(fapl.get(), true), path);
    // No raw-data chunk cache: MPI-IO writes bypass it, so a chunk it kept (e.g. from shrinking a
    // dataset) would later be written back over newer rows.
    MDRL_CHECK_H5(H5Pset_cache(fapl.get(), 0, 0, 0, 0.75), path);
    MDRL_CHECK_H5(H5Pset_dxpl_mpio(info->collective_xfer.get(), H5FD_MPIO_COLLECTIVE), path);
    MDRL_CHECK_H5(H5Pset_dxpl_mpio(info->independent_xfer.get(), H5FD_MPIO_INDEPENDENT), path);
  }
  return info;
}

}  // namespace

File File::create(const std::string& path, MPI_Comm comm) {
  core::silence_hdf5_error_printing();
  Id fapl;
  auto info = make_info(path, comm, fapl);
  File f;
  f.file_id_ = Id(MDRL_CHECK_H5(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()),
                                "cannot create HDF5 file " + path + " (check the directory exists and is writable)"),
                  H5Fclose);
  f.id_ = Id(MDRL_CHECK_H5(H5Gopen2(f.file_id_.get(), "/", H5P_DEFAULT), path), H5Gclose);
  f.file_ = std::move(info);
  f.where_ = path + ":/";
  return f;
}

File File::open(const std::string& path, MPI_Comm comm, Access access) {
  core::silence_hdf5_error_printing();
  std::error_code ec;
  MDRL_CHECK(std::filesystem::is_regular_file(path, ec), core::IoError,
             "HDF5 file " + path + " does not exist or is not a regular file");
  Id fapl;
  auto info = make_info(path, comm, fapl);
  const unsigned flags = access == Access::ReadOnly ? H5F_ACC_RDONLY : H5F_ACC_RDWR;
  // Leads with what the user can act on, then HDF5's reason (e.g. "truncated file: eof = ...").
  hid_t fid = H5I_INVALID_HID;
  try {
    fid = MDRL_CHECK_H5(H5Fopen(path.c_str(), flags, fapl.get()),
                        "cannot open " + path +
                            " as an HDF5 file: it is truncated, corrupt or not HDF5 (a write that did not finish?); "
                            "restore or delete it");
  } catch (const core::Hdf5Error& e) {
    throw core::IoError(e.what());
  }
  File f;
  f.file_id_ = Id(fid, H5Fclose);
  f.id_ = Id(MDRL_CHECK_H5(H5Gopen2(fid, "/", H5P_DEFAULT), path), H5Gclose);
  f.file_ = std::move(info);
  f.where_ = path + ":/";
  return f;
}

File::~File() {
  if (file_ && file_->parallel && std::uncaught_exceptions() > 0) {
    // This rank is unwinding from an error: H5Fclose of an MPI-IO file is collective and would
    // wait for ranks that are elsewhere, so the job could never end. The handles are left open;
    // the error ends the job (MPI_Abort), and what was being written was a temporary.
    id_.release();
    file_id_.release();
    return;
  }
  id_.reset();  // the root group first: the MPI-IO driver refuses to close a file with open objects
  file_id_.reset();
}

void File::flush() const { MDRL_CHECK_H5(H5Fflush(file_id_.get(), H5F_SCOPE_GLOBAL), "flushing " + path()); }

void File::close() {
  if (!file_id_.valid()) return;
  id_.close(where_);
  file_id_.close(path());
}

// ---- Group -----------------------------------------------------------------------------------------

std::string Group::child_where(const std::string& name) const {
  std::string w = where_;
  if (w.empty() || w.back() != '/') w += '/';
  return w + name;
}

Group Group::create_group(const std::string& name) const {
  Id lcpl(MDRL_CHECK_H5(H5Pcreate(H5P_LINK_CREATE), child_where(name)), H5Pclose);
  MDRL_CHECK_H5(H5Pset_create_intermediate_group(lcpl.get(), 1), child_where(name));
  Id g(MDRL_CHECK_H5(H5Gcreate2(id(), name.c_str(), lcpl.get(), H5P_DEFAULT, H5P_DEFAULT),
                     "creating group " + child_where(name)),
       H5Gclose);
  return Group(std::move(g), file_, child_where(name));
}

Group Group::open_group(const std::string& name) const {
  MDRL_CHECK(exists(name), core::FormatError, "group " + child_where(name) + " is missing (not an mdrl file?)");
  Id g(MDRL_CHECK_H5(H5Gopen2(id(), name.c_str(), H5P_DEFAULT), "opening group " + child_where(name)), H5Gclose);
  return Group(std::move(g), file_, child_where(name));
}

bool Group::exists(const std::string& name) const {
  // H5Lexists checks one link; walk the path so "a/b" is false (not an error) when "a" is missing.
  std::string prefix;
  size_t start = 0;
  while (start <= name.size()) {
    const size_t slash = name.find('/', start);
    prefix = name.substr(0, slash == std::string::npos ? name.size() : slash);
    if (MDRL_CHECK_H5(H5Lexists(id(), prefix.c_str(), H5P_DEFAULT), "looking up " + child_where(prefix)) <= 0)
      return false;
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return true;
}

std::vector<std::string> Group::children() const {
  std::vector<std::string> names;
  auto collect = [](hid_t, const char* name, const H5L_info_t*, void* data) -> herr_t {
    static_cast<std::vector<std::string>*>(data)->emplace_back(name);
    return 0;
  };
  MDRL_CHECK_H5(H5Literate(id(), H5_INDEX_NAME, H5_ITER_INC, nullptr, collect, &names), "listing " + where_);
  return names;
}

Dataset Group::create_dataset(const std::string& name, Type type, const std::vector<int64_t>& shape,
                              const DatasetLayout& layout) const {
  const std::string w = child_where(name);
  std::vector<hsize_t> dims(shape.begin(), shape.end()), maxdims = dims;
  if (layout.extendible) {
    MDRL_CHECK(!shape.empty() && !layout.chunk.empty(), core::InternalError,
               "extendible dataset " + w + " needs a rank >= 1 and a chunk shape");
    maxdims[0] = H5S_UNLIMITED;
  }
  Id space(shape.empty() ? MDRL_CHECK_H5(H5Screate(H5S_SCALAR), w)
                         : MDRL_CHECK_H5(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), maxdims.data()), w),
           H5Sclose);
  Id dcpl(MDRL_CHECK_H5(H5Pcreate(H5P_DATASET_CREATE), w), H5Pclose);
  if (!layout.chunk.empty()) {
    MDRL_CHECK(layout.chunk.size() == shape.size(), core::InternalError, "chunk rank differs from shape for " + w);
    std::vector<hsize_t> chunk;
    for (int64_t c : layout.chunk) chunk.push_back(static_cast<hsize_t>(std::max<int64_t>(c, 1)));
    MDRL_CHECK_H5(H5Pset_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data()), w);
    if (layout.deflate > 0) {
      MDRL_CHECK_H5(H5Pset_shuffle(dcpl.get()), w);
      MDRL_CHECK_H5(H5Pset_deflate(dcpl.get(), static_cast<unsigned>(layout.deflate)), w);
    }
  }
  // Every element is written before it is read, so no fill pass (saves a full write on allocation).
  MDRL_CHECK_H5(H5Pset_fill_time(dcpl.get(), H5D_FILL_TIME_NEVER), w);
  Id lcpl(MDRL_CHECK_H5(H5Pcreate(H5P_LINK_CREATE), w), H5Pclose);
  MDRL_CHECK_H5(H5Pset_create_intermediate_group(lcpl.get(), 1), w);
  Id d(MDRL_CHECK_H5(H5Dcreate2(id(), name.c_str(), file_type(type), space.get(), lcpl.get(), dcpl.get(), H5P_DEFAULT),
                     "creating dataset " + w),
       H5Dclose);
  return Dataset(std::move(d), file_, w);
}

Dataset Group::open_dataset(const std::string& name) const {
  MDRL_CHECK(exists(name), core::FormatError, "dataset " + child_where(name) + " is missing (not an mdrl file?)");
  Id d(MDRL_CHECK_H5(H5Dopen2(id(), name.c_str(), H5P_DEFAULT), "opening dataset " + child_where(name)), H5Dclose);
  return Dataset(std::move(d), file_, child_where(name));
}

}  // namespace mdrl::io::h5
