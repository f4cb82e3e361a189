// safetensors files (spec model.md §3.3): an 8-byte little-endian header length, a JSON header
// mapping tensor names to {dtype, shape, data_offsets} plus optional "__metadata__", then raw
// little-endian C-contiguous data. Reading memory-maps the file and hands out zero-copy views;
// every malformed input is a FormatError naming the file (and tensor). Sharded checkpoints are a
// folder with model.safetensors.index.json ({"metadata", "weight_map": name -> shard file}).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace mdrl::io {

using NamedTensorList = std::vector<std::pair<std::string, at::Tensor>>;

struct SafetensorsEntry {
  std::string dtype;           // "F32", "BF16", ...
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;  // byte range in the data section
};

class SafetensorsFile {
 public:
  // Maps and validates the whole header; throws core::IoError (cannot open) or core::FormatError.
  explicit SafetensorsFile(const std::string& path);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const { return path_; }
  std::vector<std::string> names() const;  // in file order of their data
  bool contains(const std::string& name) const { return entries_.count(name) != 0; }
  const SafetensorsEntry& entry(const std::string& name) const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

  // A read-only CPU view of the mapped bytes (no copy), kept alive by the view itself. Copy it
  // (param.copy_(view), view.to(...), view.clone()) before writing to it.
  at::Tensor tensor(const std::string& name) const;

 private:
  struct Mapping;
  std::string path_;
  std::shared_ptr<Mapping> map_;
  const uint8_t* data_ = nullptr;  // first byte after the header
  uint64_t data_size_ = 0;
  std::map<std::string, SafetensorsEntry> entries_;
  std::map<std::string, std::string> metadata_;
};

// Writes `tensors` (any device; copied to CPU, contiguous) to `path` through a temporary file
// renamed on success, so a failure never leaves a partial file under the final name.
void write_safetensors(const std::string& path, const NamedTensorList& tensors,
                       const std::map<std::string, std::string>& metadata = {{"format", "pt"}});

// A Hugging Face weights folder: model.safetensors.index.json with its shards, or a single
// model.safetensors; a path to a .safetensors file also works.
class SafetensorsCheckpoint {
 public:
  explicit SafetensorsCheckpoint(const std::string& path);
  std::vector<std::string> names() const;
  bool contains(const std::string& name) const { return where_.count(name) != 0; }
  const SafetensorsEntry& entry(const std::string& name) const;
  at::Tensor tensor(const std::string& name) const;
  const std::string& path() const { return path_; }
  // The shard file holding `name`, for messages.
  const std::string& file_of(const std::string& name) const;

 private:
  std::string path_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, size_t> where_;
};

// Writes a folder in the Hugging Face layout: shards of at most max_shard_bytes named
// <prefix>-0000i-of-0000n.safetensors and <prefix>.safetensors.index.json (or a single
// <prefix>.safetensors when everything fits in one shard).
void write_safetensors_checkpoint(const std::string& folder, const NamedTensorList& tensors,
                                  int64_t max_shard_bytes = int64_t{5} << 30, const std::string& prefix = "model");

// "BF16" <-> at::kBFloat16 and friends; unknown names are a FormatError naming `where`.
at::ScalarType scalar_type_from_safetensors(const std::string& dtype, const std::string& where);
std::string safetensors_dtype_name(at::ScalarType type);

}  // namespace mdrl::io
