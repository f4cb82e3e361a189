// Trajectory store on one process: every dataset and attribute round-trips, segments per
// checkpoint interval and per N steps read as one history, rebuilding intermediate states from the
// step map, resume dropping steps an interrupted run recorded, compression, buffering of several
// steps per write (flush() finishing the segment, and resuming from the state a kill mid-interval
// leaves: nothing checkpointed lost), and errors for damaged files, overlapping or mismatched
// segments and bad batches.
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <functional>

#include "config/options.hpp"
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
io::TrajectoryConfig traj_config(int64_t per_file = 0, int64_t compression = 0, int64_t flush_every = 8) {
  io::TrajectoryConfig c;
  c.steps_per_file = per_file;
  c.compression = compression;
  c.flush_every = flush_every;
  return c;
}

// Steps, sample counts per step and samples of a run directory's history (its segments read as
// one), checked against make_batch; `count(step)` gives the samples each step must have. Each
// segment read alone agrees with the history.
std::vector<int64_t> check_run(const std::string& tdir, const std::function<int64_t(int64_t)>& count) {
  std::vector<int64_t> steps;
  const io::TrajectoryReader r(tdir);
  int64_t index = 0;
  for (const auto& st : r.steps()) {
    steps.push_back(st.step);
    BOOST_TEST(st.first_sample == index);
    BOOST_TEST(st.num_samples == count(st.step), "step " << st.step);
    const auto samples = r.read(st.first_sample, st.num_samples);
    for (size_t i = 0; i < samples.size(); ++i) test::check_sample(samples[i], st.step, 0, static_cast<int64_t>(i));
    index += st.num_samples;
  }
  BOOST_TEST(r.num_samples() == index);
  std::vector<int64_t> per_file;
  for (const auto& path : r.files()) {
    const io::TrajectoryReader one(path);
    for (const auto& st : one.steps()) per_file.push_back(st.step);
  }
  BOOST_TEST(per_file == steps);
  for (const auto& e : std::filesystem::directory_iterator(tdir))
    BOOST_TEST(e.path().extension() != ".tmp", e.path());  // no partial segment left
  return steps;
}
std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The steps of a directory's history.
std::vector<int64_t> check_history(const std::string& tdir) {
  std::vector<int64_t> steps;
  const io::TrajectoryReader r(tdir);
  for (const auto& st : r.steps()) steps.push_back(st.step);
  return steps;
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
    // One segment (no checkpoint in between), named after its first step with samples.
    BOOST_TEST((io::TrajectoryReader::run_files(tdir) == std::vector<std::string>{tdir + "/seg-00000001.h5"}));
    io::TrajectoryReader r(tdir);
    BOOST_TEST(r.format_version() == 2);
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
    w.flush();
    BOOST_TEST(w.path_for_step(3) == tdir + "/seg-00000002.h5");
    BOOST_TEST(w.path_for_step(7).empty());
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
  for (int64_t per_file : {0, 2})
    for (int64_t flush_every : {1, 4}) {
      BOOST_TEST_CONTEXT("per_file " << per_file << " flush_every " << flush_every) {
        test::TempDir dir;
        const auto tdir = (dir.path() / "t").string();
        {
          io::TrajectoryWriter w(MPI_COMM_SELF, tdir, meta(), traj_config(per_file, 0, flush_every));
          for (int64_t step = 0; step < 6; ++step) w.append(test::make_batch(step, 0, 1 + step % 2));
        }
        {
          // Resumed from the checkpoint of step 2: steps 3.. are redone.
          io::TrajectoryWriter w(MPI_COMM_SELF, tdir, meta(), traj_config(per_file, 0, flush_every));
          for (int64_t step = 3; step < 5; ++step) w.append(test::make_batch(step, 0, 3));
        }
        const auto steps = check_run(tdir, [](int64_t step) { return step >= 3 ? 3 : 1 + step % 2; });
        BOOST_TEST((steps == std::vector<int64_t>{0, 1, 2, 3, 4}));
      }
    }
}

