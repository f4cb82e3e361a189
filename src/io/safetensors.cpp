#include "io/safetensors.hpp"

#include <ATen/ATen.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.hpp"

static_assert(std::endian::native == std::endian::little, "safetensors data is little-endian");

namespace mdrl::io {

using core::FormatError;
using core::InputError;
using core::IoError;
using nlohmann::json;

namespace {
// Headers of real checkpoints are a few hundred KiB; 100 MiB rejects garbage lengths early.
constexpr uint64_t kMaxHeader = uint64_t{100} << 20;

struct DtypeName {
  const char* name;
  at::ScalarType type;
};
constexpr DtypeName kDtypes[] = {{"F64", at::kDouble}, {"F32", at::kFloat},   {"F16", at::kHalf},
                                 {"BF16", at::kBFloat16}, {"I64", at::kLong}, {"I32", at::kInt},
                                 {"I16", at::kShort},   {"I8", at::kChar},    {"U8", at::kByte},
                                 {"BOOL", at::kBool}};
}  // namespace

at::ScalarType scalar_type_from_safetensors(const std::string& dtype, const std::string& where) {
  for (const auto& d : kDtypes)
    if (dtype == d.name) return d.type;
  throw FormatError(where + ": unsupported dtype '" + dtype +
                    "' (supported: F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL)");
}

std::string safetensors_dtype_name(at::ScalarType type) {
  for (const auto& d : kDtypes)
    if (type == d.type) return d.name;
  throw FormatError(std::string("no safetensors dtype for ") + c10::toString(type));
}

struct SafetensorsFile::Mapping {
  void* addr = MAP_FAILED;
  size_t size = 0;
  ~Mapping() {
    if (addr != MAP_FAILED) munmap(addr, size);
  }
};

SafetensorsFile::SafetensorsFile(const std::string& path) : path_(path), map_(std::make_shared<Mapping>()) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw InputError("cannot open safetensors file '" + path + "': " + std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    ::close(fd);
    throw InputError("cannot stat '" + path + "': " + std::strerror(errno));
  }
  const auto file_size = static_cast<uint64_t>(st.st_size);
  if (file_size < 8) {
    ::close(fd);
    throw FormatError(path + ": file of " + std::to_string(file_size) +
                      " bytes is too short for a safetensors header (truncated download?)");
  }
  map_->size = file_size;
  map_->addr = mmap(nullptr, file_size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map_->addr == MAP_FAILED) throw InputError("cannot map '" + path + "': " + std::strerror(errno));
  const auto* base = static_cast<const uint8_t*>(map_->addr);

  uint64_t header_len = 0;
  std::memcpy(&header_len, base, 8);
  if (header_len > file_size - 8 || header_len > kMaxHeader)
    throw FormatError(path + ": header length " + std::to_string(header_len) + " exceeds the file (" +
                      std::to_string(file_size) + " bytes); the file is truncated or not safetensors");
  data_ = base + 8 + header_len;
  data_size_ = file_size - 8 - header_len;

