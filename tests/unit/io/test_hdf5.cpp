// The HDF5 RAII layer on one process: attributes of every kind, extendible datasets and row
// blocks, tensors of every dtype restored bit-exactly, and the errors for missing, corrupt and
// truncated files (which must name the file).
#include <torch/torch.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>

#include "core/error.hpp"
#include "io/hdf5.hpp"
#include "io/tensor_h5.hpp"
#include "test_support.hpp"
#include "unit/io/checkpoint_fixture.hpp"

using namespace mdrl;
namespace h5 = mdrl::io::h5;

namespace {
bool message_has(const std::exception& e, const std::string& text) {
  return std::string(e.what()).find(text) != std::string::npos;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(hdf5_layer)

BOOST_AUTO_TEST_CASE(attributes_round_trip) {
  test::TempDir dir;
  const std::string path = (dir.path() / "a.h5").string();
  {
    auto f = h5::File::create(path, MPI_COMM_SELF);
    BOOST_TEST(!f.parallel());
    const std::string big(100000, 'x');  // beyond the 64 KiB compact attribute limit
    f.set_attr("text", std::string("héllo\nworld"));
    f.set_attr("big", big);
    f.set_attr("empty", std::string());
    f.set_attr("list", std::vector<std::string>{"a", "", "ccc"});
    f.set_attr("no_items", std::vector<std::string>{});
    f.set_attr("i", int64_t{-5});
    f.set_attr("u", uint64_t{0xfedcba9876543210ull});
    f.set_attr("d", 0.1);
    f.set_attr("ints", std::vector<int64_t>{1, -2, 3});
    f.set_attr("i", int64_t{7});  // replaces
    auto g = f.create_group("a/b");
    g.set_attr("x", 1.5);
    f.close();
  }
  auto f = h5::File::open(path, MPI_COMM_SELF);
  BOOST_TEST(f.attr_string("text") == "héllo\nworld");
  BOOST_TEST(f.attr_string("big").size() == 100000u);
  BOOST_TEST(f.attr_string("empty").empty());
  BOOST_TEST((f.attr_strings("list") == std::vector<std::string>{"a", "", "ccc"}));
  BOOST_TEST(f.attr_strings("no_items").empty());
  BOOST_TEST(f.attr_int("i") == 7);
  BOOST_TEST(f.attr_uint("u") == 0xfedcba9876543210ull);
  BOOST_TEST(f.attr_double("d") == 0.1);
  BOOST_TEST((f.attr_ints("ints") == std::vector<int64_t>{1, -2, 3}));
  BOOST_TEST(f.open_group("a/b").attr_double("x") == 1.5);
  BOOST_TEST(f.exists("a/b"));
  BOOST_TEST(!f.exists("a/c/d"));
  BOOST_TEST((f.children() == std::vector<std::string>{"a"}));
  try {
    f.attr_int("missing");
    BOOST_FAIL("no error for a missing attribute");
  } catch (const core::FormatError& e) {
    BOOST_TEST(message_has(e, path));
    BOOST_TEST(message_has(e, "'missing'"));
  }
  BOOST_CHECK_THROW(f.attr_int("text"), core::FormatError);
  BOOST_CHECK_THROW(f.open_dataset("nope"), core::FormatError);
}

BOOST_AUTO_TEST_CASE(extendible_dataset_rows) {
  test::TempDir dir;
  const std::string path = (dir.path() / "d.h5").string();
  for (int deflate : {0, 4}) {
    {
      auto f = h5::File::create(path, MPI_COMM_SELF);
      auto d = f.create_dataset("g/x", h5::Type::I16, {0, 3}, {true, {4, 3}, deflate});
      std::vector<int16_t> a = {1, 2, 3, 4, 5, 6}, b = {7, 8, 9};
      d.set_rows(2);
      d.write_rows(0, 2, h5::Type::I16, a.data(), h5::Transfer::Collective);
      d.set_rows(3);
      d.write_rows(2, 1, h5::Type::I16, b.data(), h5::Transfer::Collective);
      d.write_rows(3, 0, h5::Type::I16, nullptr, h5::Transfer::Collective);  // empty block is fine
      BOOST_CHECK_THROW(d.write_rows(2, 2, h5::Type::I16, a.data(), h5::Transfer::Collective), core::FormatError);
      auto s = f.create_dataset("s", h5::Type::F64, {});
      const double v = 2.5;
      s.write_all(h5::Type::F64, &v, h5::Transfer::Collective);
    }
    auto f = h5::File::open(path, MPI_COMM_SELF);
    auto d = f.open_dataset("g/x");
    BOOST_TEST((d.shape() == std::vector<int64_t>{3, 3}));
    BOOST_TEST((d.stored_type() == h5::Type::I16));
    BOOST_TEST((d.read_vector<int16_t>() == std::vector<int16_t>{1, 2, 3, 4, 5, 6, 7, 8, 9}));
    BOOST_TEST((d.read_rows_vector<int32_t>(1, 2) == std::vector<int32_t>{4, 5, 6, 7, 8, 9}));  // converted
    BOOST_TEST(f.open_dataset("s").read_vector<double>().at(0) == 2.5);
  }
}

BOOST_AUTO_TEST_CASE(tensors_bit_exact) {
  test::TempDir dir;
  const std::string path = (dir.path() / "t.h5").string();
  torch::manual_seed(3);
  std::vector<std::pair<std::string, torch::Tensor>> ts;
  for (auto dtype : {torch::kFloat, torch::kDouble, torch::kBFloat16, torch::kHalf}) {
    auto t = torch::randn({3, 4, 5}).to(dtype);
    t.view(-1)[0] = -0.0;
    t.view(-1)[1] = std::numeric_limits<double>::infinity();
    t.view(-1)[2] = std::numeric_limits<double>::quiet_NaN();
    ts.emplace_back(io::dtype_name(dtype), t);
  }
  ts.emplace_back("int64", torch::tensor({int64_t{1} << 62, int64_t{-3}}));
  ts.emplace_back("int32", torch::arange(-5, 5, torch::kInt));
  ts.emplace_back("int16", torch::arange(-5, 5, torch::kShort));
  ts.emplace_back("int8", torch::arange(-5, 5, torch::kChar));
  ts.emplace_back("uint8", torch::arange(0, 255, torch::kByte));
  ts.emplace_back("bool", torch::tensor({true, false, true}));
  ts.emplace_back("scalar", torch::tensor(3.25));
  ts.emplace_back("empty", torch::zeros({0, 7}));
  ts.emplace_back("strided", torch::arange(12, torch::kFloat).reshape({3, 4}).t());
  {
    auto f = h5::File::create(path, MPI_COMM_SELF);
    for (const auto& [name, t] : ts) {
      auto d = io::create_tensor_dataset(f, "p/" + name, t.scalar_type(), t.sizes().vec());
      io::write_tensor(d, t, h5::Transfer::Independent);
    }
  }
  auto f = h5::File::open(path, MPI_COMM_SELF);
  for (const auto& [name, t] : ts) {
    BOOST_TEST_CONTEXT(name) {
      auto back = io::read_tensor(f.open_dataset("p/" + name));
      BOOST_TEST((back.scalar_type() == t.scalar_type()));
      BOOST_TEST(back.sizes().vec() == t.sizes().vec());
      // Compare the raw bits (NaN != NaN; -0 == 0).
      BOOST_TEST(torch::equal(test::bits(back), test::bits(t)));
    }
  }
  BOOST_TEST(f.open_dataset("p/bfloat16").attr_string("dtype") == "bfloat16");
  BOOST_TEST((f.open_dataset("p/bfloat16").stored_type() == h5::Type::U16));
}

BOOST_AUTO_TEST_CASE(bad_files_name_the_file) {
  test::TempDir dir;
  const std::string missing = (dir.path() / "missing.h5").string();
  try {
    h5::File::open(missing, MPI_COMM_SELF);
    BOOST_FAIL("opened a missing file");
  } catch (const core::IoError& e) {
    BOOST_TEST(message_has(e, missing));
  }
  const std::string garbage = dir.write("garbage.h5", std::string(5000, 'z'));
  try {
    h5::File::open(garbage, MPI_COMM_SELF);
    BOOST_FAIL("opened a garbage file");
  } catch (const core::IoError& e) {
    BOOST_TEST(message_has(e, garbage));
    BOOST_TEST(message_has(e, "corrupt"));
  }
  const std::string truncated = (dir.path() / "truncated.h5").string();
  {
    auto f = h5::File::create(truncated, MPI_COMM_SELF);
    auto t = torch::ones({1000});
    io::write_tensor(io::create_tensor_dataset(f, "x", t.scalar_type(), {1000}), t, h5::Transfer::Independent);
  }
  std::filesystem::resize_file(truncated, std::filesystem::file_size(truncated) / 2);
  try {
    h5::File::open(truncated, MPI_COMM_SELF);
    BOOST_FAIL("opened a truncated file");
  } catch (const core::IoError& e) {
    BOOST_TEST(message_has(e, truncated));
    BOOST_TEST(message_has(e, "truncated"));
  }
  BOOST_CHECK_THROW(h5::File::create((dir.path() / "no/such/dir/x.h5").string(), MPI_COMM_SELF), core::Hdf5Error);
}

BOOST_AUTO_TEST_SUITE_END()