BOOST_AUTO_TEST_CASE(buffered_steps_are_written_every_flush_every_and_by_flush) {
  for (int64_t per_file : {0, 4}) {
    BOOST_TEST_CONTEXT("per_file " << per_file) {
      test::TempDir dir;
      const auto tdir = (dir.path() / "t").string();
      // Sample counts per step, an empty step among them (not recorded).
      const auto count = [](int64_t step) -> int64_t { return step == 4 ? 0 : 1 + step % 3; };
      {
        io::TrajectoryWriter w(MPI_COMM_SELF, tdir, meta(), traj_config(per_file, 0, 3));
        for (int64_t step = 0; step < 7; ++step) {
          w.append(test::make_batch(step, 0, count(step)));
          BOOST_TEST(w.buffered_steps() == (step + 1) % 3);
        }
        // Steps 0..5 are written, step 6 is buffered; flush() writes it and finishes the segment,
        // where a reader sees every step.
        w.flush();
        BOOST_TEST(w.buffered_steps() == 0);
        const auto steps = check_run(tdir, count);
        BOOST_TEST((steps == std::vector<int64_t>{0, 1, 2, 3, 5, 6}));
        w.append(test::make_batch(7, 0, count(7)));
        w.flush();
        w.flush();  // nothing buffered, no segment open: nothing to do
        w.append(test::make_batch(8, 0, count(8)));
      }  // the destructor writes step 8 and finishes its segment
      const auto steps = check_run(tdir, count);
      BOOST_TEST((steps == std::vector<int64_t>{0, 1, 2, 3, 5, 6, 7, 8}));
      // A segment per checkpoint interval (and per 4 steps with steps_per_file = 4).
      BOOST_TEST(io::TrajectoryReader::run_files(tdir).size() == (per_file == 0 ? 3u : 4u));
    }
  }
}

BOOST_AUTO_TEST_CASE(resume_after_a_crash_loses_nothing_the_checkpoint_covers) {
  for (int64_t per_file : {0, 3}) {
    BOOST_TEST_CONTEXT("per_file " << per_file) {
      test::TempDir dir;
      const auto tdir = (dir.path() / "t").string();
      const auto snapshot = dir.path() / "crashed";
      {
        io::TrajectoryWriter w(MPI_COMM_SELF, tdir, meta(), traj_config(per_file, 0, 4));
        for (int64_t step = 0; step < 6; ++step) w.append(test::make_batch(step, 0, 2));
        // The checkpoint of step 5: the training loop flushes the store right before saving it.
        w.flush();
        // What a crash (SIGKILL, node failure) from here leaves on disk: the files as flush() left
        // them, without the steps buffered since (nothing is written until the next write).
        std::filesystem::copy(tdir, snapshot);
        for (int64_t step = 6; step < 8; ++step) w.append(test::make_batch(step, 0, 2));
      }
      std::filesystem::remove_all(tdir);
      std::filesystem::rename(snapshot, tdir);
      {
        // Resumed from the checkpoint of step 5: steps 6.. are redone, with other sample counts.
        io::TrajectoryWriter w(MPI_COMM_SELF, tdir, meta(), traj_config(per_file, 0, 4));
        for (int64_t step = 6; step < 9; ++step) w.append(test::make_batch(step, 0, 3));
      }
      const auto steps = check_run(tdir, [](int64_t step) { return step >= 6 ? 3 : 2; });
      BOOST_TEST((steps == std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8}));
      for (const auto& path : io::TrajectoryReader::run_files(tdir)) BOOST_TEST(!path.ends_with(".corrupt"));
    }
  }
}

// What SIGKILL leaves mid-interval (tests/unit/io/kill_writer.cpp does it for real): the finished
// segments, untouched, and a partial .tmp of the open one. The history then reads as every step up
// to the last checkpoint, and the resumed run deletes the partial segment and redoes the rest.
BOOST_AUTO_TEST_CASE(kill_mid_interval_loses_nothing_checkpointed) {
  for (int64_t flush_every : {1, 2, 8}) {
    BOOST_TEST_CONTEXT("flush_every " << flush_every) {
      test::TempDir dir;
      const auto tdir = (dir.path() / "t").string();
      const auto snapshot = dir.path() / "killed";
      std::string checkpointed;
      {
        io::TrajectoryWriter w(MPI_COMM_SELF, tdir, meta(), traj_config(0, 0, flush_every));
        for (int64_t step = 0; step < 3; ++step) w.append(test::make_batch(step, 0, 2));
        w.flush();  // the checkpoint of step 2
        checkpointed = file_bytes(tdir + "/seg-00000000.h5");
        for (int64_t step = 3; step < 6; ++step) w.append(test::make_batch(step, 0, 2));
        // Killed here: the files as they are on disk this moment, the open segment included.
        std::filesystem::copy(tdir, snapshot);
      }
      std::filesystem::remove_all(tdir);
      std::filesystem::rename(snapshot, tdir);
      BOOST_TEST(std::filesystem::exists(tdir + "/seg-00000003.h5.tmp") == (flush_every <= 2));
      BOOST_TEST(file_bytes(tdir + "/seg-00000000.h5") == checkpointed);
      BOOST_TEST((check_history(tdir) == std::vector<int64_t>{0, 1, 2}));
      {
        // Resumed from the checkpoint of step 2: steps 3.. redone, with other sample counts.
        io::TrajectoryWriter w(MPI_COMM_SELF, tdir, meta(), traj_config(0, 0, flush_every));
        BOOST_TEST(!std::filesystem::exists(tdir + "/seg-00000003.h5.tmp"));
        for (int64_t step = 3; step < 7; ++step) w.append(test::make_batch(step, 0, 3));
      }
      BOOST_TEST(file_bytes(tdir + "/seg-00000000.h5") == checkpointed);
      const auto steps = check_run(tdir, [](int64_t step) { return step >= 3 ? 3 : 2; });
      BOOST_TEST((steps == std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6}));
    }
  }
}

