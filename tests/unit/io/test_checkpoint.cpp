// Checkpoints on one process: bit-exact round trip (parameters, AdamW moments, scalars, RNG
// streams, sampler cursors), a crash between the temporary write and the rename, keep_last and the
// latest pointer, refusal of incompatible checkpoints, and damaged files named in the error.
#include <torch/torch.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "io/checkpoint.hpp"
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

BOOST_AUTO_TEST_SUITE_END()
