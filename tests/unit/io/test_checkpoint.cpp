// Checkpoints on one process: bit-exact round trip (parameters, AdamW moments, scalars, RNG
// streams, sampler cursors), a crash between the temporary write and the rename, keep_last and the
// latest pointer, refusal of incompatible checkpoints, damaged files named in the error, tensor
// checksums (a flipped byte names the tensor; checkpoint.fallback resumes from the previous one).
#include <hdf5.h>
#include <torch/torch.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "io/checkpoint.hpp"
#include "io/hdf5.hpp"
#include "test_support.hpp"
#include "unit/io/checkpoint_fixture.hpp"

using namespace mdrl;
namespace fs = std::filesystem;

BOOST_AUTO_TEST_SUITE(checkpoint)

BOOST_AUTO_TEST_CASE(round_trip_bit_exact) {
  test::TempDir dir;
  io::CheckpointManager m(MPI_COMM_SELF, dir.path().string(), {});
  for (auto trainable : {io::Trainable::Full, io::Trainable::Lora}) {
    const auto s = test::make_checkpoint_state(7, 0, trainable);
    const std::string path = m.save(s);
    BOOST_TEST(path == m.path_for_step(7));
    const auto back = m.load(path, test::requirements(s));
    test::check_same_state(back, s);
  }
  // The streams continue exactly where they stopped.
  auto s = test::make_checkpoint_state(8, 0, io::Trainable::Full);
  core::RngStream live(s.rng[0].second);
  m.save(s);
  auto back = m.resume(test::requirements(s));
  BOOST_REQUIRE(back.has_value());
  core::RngStream restored(back->rng[0].second);
  for (int i = 0; i < 9; ++i) BOOST_TEST(live.next_u32() == restored.next_u32());
}

BOOST_AUTO_TEST_CASE(crash_before_rename_keeps_the_previous_checkpoint) {
  test::TempDir dir;
  io::CheckpointManager m(MPI_COMM_SELF, dir.path().string(), {});
  BOOST_TEST(!m.find_latest().has_value());
  BOOST_TEST(!m.resume(test::requirements(test::make_checkpoint_state(1, 0))).has_value());
  const auto s10 = test::make_checkpoint_state(10, 0);
  m.save(s10);
  m.set_crash_before_rename_for_testing(true);
  const std::string tmp = m.save(test::make_checkpoint_state(20, 0));
  BOOST_TEST(fs::exists(tmp));
  BOOST_TEST(!fs::exists(m.path_for_step(20)));
  // A torn temporary (killed mid-write) is ignored just as well.
  { std::ofstream(m.dir() + "/step_30.h5.tmp") << "partial"; }
  io::CheckpointManager resumed(MPI_COMM_SELF, dir.path().string(), {});
  BOOST_TEST(resumed.find_latest().value() == m.path_for_step(10));
  test::check_same_state(resumed.resume(test::requirements(s10)).value(), s10);
  std::ifstream latest(m.dir() + "/latest");
  std::string name;
  latest >> name;
  BOOST_TEST(name == "step_10.h5");
  // The next save clears the temporaries.
  resumed.save(test::make_checkpoint_state(11, 0));
  BOOST_TEST(!fs::exists(tmp));
  BOOST_TEST(!fs::exists(m.dir() + "/step_30.h5.tmp"));
}

// A manager checkpointing every 5 steps and keeping the newest 2.
io::CheckpointManager every5_keep2(const test::TempDir& dir) {
  io::CheckpointConfig cfg;
  cfg.keep_last = 2;
  cfg.every = 5;
  return io::CheckpointManager(MPI_COMM_SELF, dir.path().string(), cfg);
}

BOOST_AUTO_TEST_CASE(keep_last_and_latest) {
  test::TempDir dir;
  io::CheckpointManager m = every5_keep2(dir);
  BOOST_TEST(!m.due(0));
  BOOST_TEST(m.due(10));
  BOOST_TEST(!m.due(11));
  for (int64_t step : {5, 10, 15, 20}) m.save(test::make_checkpoint_state(step, 0));
  BOOST_TEST(!fs::exists(m.path_for_step(5)));
  BOOST_TEST(!fs::exists(m.path_for_step(10)));
  BOOST_TEST(fs::exists(m.path_for_step(15)));
  BOOST_TEST(fs::exists(m.path_for_step(20)));
  BOOST_TEST(m.find_latest().value() == m.path_for_step(20));
}

