// Trajectory store on one process: every dataset and attribute round-trips, files per N steps,
// rebuilding intermediate states from the step map, resume dropping steps an interrupted run
// recorded, compression, and errors for damaged files and bad batches.
#include <boost/test/unit_test.hpp>
#include <filesystem>

#include "core/build_info.hpp"
#include "core/error.hpp"
#include "io/hdf5.hpp"
#include "io/trajectory_store.hpp"
#include "test_support.hpp"
#include "unit/io/trajectory_fixture.hpp"

using namespace mdrl;

namespace {
io::TrajectoryMeta meta() {
  io::TrajectoryMeta m;
  m.config_ini = "[run]\nseed = 42\n";
  m.reward_names = test::kRewardNames;
  m.mask_token_id = 126336;
  return m;
}
io::TrajectoryConfig traj_config(int64_t per_file = 0, int64_t compression = 0) {
  io::TrajectoryConfig c;
  c.steps_per_file = per_file;
  c.compression = compression;
  return c;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(trajectory_store)

BOOST_AUTO_TEST_CASE(round_trip_every_dataset_and_attribute) {
  for (int64_t compression : {0, 6}) {
    test::TempDir dir;
    const auto tdir = (dir.path() / "trajectories").string();
    {
      io::TrajectoryWriter w(MPI_COMM_SELF, tdir, meta(), traj_config(0, compression));
      w.append(test::make_batch(1, 0, 3));
      w.append(test::make_batch(2, 0, 0));  // nothing recorded
      auto b = test::make_batch(3, 0, 4);
      b.decoding = "other";
      w.append(b);
      w.append(test::make_batch(4, 0, 2));
    }
    io::TrajectoryReader r((std::filesystem::path(tdir) / "trajectories.h5").string());
    BOOST_TEST(r.format_version() == io::kTrajectoryFormatVersion);
    BOOST_TEST(r.config_ini() == "[run]\nseed = 42\n");
    BOOST_TEST(r.git_commit().find(core::build_info().git_commit) == 0u);
    BOOST_TEST(r.world_size() == 1);
    BOOST_TEST(r.mask_token_id() == 126336);
    BOOST_TEST(r.completion_length() == test::kCompletionLength);
    BOOST_TEST(r.has_old_logprob());
    BOOST_TEST(r.reward_names() == test::kRewardNames);
    BOOST_TEST(r.created().size() == 20u);
    BOOST_REQUIRE_EQUAL(r.steps().size(), 3u);
    BOOST_TEST(r.num_samples() == 9);
    const int64_t steps[3] = {1, 3, 4}, counts[3] = {3, 4, 2};
    for (size_t s = 0; s < 3; ++s) {
      BOOST_TEST(r.steps()[s].step == steps[s]);
      BOOST_TEST(r.steps()[s].num_samples == counts[s]);
      BOOST_TEST(r.steps()[s].decoding == (s == 1 ? std::string("other") : test::make_batch(1, 0, 1).decoding));
      const auto samples = r.step_samples(s);
      for (int64_t i = 0; i < counts[s]; ++i) test::check_sample(samples[static_cast<size_t>(i)], steps[s], 0, i);
    }
    BOOST_TEST(r.sample(8).index == 8);
    BOOST_CHECK_THROW(r.read(8, 2), core::IoError);
  }
}

BOOST_AUTO_TEST_CASE(intermediate_states_from_step_map) {
  io::TrajectorySample s;
  s.completion_ids = {10, 11, 12, 13};
  s.step_map = {2, 0, 1, 0};
  BOOST_TEST(s.num_decoding_steps() == 3);
  BOOST_TEST((s.state_after(0, -1) == std::vector<int32_t>{-1, -1, -1, -1}));
  BOOST_TEST((s.state_after(1, -1) == std::vector<int32_t>{-1, 11, -1, 13}));
  BOOST_TEST((s.state_after(2, -1) == std::vector<int32_t>{-1, 11, 12, 13}));
  BOOST_TEST((s.state_after(3, -1) == s.completion_ids));
}

BOOST_AUTO_TEST_CASE(files_per_n_steps_and_no_logprobs) {
  test::TempDir dir;
  const auto tdir = (dir.path() / "t").string();
  {
    io::TrajectoryWriter w(MPI_COMM_SELF, tdir, meta(), traj_config(2));
    for (int64_t step = 0; step < 5; ++step) w.append(test::make_batch(step, 0, 2, false));
    BOOST_TEST(w.path_for_step(3) == tdir + "/steps_00000002.h5");
  }
  const auto files = io::TrajectoryReader::run_files(tdir);
  BOOST_REQUIRE_EQUAL(files.size(), 3u);
  for (size_t f = 0; f < files.size(); ++f) {
    io::TrajectoryReader r(files[f]);
    BOOST_TEST(!r.has_old_logprob());
    BOOST_TEST(r.steps().front().step == static_cast<int64_t>(2 * f));
    for (const auto& s : r.read(0, r.num_samples())) test::check_sample(s, s.step, 0, s.index % 2, false);
  }
}

BOOST_AUTO_TEST_CASE(resume_drops_steps_of_the_interrupted_run) {
  for (int64_t per_file : {0, 2}) {
    test::TempDir dir;
    const auto tdir = (dir.path() / "t").string();
    {
      io::TrajectoryWriter w(MPI_COMM_SELF, tdir, meta(), traj_config(per_file));
      for (int64_t step = 0; step < 6; ++step) w.append(test::make_batch(step, 0, 1 + step % 2));
    }
    {
      // Resumed from the checkpoint of step 2: steps 3.. are redone.
      io::TrajectoryWriter w(MPI_COMM_SELF, tdir, meta(), traj_config(per_file));
      for (int64_t step = 3; step < 5; ++step) w.append(test::make_batch(step, 0, 3));
    }
    std::vector<int64_t> steps;
    for (const auto& path : io::TrajectoryReader::run_files(tdir)) {
      io::TrajectoryReader r(path);
      for (const auto& st : r.steps()) {
        steps.push_back(st.step);
        BOOST_TEST(st.num_samples == (st.step >= 3 ? 3 : 1 + st.step % 2));
        const auto samples = r.read(st.first_sample, st.num_samples);
        for (size_t i = 0; i < samples.size(); ++i) test::check_sample(samples[i], st.step, 0, static_cast<int64_t>(i));
      }
    }
    BOOST_TEST((steps == std::vector<int64_t>{0, 1, 2, 3, 4}), "per_file " << per_file);
  }
}

BOOST_AUTO_TEST_CASE(bad_batches_and_damaged_files) {
  test::TempDir dir;
  const auto tdir = (dir.path() / "t").string();
  io::TrajectoryWriter w(MPI_COMM_SELF, tdir, meta(), traj_config());
  auto b = test::make_batch(0, 0, 2);
  b.rewards = torch::zeros({2, 3});  // three components, two names
  BOOST_CHECK_THROW(w.append(b), core::InternalError);
  b = test::make_batch(0, 0, 2);
  b.step_map = b.step_map + 40000;
  BOOST_CHECK_THROW(w.append(b), core::InternalError);
  w.append(test::make_batch(0, 0, 2));
  auto longer = test::make_batch(1, 0, 2);
  longer.completion_ids = torch::zeros({2, 8}, torch::kLong);
  longer.step_map = torch::zeros({2, 8}, torch::kLong);
  longer.confidence = torch::zeros({2, 8});
  longer.old_logprob = torch::zeros({2, 8});
  BOOST_CHECK_THROW(w.append(longer), core::FormatError);
  w.close();

  const std::string path = tdir + "/trajectories.h5";
  std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
  try {
    io::TrajectoryReader r(path);
    BOOST_FAIL("read a truncated file");
  } catch (const core::IoError& e) {
    BOOST_TEST(std::string(e.what()).find(path) != std::string::npos);
  }
  const std::string other = dir.write("other.h5", "");
  { io::h5::File::create(other, MPI_COMM_SELF).set_attr("format", std::string("something-else")); }
  try {
    io::TrajectoryReader r(other);
    BOOST_FAIL("read a file of another format");
  } catch (const core::FormatError& e) {
    BOOST_TEST(std::string(e.what()).find(other) != std::string::npos);
  }
  // A writer that finds the damaged file moves it aside and starts a new one.
  {
    io::TrajectoryWriter w2(MPI_COMM_SELF, tdir, meta(), traj_config());
    w2.append(test::make_batch(5, 0, 1));
  }
  BOOST_TEST(std::filesystem::exists(path + ".corrupt"));
  io::TrajectoryReader r(path);
  BOOST_TEST(r.num_samples() == 1);
}

BOOST_AUTO_TEST_SUITE_END()
