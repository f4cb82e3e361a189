// libFuzzer harness: safetensors files and the sharded-checkpoint index (io/safetensors.hpp,
// spec model.md §3.3). Input: one byte choosing the kind (even: a .safetensors file; odd: a
// model.safetensors.index.json beside two valid shards), then the file. A malformed file is a
// FormatError (or InputError) naming it; every tensor of a file that opens views exactly its
// data_offsets bytes and can be read whole.
#include <ATen/ATen.h>

#include <cstdint>
#include <cstring>

#include "fuzz_support.hpp"
#include "io/safetensors.hpp"

namespace {

// A safetensors file by hand: 8-byte length, header JSON padded to 8 bytes, data.
std::string shard(const std::string& header, const std::string& data) {
  std::string h = header;
  h.append((8 - h.size() % 8) % 8, ' ');
  std::string out(8, '\0');
  const uint64_t n = h.size();
  std::memcpy(out.data(), &n, 8);
  return out + h + data;
}

template <class Source>
void read_all(const Source& src, const std::vector<std::string>& names) {
  for (const auto& name : names) {
    const auto& e = src.entry(name);
    at::Tensor t = src.tensor(name);
    if (static_cast<uint64_t>(t.nbytes()) != e.end - e.begin)
      mdrl::fuzz::finding("tensor view size differs from its data_offsets", name.c_str());
    // Reads every byte (ASan reports a view that reaches past the mapping).
    (void)t.contiguous().to(at::kDouble).sum().item<double>();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view bytes = mdrl::fuzz::as_text(data + 1, size - 1);
  if (data[0] % 2 == 0) {
    const std::string path = mdrl::fuzz::write_scratch("fuzz.safetensors", bytes);
    mdrl::fuzz::expect_clean(
        [&] {
          mdrl::io::SafetensorsFile f(path);
          (void)f.metadata();
          read_all(f, f.names());
        },
        path);
    return 0;
  }
  static const bool shards_written = [] {
    std::filesystem::create_directories(mdrl::fuzz::scratch_dir() / "ckpt");
    const std::string f32(8, '\0');
    mdrl::fuzz::write_scratch(
        "ckpt/model-00001-of-00002.safetensors",
        shard(R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
              R"("b":{"dtype":"I8","shape":[3],"data_offsets":[8,11]}})",
              f32 + "abc"));
    mdrl::fuzz::write_scratch("ckpt/model-00002-of-00002.safetensors",
                              shard(R"({"c":{"dtype":"BF16","shape":[1,2],"data_offsets":[0,4]}})", "wxyz"));
    return true;
  }();
  (void)shards_written;
  mdrl::fuzz::write_scratch("ckpt/model.safetensors.index.json", bytes);
  const std::string folder = (mdrl::fuzz::scratch_dir() / "ckpt").string();
  mdrl::fuzz::expect_clean(
      [&] {
        mdrl::io::SafetensorsCheckpoint c(folder);
        read_all(c, c.names());
        for (const auto& n : c.names()) (void)c.file_of(n);
      },
      folder);
  return 0;
}