// A checkpoint off the cadence (a signal at step 12) bridges to the next one: it takes no keep_last
// slot, so the cadence checkpoints kept are those of an uninterrupted run, and it is deleted once a
// newer checkpoint exists.
BOOST_AUTO_TEST_CASE(signal_checkpoints_do_not_displace_cadence_ones) {
  test::TempDir dir;
  io::CheckpointManager m = every5_keep2(dir);
  for (int64_t step : {5, 10, 12}) m.save(test::make_checkpoint_state(step, 0));
  BOOST_TEST(fs::exists(m.path_for_step(5)));
  BOOST_TEST(fs::exists(m.path_for_step(10)));
  BOOST_TEST(fs::exists(m.path_for_step(12)));
  BOOST_TEST(*m.find_latest() == m.path_for_step(12));
  m.save(test::make_checkpoint_state(15, 0));
  BOOST_TEST(!fs::exists(m.path_for_step(5)));
  BOOST_TEST(fs::exists(m.path_for_step(10)));
  BOOST_TEST(!fs::exists(m.path_for_step(12)));
  BOOST_TEST(fs::exists(m.path_for_step(15)));
}

BOOST_AUTO_TEST_CASE(incompatible_checkpoints_are_refused) {
  test::TempDir dir;
  io::CheckpointManager m(MPI_COMM_SELF, dir.path().string(), {});
  const auto s = test::make_checkpoint_state(3, 0, io::Trainable::Lora);
  const std::string path = m.save(s);
  auto expect_refusal = [&](const io::ResumeRequirements& req, const std::string& words) {
    try {
      m.load(path, req);
      BOOST_FAIL("incompatible checkpoint accepted");
    } catch (const core::FormatError& e) {
      const std::string msg = e.what();
      BOOST_TEST(msg.find(path) != std::string::npos, msg);
      BOOST_TEST(msg.find(words) != std::string::npos, msg);
      BOOST_TEST(msg.find("new run directory") != std::string::npos, msg);
    }
  };
  auto req = test::requirements(s);
  req.model_signature[1].shape = {8, 9};
  expect_refusal(req, "'layers.0.lora_B' float32 [8, 4] in the checkpoint and 'layers.0.lora_B' float32 [8, 9]");
  req = test::requirements(s);
  req.model_signature.pop_back();
  expect_refusal(req, "and nothing in this run");
  req = test::requirements(s);
  req.model_signature[0].dtype = "bfloat16";
  expect_refusal(req, "does not fit this run's model");
  req = test::requirements(s);
  req.trainable = io::Trainable::Full;
  expect_refusal(req, "holds lora training state, this run trains full");
  req = test::requirements(s);
  req.base_checksum = *req.base_checksum + 1;
  expect_refusal(req, "other base weights");
}