  json header;
  try {
    header = json::parse(reinterpret_cast<const char*>(base + 8), reinterpret_cast<const char*>(data_));
  } catch (const json::exception& e) {
    throw FormatError(path + ": header is not valid JSON: " + e.what());
  }
  if (!header.is_object()) throw FormatError(path + ": header is not a JSON object");

  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (const auto& [name, v] : header.items()) {
    const std::string where = path + ": tensor '" + name + "'";
    if (name == "__metadata__") {
      if (!v.is_object()) throw FormatError(path + ": __metadata__ is not an object");
      for (const auto& [k, mv] : v.items()) {
        if (!mv.is_string()) throw FormatError(path + ": __metadata__ value of '" + k + "' is not a string");
        metadata_[k] = mv.get<std::string>();
      }
      continue;
    }
    if (!v.is_object() || !v.contains("dtype") || !v.contains("shape") || !v.contains("data_offsets"))
      throw FormatError(where + " lacks dtype, shape or data_offsets");
    SafetensorsEntry e;
    if (!v["dtype"].is_string()) throw FormatError(where + ": dtype is not a string");
    e.dtype = v["dtype"].get<std::string>();
    const at::ScalarType type = scalar_type_from_safetensors(e.dtype, where);
    if (!v["shape"].is_array()) throw FormatError(where + ": shape is not an array");
    uint64_t numel = 1;
    for (const auto& d : v["shape"]) {
      if (!d.is_number_unsigned()) throw FormatError(where + ": shape has a negative or non-integer dimension");
      const auto dim = d.get<uint64_t>();
      if (dim > (uint64_t{1} << 48)) throw FormatError(where + ": dimension " + std::to_string(dim) + " is absurd");
      e.shape.push_back(static_cast<int64_t>(dim));
      // Checked: a product that wraps around 2**64 (e.g. [2**33, 2**31]) would pass the byte check below.
      if (__builtin_mul_overflow(numel, dim, &numel) || numel > (uint64_t{1} << 48))
        throw FormatError(where + ": shape has more than 2**48 elements");
    }
    const auto& off = v["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      throw FormatError(where + ": data_offsets must be [begin, end] with non-negative integers");
    e.begin = off[0].get<uint64_t>();
    e.end = off[1].get<uint64_t>();
    if (e.end < e.begin || e.end > data_size_)
      throw FormatError(where + ": data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
                        ") lie outside the data section of " + std::to_string(data_size_) + " bytes");
    const uint64_t expect = numel * c10::elementSize(type);
    if (e.end - e.begin != expect)
      throw FormatError(where + ": " + std::to_string(e.end - e.begin) + " bytes of data for shape and dtype " +
                        e.dtype + " needing " + std::to_string(expect));
    ranges.emplace_back(e.begin, e.end);
    entries_.emplace(name, std::move(e));
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i) {
    if (ranges[i].first < ranges[i - 1].second) {
      std::string a, b;
      for (const auto& [n, e] : entries_) {
        if (e.begin == ranges[i - 1].first && e.end == ranges[i - 1].second && a.empty()) a = n;
        else if (e.begin == ranges[i].first && e.end == ranges[i].second) b = n;
      }
      throw FormatError(path + ": tensors '" + a + "' and '" + b + "' overlap in the data section");
    }
  }
}

SafetensorsFile::~SafetensorsFile() = default;

std::vector<std::string> SafetensorsFile::names() const {
  std::vector<std::string> out;
  for (const auto& [n, e] : entries_) out.push_back(n);
  std::sort(out.begin(), out.end(), [&](const auto& a, const auto& b) { return entries_.at(a).begin < entries_.at(b).begin; });
  return out;
}

const SafetensorsEntry& SafetensorsFile::entry(const std::string& name) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) throw FormatError(path_ + ": no tensor named '" + name + "'");
  return it->second;
}

at::Tensor SafetensorsFile::tensor(const std::string& name) const {
  const SafetensorsEntry& e = entry(name);
  const at::ScalarType type = scalar_type_from_safetensors(e.dtype, path_);
  const uint8_t* p = data_ + e.begin;
  const auto opts = at::TensorOptions().dtype(type);
  if (reinterpret_cast<uintptr_t>(p) % c10::elementSize(type) != 0) {
    // Misaligned data (legal in the format): copy into an aligned tensor.
    at::Tensor t = at::empty(e.shape, opts);
    if (e.end > e.begin) std::memcpy(t.data_ptr(), p, e.end - e.begin);  // an empty tensor has no data_ptr
    return t;
  }
  auto keep = map_;  // the view owns a reference to the mapping
  return at::from_blob(const_cast<uint8_t*>(p), e.shape, [keep](void*) {}, opts);
}

void write_safetensors(const std::string& path, const NamedTensorList& tensors,
                       const std::map<std::string, std::string>& metadata) {
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<at::Tensor> cpu;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    MDRL_CHECK(!header.contains(name), core::InternalError, "write_safetensors: duplicate tensor name " + name);
    at::Tensor c = t.detach().to(at::kCPU).contiguous();
    const uint64_t bytes = static_cast<uint64_t>(c.numel()) * c.element_size();
    header[name] = {{"dtype", safetensors_dtype_name(c.scalar_type())},
                    {"shape", c.sizes().vec()},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    cpu.push_back(std::move(c));
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // data starts 8-byte aligned
  const std::string tmp = path + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw IoError("cannot write '" + tmp + "': " + std::strerror(errno));
    const uint64_t n = text.size();
    out.write(reinterpret_cast<const char*>(&n), 8);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    for (const auto& c : cpu)
      out.write(static_cast<const char*>(c.data_ptr()), static_cast<std::streamsize>(c.numel() * c.element_size()));
    out.flush();
    if (!out) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      throw IoError("writing '" + tmp + "' failed (disk full?)");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw IoError("cannot rename '" + tmp + "' to '" + path + "': " + ec.message());
  }
}

