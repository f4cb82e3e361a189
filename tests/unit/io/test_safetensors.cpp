// safetensors: bit-exact round trips for every dtype, sharded folders, and every malformed-file case
// failing with a message that names the file and tensor.
#include <torch/torch.h>

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "io/safetensors.hpp"
#include "test_support.hpp"

using namespace mdrl;

namespace {
// A file with a hand-written header and `data_bytes` bytes of data.
std::string write_raw(const test::TempDir& dir, const std::string& name, const std::string& header, size_t data_bytes,
                      int64_t header_len_override = -1) {
  const auto path = (dir.path() / name).string();
  std::ofstream out(path, std::ios::binary);
  const uint64_t n = header_len_override >= 0 ? static_cast<uint64_t>(header_len_override) : header.size();
  out.write(reinterpret_cast<const char*>(&n), 8);
  out << header << std::string(data_bytes, '\0');
  return path;
}

std::string error_of(const std::string& path) {
  try {
    io::SafetensorsFile f(path);
  } catch (const core::Error& e) {
    return e.what();
  }
  return "no error";
}
bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }
}  // namespace

BOOST_AUTO_TEST_SUITE(safetensors)

BOOST_AUTO_TEST_CASE(round_trip_every_dtype_bit_exact) {
  test::TempDir dir;
  torch::manual_seed(0);
  io::NamedTensorList ts = {
      {"f32", torch::randn({3, 5})},
      {"f64", torch::randn({7}, torch::kDouble)},
      {"bf16", torch::randn({4, 4}).to(torch::kBFloat16)},
      {"f16", torch::randn({2, 3, 2}).to(torch::kHalf)},
      {"i64", torch::randint(-1000000, 1000000, {9}, torch::kLong)},
      {"i32", torch::randint(-1000, 1000, {1, 3}, torch::kInt)},
      {"u8", torch::randint(0, 255, {5}, torch::kByte)},
      {"bool", torch::rand({6}) > 0.5},
      {"scalar", torch::tensor(3.5f).reshape({})},
      {"empty", torch::zeros({0, 4})},
      {"strided", torch::arange(12, torch::kFloat).reshape({3, 4}).t()},  // written contiguous
  };
  const auto path = (dir.path() / "all.safetensors").string();
  io::write_safetensors(path, ts, {{"format", "pt"}, {"note", "test"}});
  io::SafetensorsFile f(path);
  BOOST_TEST(f.metadata().at("note") == "test");
  BOOST_TEST(f.names().size() == ts.size());
  for (const auto& [name, t] : ts) {
    const auto back = f.tensor(name);
    BOOST_TEST(back.scalar_type() == t.scalar_type(), name);
    BOOST_TEST(back.sizes().vec() == t.sizes().vec(), name);
    // Bit-exact: compare the raw bytes (an empty tensor has none, and may have no data pointer:
    // memcmp of a null pointer is undefined even for 0 bytes, which UBSan reports).
    const auto a = t.contiguous(), b = back.contiguous();
    BOOST_TEST((a.numel() == 0 || std::memcmp(a.data_ptr(), b.data_ptr(), a.numel() * a.element_size()) == 0), name);
  }
  BOOST_TEST(!std::filesystem::exists(path + ".tmp" + std::to_string(getpid())));  // no temporary left
}

BOOST_AUTO_TEST_CASE(sharded_folder_round_trip) {
  test::TempDir dir;
  io::NamedTensorList ts;
  for (int i = 0; i < 6; ++i) ts.emplace_back("w" + std::to_string(i), torch::full({64}, static_cast<float>(i)));
  io::write_safetensors_checkpoint(dir.path().string(), ts, 600);  // 256 bytes each: 2 per shard
  BOOST_TEST(std::filesystem::exists(dir.path() / "model.safetensors.index.json"));
  BOOST_TEST(std::filesystem::exists(dir.path() / "model-00003-of-00003.safetensors"));
  io::SafetensorsCheckpoint c(dir.path().string());
  BOOST_TEST(c.names().size() == 6u);
  for (const auto& [n, t] : ts) BOOST_TEST(torch::equal(c.tensor(n), t));
  BOOST_TEST(has(c.file_of("w5"), "model-00003-of-00003.safetensors"));
  // The index must agree with the shards.
  std::ofstream(dir.path() / "model.safetensors.index.json")
      << R"({"weight_map": {"w0": "model-00001-of-00003.safetensors", "ghost": "model-00001-of-00003.safetensors"}})";
  try {
    io::SafetensorsCheckpoint bad(dir.path().string());
    BOOST_FAIL("no error");
  } catch (const core::FormatError& e) {
    BOOST_TEST(has(e.what(), "lists 'ghost'"), e.what());
  }
}

BOOST_AUTO_TEST_CASE(malformed_files) {
  test::TempDir dir;
  const auto good = R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})";
  BOOST_TEST(error_of(write_raw(dir, "ok.st", good, 8)) == "no error");

  const auto short_path = (dir.path() / "short.st").string();
  std::ofstream(short_path) << "abc";
  BOOST_TEST(has(error_of(short_path), "short.st: file of 3 bytes is too short"), error_of(short_path));
  BOOST_TEST(has(error_of(write_raw(dir, "len.st", good, 8, 1 << 20)), "len.st: header length 1048576 exceeds the file"));
  BOOST_TEST(has(error_of(write_raw(dir, "json.st", "{not json", 0)), "json.st: header is not valid JSON"));
  BOOST_TEST(has(error_of(write_raw(dir, "arr.st", "[1,2]", 0)), "header is not a JSON object"));
  BOOST_TEST(has(error_of(write_raw(dir, "dtype.st", R"({"a": {"dtype": "Q4", "shape": [2], "data_offsets": [0, 8]}})", 8)),
                 "dtype.st: tensor 'a': unsupported dtype 'Q4'"));
  BOOST_TEST(has(error_of(write_raw(dir, "range.st", R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 16]}})", 8)),
                 "range.st: tensor 'a': data_offsets [0, 16) lie outside the data section of 8 bytes"));
  BOOST_TEST(has(error_of(write_raw(dir, "size.st", R"({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}})", 8)),
                 "size.st: tensor 'a': 8 bytes of data for shape and dtype F32 needing 12"));
  BOOST_TEST(has(error_of(write_raw(dir, "neg.st", R"({"a": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}})", 8)),
                 "negative or non-integer dimension"));
  BOOST_TEST(has(error_of(write_raw(dir, "over.st",
                                    R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                        "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})",
                                    12)),
                 "tensors 'a' and 'b' overlap"));
  BOOST_TEST(has(error_of(write_raw(dir, "keys.st", R"({"a": {"dtype": "F32", "shape": [2]}})", 8)),
                 "tensor 'a' lacks dtype, shape or data_offsets"));
  BOOST_TEST(has(error_of((dir.path() / "missing.st").string()), "cannot open safetensors file"));
  io::SafetensorsFile ok((dir.path() / "ok.st").string());
  BOOST_CHECK_THROW(ok.tensor("nope"), core::FormatError);
}

BOOST_AUTO_TEST_SUITE_END()