BOOST_AUTO_TEST_CASE(run_reader_refuses_what_is_not_one_history) {
  test::TempDir dir;
  const auto tdir = (dir.path() / "t").string();
  std::filesystem::create_directories(tdir);
  BOOST_CHECK_THROW(io::TrajectoryReader r(tdir), core::IoError);  // no segments
  {
    io::TrajectoryWriter w(MPI_COMM_SELF, tdir, meta(), traj_config(0, 0, 1));
    for (int64_t step = 0; step < 4; ++step) {
      w.append(test::make_batch(step, 0, 1));
      if (step == 1) w.flush();
    }
  }
  // Segments that overlap (a copy of the first under a later name) are refused, naming both.
  std::filesystem::copy_file(tdir + "/seg-00000000.h5", tdir + "/seg-00000003.h5");
  try {
    io::TrajectoryReader r(tdir);
    BOOST_FAIL("read overlapping segments");
  } catch (const core::FormatError& e) {
    const std::string msg = e.what();
    BOOST_TEST(msg.find("seg-00000003.h5") != std::string::npos, msg);
    BOOST_TEST(msg.find("overlap") != std::string::npos, msg);
  }
  std::filesystem::remove(tdir + "/seg-00000003.h5");
  BOOST_TEST((check_history(tdir) == std::vector<int64_t>{0, 1, 2, 3}));
  // Neither .tmp nor other names count.
  std::filesystem::copy_file(tdir + "/seg-00000000.h5", tdir + "/seg-00000009.h5.tmp");
  std::filesystem::copy_file(tdir + "/seg-00000000.h5", tdir + "/notes.h5");
  BOOST_TEST(io::TrajectoryReader::run_files(tdir).size() == 2u);
}