SafetensorsCheckpoint::SafetensorsCheckpoint(const std::string& path) : path_(path) {
  namespace fs = std::filesystem;
  std::vector<std::string> shards;
  std::map<std::string, std::string> weight_map;
  const fs::path p(path);
  if (fs::is_regular_file(p)) {
    shards.push_back(path);
  } else if (fs::exists(p / "model.safetensors.index.json")) {
    const std::string index = (p / "model.safetensors.index.json").string();
    std::ifstream in(index);
    json j;
    try {
      j = json::parse(in);
    } catch (const json::exception& e) {
      throw FormatError(index + ": not valid JSON: " + e.what());
    }
    if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
      throw FormatError(index + ": no \"weight_map\" object");
    for (const auto& [name, file] : j["weight_map"].items()) {
      if (!file.is_string()) throw FormatError(index + ": weight_map entry '" + name + "' is not a file name");
      // Shards lie in the checkpoint folder: a plain file name, never a path out of it.
      const std::string shard = file.get<std::string>();
      if (shard.empty() || shard == "." || shard == ".." || shard.find('/') != std::string::npos)
        throw FormatError(index + ": weight_map entry '" + name + "' names '" + shard +
                          "'; shards must be file names in the checkpoint folder");
      weight_map[name] = shard;
      if (std::find(shards.begin(), shards.end(), shard) == shards.end()) shards.push_back(shard);
    }
    for (auto& s : shards) s = (p / s).string();
  } else if (fs::exists(p / "model.safetensors")) {
    shards.push_back((p / "model.safetensors").string());
  } else {
    throw InputError("'" + path + "' holds neither model.safetensors.index.json nor model.safetensors");
  }
  for (size_t i = 0; i < shards.size(); ++i) {
    files_.push_back(std::make_unique<SafetensorsFile>(shards[i]));
    for (const auto& n : files_.back()->names()) {
      if (!where_.emplace(n, i).second)
        throw FormatError("tensor '" + n + "' appears in both " + files_[where_[n]]->path() + " and " + shards[i]);
    }
  }
  // The index and the shards must agree.
  for (const auto& [name, file] : weight_map) {
    auto it = where_.find(name);
    if (it == where_.end())
      throw FormatError(path + "/model.safetensors.index.json lists '" + name + "' in " + file +
                        ", but that shard does not contain it");
    if (fs::path(files_[it->second]->path()).filename() != fs::path(file).filename())
      throw FormatError(path + "/model.safetensors.index.json places '" + name + "' in " + file + ", but it is in " +
                        files_[it->second]->path());
  }
}

std::vector<std::string> SafetensorsCheckpoint::names() const {
  std::vector<std::string> out;
  for (const auto& [n, i] : where_) out.push_back(n);
  return out;
}

const std::string& SafetensorsCheckpoint::file_of(const std::string& name) const {
  auto it = where_.find(name);
  if (it == where_.end()) throw FormatError(path_ + ": no tensor named '" + name + "'");
  return files_[it->second]->path();
}

const SafetensorsEntry& SafetensorsCheckpoint::entry(const std::string& name) const {
  auto it = where_.find(name);
  if (it == where_.end()) throw FormatError(path_ + ": no tensor named '" + name + "'");
  return files_[it->second]->entry(name);
}

at::Tensor SafetensorsCheckpoint::tensor(const std::string& name) const {
  auto it = where_.find(name);
  if (it == where_.end()) throw FormatError(path_ + ": no tensor named '" + name + "'");
  return files_[it->second]->tensor(name);
}

void write_safetensors_checkpoint(const std::string& folder, const NamedTensorList& tensors, int64_t max_shard_bytes,
                                  const std::string& prefix) {
  namespace fs = std::filesystem;
  fs::create_directories(folder);
  std::vector<NamedTensorList> shards(1);
  int64_t used = 0, total = 0;
  for (const auto& nt : tensors) {
    const int64_t bytes = nt.second.numel() * static_cast<int64_t>(nt.second.element_size());
    if (used > 0 && used + bytes > max_shard_bytes) {
      shards.emplace_back();
      used = 0;
    }
    shards.back().push_back(nt);
    used += bytes;
    total += bytes;
  }
  if (shards.size() == 1) {
    write_safetensors((fs::path(folder) / (prefix + ".safetensors")).string(), shards[0]);
    return;
  }
  json index = {{"metadata", {{"total_size", total}}}, {"weight_map", json::object()}};
  const size_t n = shards.size();
  for (size_t i = 0; i < n; ++i) {
    char name[128];
    std::snprintf(name, sizeof name, "%s-%05zu-of-%05zu.safetensors", prefix.c_str(), i + 1, n);
    write_safetensors((fs::path(folder) / name).string(), shards[i]);
    for (const auto& [t, v] : shards[i]) index["weight_map"][t] = name;
  }
  const std::string index_path = (fs::path(folder) / (prefix + ".safetensors.index.json")).string();
  const std::string tmp = index_path + ".tmp";
  {
    std::ofstream out(tmp);
    out << index.dump(2) << "\n";
    if (!out) throw IoError("cannot write '" + tmp + "'");
  }
  fs::rename(tmp, index_path);
}

}  // namespace mdrl::io