BOOST_AUTO_TEST_CASE(damaged_checkpoints_name_the_file) {
  test::TempDir dir;
  io::CheckpointManager m(MPI_COMM_SELF, dir.path().string(), {});
  const auto s = test::make_checkpoint_state(1, 0);
  m.save(s);
  const std::string newest = m.save(test::make_checkpoint_state(2, 0));
  fs::resize_file(newest, fs::file_size(newest) * 2 / 3);
  try {
    m.find_latest();
    BOOST_FAIL("a truncated newest checkpoint was accepted");
  } catch (const core::IoError& e) {
    const std::string msg = e.what();
    BOOST_TEST(msg.find(newest) != std::string::npos, msg);
    BOOST_TEST(msg.find(m.path_for_step(1)) != std::string::npos, msg);  // says what to do
  }
  BOOST_CHECK_THROW(m.load(newest, test::requirements(s)), core::IoError);
  { std::ofstream(newest, std::ios::trunc) << "not hdf5 at all"; }
  try {
    m.load(newest, test::requirements(s));
    BOOST_FAIL("a garbage checkpoint was accepted");
  } catch (const core::IoError& e) {
    BOOST_TEST(std::string(e.what()).find(newest) != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(weights_checksum_sees_every_bit) {
  dist::NamedTensors a = {{"w", torch::ones({4, 4})}, {"b", torch::zeros({4})}};
  dist::NamedTensors b = {{"w", torch::ones({4, 4})}, {"b", torch::zeros({4})}};
  BOOST_TEST(io::weights_checksum(a) == io::weights_checksum(b));
  b[1].second[2] = -0.0;  // one sign bit
  BOOST_TEST(io::weights_checksum(a) != io::weights_checksum(b));
  dist::NamedTensors c = {{"w2", torch::ones({4, 4})}, {"b", torch::zeros({4})}};
  BOOST_TEST(io::weights_checksum(a) != io::weights_checksum(c));
}

// XXH64 against Python's xxhash.xxh64(...).intdigest(), tails of every length class included.
BOOST_AUTO_TEST_CASE(xxh64_matches_the_reference) {
  BOOST_TEST(io::xxh64(nullptr, 0) == 0xef46db3751d8e999ull);
  BOOST_TEST(io::xxh64("abc", 3) == 0x44bc2cf5ad770999ull);
  std::string b100, b769;
  for (int i = 0; i < 100; ++i) b100 += static_cast<char>(i);
  for (int k = 0; k < 3; ++k)
    for (int i = 0; i < 256; ++i) b769 += static_cast<char>(i);
  b769 += 'x';
  BOOST_TEST(io::xxh64(b100.data(), b100.size()) == 0x6ac1e58032166597ull);
  BOOST_TEST(io::xxh64(b769.data(), b769.size()) == 0xf2cd34f433354cc5ull);
}

// The message of loading `path`, which must fail with CheckpointDamagedError.
std::string damaged_message(io::CheckpointManager& m, const std::string& path, const io::ResumeRequirements& req) {
  try {
    m.load(path, req);
  } catch (const io::CheckpointDamagedError& e) {
    return e.what();
  }
  BOOST_FAIL("a damaged checkpoint was accepted");
  return {};
}

BOOST_AUTO_TEST_CASE(a_flipped_byte_names_the_file_and_the_tensor) {
  test::TempDir dir;
  io::CheckpointManager m(MPI_COMM_SELF, dir.path().string(), {});
  const auto s = test::make_checkpoint_state(4, 0);
  const std::string path = m.save(s);
  {
    io::h5::File f = io::h5::File::open(path, MPI_COMM_SELF);
    BOOST_TEST(f.attr_int("format_version") == io::kCheckpointFormatVersion);
    BOOST_TEST(f.open_dataset("model/params/norm.weight").has_attr(io::kChecksumAttr));
  }
  for (const std::string tensor : {"model/params/layers.0.weight", "optimizer/tensors/exp_avg_sq/norm.weight"}) {
    const std::string p = m.save(test::make_checkpoint_state(4, 0));
    test::flip_byte_in_dataset(p, tensor, 5);
    const std::string msg = damaged_message(m, p, test::requirements(s));
    BOOST_TEST(msg.find(p) != std::string::npos, msg);
    BOOST_TEST(msg.find("tensor '" + tensor + "' fails its checksum") != std::string::npos, msg);
    BOOST_TEST(msg.find("checkpoint.fallback = true") != std::string::npos, msg);
    BOOST_CHECK_THROW(m.resume(test::requirements(s)), core::FormatError);  // no fallback: the same error
  }
}

// Files of format version 1 have no checksums and are read unverified; a version-2 file whose
// tensor lost its checksum attribute is damaged.
BOOST_AUTO_TEST_CASE(version_1_files_without_checksums_are_accepted) {
  test::TempDir dir;
  io::CheckpointManager m(MPI_COMM_SELF, dir.path().string(), {});
  const auto s = test::make_checkpoint_state(6, 0);
  const std::string path = m.save(s);
  auto strip = [&](bool to_version_1) {
    const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    BOOST_REQUIRE(f >= 0);
    for (const auto& name : {"model/params/layers.0.weight", "model/params/norm.weight"}) {
      const hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
      if (H5Aexists(d, io::kChecksumAttr) > 0) BOOST_REQUIRE(H5Adelete(d, io::kChecksumAttr) >= 0);
      H5Dclose(d);
    }
    if (to_version_1) {
      const hid_t a = H5Aopen(f, "format_version", H5P_DEFAULT);
      const int64_t one = 1;
      BOOST_REQUIRE(H5Awrite(a, H5T_NATIVE_INT64, &one) >= 0);
      H5Aclose(a);
    }
    H5Fclose(f);
  };
  strip(false);
  const std::string msg = damaged_message(m, path, test::requirements(s));
  BOOST_TEST(msg.find("no 'xxh64' checksum attribute") != std::string::npos, msg);
  strip(true);
  test::check_same_state(m.load(path, test::requirements(s)), s);
}

io::CheckpointManager with_fallback(const test::TempDir& dir) {
  io::CheckpointConfig cfg;
  cfg.keep_last = 2;
  cfg.every = 5;
  cfg.fallback = true;
  return io::CheckpointManager(MPI_COMM_SELF, dir.path().string(), cfg);
}

std::string latest_name(const io::CheckpointManager& m) {
  std::ifstream in(m.dir() + "/latest");
  std::string name;
  in >> name;
  return name;
}

BOOST_AUTO_TEST_CASE(fallback_resumes_from_the_previous_checkpoint) {
  test::TempDir dir;
  io::CheckpointManager m = with_fallback(dir);
  const auto s5 = test::make_checkpoint_state(5, 0);
  m.save(s5);
  const std::string p10 = m.save(test::make_checkpoint_state(10, 0));
  test::flip_byte_in_dataset(p10, "model/params/norm.weight", 1);
  BOOST_TEST(m.find_latest().value() == p10);  // opens fine; only its data is damaged
  const auto back = m.resume(test::requirements(s5));
  BOOST_REQUIRE(back.has_value());
  BOOST_TEST(back->loaded_from == m.path_for_step(5));
  test::check_same_state(*back, s5);
  BOOST_TEST(!fs::exists(p10));
  BOOST_TEST(fs::exists(p10 + ".corrupt"));  // kept for inspection
  BOOST_TEST(latest_name(m) == "step_5.h5");
  // The .corrupt file takes no keep_last slot and is never deleted by retention.
  for (int64_t step : {10, 15}) m.save(test::make_checkpoint_state(step, 0));
  BOOST_TEST(!fs::exists(m.path_for_step(5)));
  BOOST_TEST(fs::exists(m.path_for_step(10)));
  BOOST_TEST(fs::exists(m.path_for_step(15)));
  BOOST_TEST(fs::exists(p10 + ".corrupt"));

  // An unreadable newest (truncated) is set aside too; with nothing intact left it is an error.
  const std::string p15 = m.path_for_step(15);
  fs::resize_file(p15, fs::file_size(p15) / 2);
  BOOST_TEST(m.resume(test::requirements(s5)).value().step == 10);
  BOOST_TEST(fs::exists(p15 + ".corrupt"));
  test::flip_byte_in_dataset(m.path_for_step(10), "model/params/layers.0.weight", 0);
  try {
    m.resume(test::requirements(s5));
    BOOST_FAIL("resumed with no intact checkpoint");
  } catch (const core::FormatError& e) {
    const std::string msg = e.what();
    BOOST_TEST(msg.find("no intact checkpoint") != std::string::npos, msg);
    BOOST_TEST(msg.find(m.path_for_step(10) + ".corrupt") != std::string::npos, msg);
  }
  BOOST_TEST(!m.find_latest().has_value());
}

// Incompatibility is not damage: fallback leaves such a checkpoint where it is.
BOOST_AUTO_TEST_CASE(fallback_does_not_set_aside_incompatible_checkpoints) {
  test::TempDir dir;
  io::CheckpointManager m = with_fallback(dir);
  const auto s = test::make_checkpoint_state(5, 0);
  const std::string p = m.save(s);
  auto req = test::requirements(s);
  req.trainable = io::Trainable::Lora;
  BOOST_CHECK_THROW(m.resume(req), core::FormatError);
  BOOST_TEST(fs::exists(p));
}

BOOST_AUTO_TEST_SUITE_END()