BOOST_AUTO_TEST_CASE(one_write_across_files_with_and_without_logprobs) {
  // Steps 0 and 1 (file steps_0) without old log-probs, 2 and 3 (file steps_2) with: one write.
  test::TempDir dir;
  const auto tdir = (dir.path() / "t").string();
  {
    io::TrajectoryWriter w(MPI_COMM_SELF, tdir, meta(), traj_config(2, 0, 4));
    for (int64_t step = 0; step < 4; ++step) w.append(test::make_batch(step, 0, 1 + step, step >= 2));
  }
  const auto files = io::TrajectoryReader::run_files(tdir);
  BOOST_REQUIRE_EQUAL(files.size(), 2u);
  // Not one history: the files are read one by one.
  try {
    io::TrajectoryReader r(tdir);
    BOOST_FAIL("read segments with and without old log-probs as one history");
  } catch (const core::FormatError& e) {
    BOOST_TEST(std::string(e.what()).find(files[1]) != std::string::npos, e.what());
  }
  for (size_t f = 0; f < files.size(); ++f) {
    io::TrajectoryReader r(files[f]);
    BOOST_TEST(r.has_old_logprob() == (f == 1));
    BOOST_REQUIRE_EQUAL(r.steps().size(), 2u);
    for (size_t i = 0; i < 2; ++i) {
      const auto& st = r.steps()[i];
      BOOST_TEST(st.step == static_cast<int64_t>(2 * f + i));
      BOOST_TEST(st.num_samples == 1 + st.step);
      const auto samples = r.step_samples(i);
      for (size_t j = 0; j < samples.size(); ++j)
        test::check_sample(samples[j], st.step, 0, static_cast<int64_t>(j), f == 1);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_failed_first_write_still_resumes_from_the_first_step) {
  test::TempDir dir;
  const auto tdir = (dir.path() / "t").string();
  {
    io::TrajectoryWriter w(MPI_COMM_SELF, tdir, meta(), traj_config(0, 0, 2));
    for (int64_t step = 0; step < 6; ++step) w.append(test::make_batch(step, 0, 1));
  }
  {
    // Resumed at step 3; the first write fails (a bad batch) and drops steps 3 and 4, but the
    // interrupted run's steps 3.. must go all the same.
    io::TrajectoryWriter w(MPI_COMM_SELF, tdir, meta(), traj_config(0, 0, 2));
    auto bad = test::make_batch(3, 0, 2);
    bad.group_id = torch::zeros({5}, torch::kLong);
    w.append(bad);
    BOOST_CHECK_THROW(w.append(test::make_batch(4, 0, 2)), core::InternalError);
    for (int64_t step = 5; step < 7; ++step) w.append(test::make_batch(step, 0, 2));
  }
  const auto steps = check_run(tdir, [](int64_t step) { return step >= 3 ? 2 : 1; });
  BOOST_TEST((steps == std::vector<int64_t>{0, 1, 2, 5, 6}));
}

BOOST_AUTO_TEST_CASE(bad_batches_and_damaged_files) {
  test::TempDir dir;
  const auto tdir = (dir.path() / "t").string();
  {
    // Writing every step: a bad batch throws from its append.
    io::TrajectoryWriter w(MPI_COMM_SELF, (dir.path() / "each").string(), meta(), traj_config(0, 0, 1));
    auto b = test::make_batch(0, 0, 2);
    b.rewards = torch::zeros({2, 3});
    BOOST_CHECK_THROW(w.append(b), core::InternalError);
    w.append(test::make_batch(0, 0, 2));  // still usable
  }
  io::TrajectoryWriter w(MPI_COMM_SELF, tdir, meta(), traj_config());
  // Buffered: the error surfaces at the write (here flush()), and the buffered steps are dropped.
  auto b = test::make_batch(0, 0, 2);
  b.rewards = torch::zeros({2, 3});  // three components, two names
  w.append(b);
  BOOST_CHECK_THROW(w.flush(), core::InternalError);
  BOOST_TEST(w.buffered_steps() == 0);
  b = test::make_batch(0, 0, 2);
  b.step_map = b.step_map + 40000;
  w.append(b);
  try {
    w.flush();
    BOOST_FAIL("wrote a step map beyond int16");
  } catch (const core::InternalError& e) {
    BOOST_TEST(std::string(e.what()).find("step_map") != std::string::npos);
  }
  w.append(test::make_batch(0, 0, 2));
  w.flush();
  // Another completion length in the next segment of the run (one history, one length).
  auto longer = test::make_batch(1, 0, 2);
  longer.completion_ids = torch::zeros({2, 8}, torch::kLong);
  longer.step_map = torch::zeros({2, 8}, torch::kLong);
  longer.confidence = torch::zeros({2, 8});
  longer.old_logprob = torch::zeros({2, 8});
  w.append(longer);
  BOOST_CHECK_THROW(w.flush(), core::FormatError);
  // Within one write too.
  w.append(test::make_batch(1, 0, 2));
  w.append(longer);
  BOOST_CHECK_THROW(w.close(), core::FormatError);
  w.close();

  const std::string path = tdir + "/seg-00000000.h5";
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
  // A resumed writer that finds a damaged file (a disk fault: kills cannot damage a finished
  // segment) moves it aside and goes on.
  {
    io::TrajectoryWriter w2(MPI_COMM_SELF, tdir, meta(), traj_config());
    w2.append(test::make_batch(5, 0, 1));
  }
  BOOST_TEST(std::filesystem::exists(path + ".corrupt"));
  io::TrajectoryReader r(tdir);
  BOOST_TEST(r.num_samples() == 1);
  BOOST_TEST(r.steps().front().step == 5);
}

BOOST_AUTO_TEST_CASE(flush_every_option) {
  config::Options opts("test");
  io::TrajectoryConfig t;
  t.add_options(opts);
  BOOST_TEST(t.flush_every == 8);
  opts.parse({"--trajectory.flush_every=2"});
  BOOST_TEST(t.flush_every == 2);
  t.flush_every = 0;
  try {
    t.validate();
    BOOST_FAIL("accepted trajectory.flush_every = 0");
  } catch (const core::ConfigError& e) {
    BOOST_TEST(std::string(e.what()).find("trajectory.flush_every") != std::string::npos);
  }
}

BOOST_AUTO_TEST_SUITE_END()
