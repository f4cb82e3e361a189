// Under `mpirun -np 2`: both ranks append different sample counts (zero included) for several
// steps, written one step at a time or several buffered steps per write (across per-N file
// boundaries too), with and without compression, and one process reading the file sees every
// sample in order (steps ascending, ranks ascending within a step; the run's segments read as one
// history and one by one). A resume from the state a crash after a checkpoint's flush() leaves
// loses nothing. Ranks that disagree on the step, or a bad batch
// on one rank, fail both ranks at the write instead of hanging.
#include <boost/test/unit_test.hpp>
#include <filesystem>

#include "core/error.hpp"
#include "io/file_util.hpp"
#include "io/trajectory_store.hpp"
#include "mpi/shared_dir.hpp"
#include "test_support.hpp"
#include "unit/io/trajectory_fixture.hpp"

using namespace mdrl;
using test::SharedDir;
using test::world_rank;

namespace {
// Samples per (step, rank): uneven, with a rank that has none at steps 2 and 5, no samples at all
// at step 4 (not recorded). Ranks beyond 2 (run by hand with more) have some too.
int64_t count(int64_t step, int rank) {
  static const int64_t c[7][2] = {{3, 2}, {1, 4}, {0, 5}, {6, 1}, {0, 0}, {2, 0}, {1, 1}};
  return rank < 2 ? c[step][rank] : step == 4 ? 0 : (step + rank) % 3;
}

int world_size() {
  int n = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  return n;
}

io::TrajectoryMeta make_meta() {
  io::TrajectoryMeta meta;
  meta.reward_names = test::kRewardNames;
  meta.config_ini = "[run]\nseed = 1\n";
  return meta;
}

// On rank 0: the history of `tdir` (its segments read as one, and each segment alone) holds the
// steps of `steps` (each with count(step, rank) samples of every rank, in order, unless `redone`
// says a step was redone with `redone_count` per rank).
void check_run(const std::string& tdir, const std::vector<int64_t>& steps, int64_t redone = INT64_MAX,
               int64_t redone_count = 0) {
  const auto n = [&](int64_t step, int r) { return step >= redone ? redone_count : count(step, r); };
  std::vector<int64_t> seen;
  std::vector<std::string> sources = io::TrajectoryReader::run_files(tdir);
  const size_t files = sources.size();
  sources.push_back(tdir);
  for (const auto& path : sources) {
    if (path == tdir) {
      BOOST_TEST(seen == steps);
      seen.clear();
    }
    io::TrajectoryReader r(path);
    BOOST_TEST(r.world_size() == world_size());
    if (path == tdir) BOOST_TEST(r.files().size() == files);
    int64_t index = 0;
    for (size_t s = 0; s < r.steps().size(); ++s) {
      const auto& st = r.steps()[s];
      seen.push_back(st.step);
      BOOST_TEST(st.first_sample == index);
      int64_t total = 0;
      for (int src = 0; src < world_size(); ++src) total += n(st.step, src);
      BOOST_TEST(st.num_samples == total);
      const auto samples = r.step_samples(s);
      size_t at = 0;
      for (int src = 0; src < world_size(); ++src)
        for (int64_t i = 0; i < n(st.step, src) && at < samples.size(); ++i) {
          BOOST_TEST(samples[at].index == index);
          test::check_sample(samples[at++], st.step, src, i);
          ++index;
        }
    }
    BOOST_TEST(r.num_samples() == index);
  }
  BOOST_TEST(seen == steps);
}
}  // namespace

BOOST_AUTO_TEST_SUITE(io_trajectory_mpi)

BOOST_AUTO_TEST_CASE(uneven_appends_read_back_in_order) {
  const int rank = world_rank();
  // node_writer = false: each rank writes its own rows (as on several nodes), else rank 0 all.
  for (bool node_writer : {true, false})
    for (int64_t compression : {0, 3})
      for (int64_t flush_every : {1, 3, 8})
        for (int64_t per_file : {0, 4}) {
          BOOST_TEST_CONTEXT("node_writer " << node_writer << " compression " << compression << " flush_every "
                                            << flush_every << " per_file " << per_file) {
            SharedDir dir;
            const std::string tdir = dir.path + "/trajectories";
            io::TrajectoryConfig cfg;
            cfg.node_writer = node_writer;
            cfg.compression = compression;
            cfg.flush_every = flush_every;
            cfg.steps_per_file = per_file;
            {
              io::TrajectoryWriter w(MPI_COMM_WORLD, tdir, make_meta(), cfg);
              for (int64_t step = 0; step < 7; ++step) {
                w.append(test::make_batch(step, rank, count(step, rank)));
                BOOST_TEST(w.buffered_steps() == (step + 1) % flush_every);
              }
            }
            MPI_Barrier(MPI_COMM_WORLD);
            if (rank == 0) check_run(tdir, {0, 1, 2, 3, 5, 6});
          }
        }
}

BOOST_AUTO_TEST_CASE(resume_with_two_ranks_drops_redone_steps) {
  const int rank = world_rank();
  for (int64_t flush_every : {1, 8}) {
    BOOST_TEST_CONTEXT("flush_every " << flush_every) {
      SharedDir dir;
      const std::string tdir = dir.path + "/t";
      io::TrajectoryConfig cfg;
      cfg.flush_every = flush_every;
      {
        io::TrajectoryWriter w(MPI_COMM_WORLD, tdir, make_meta(), cfg);
        for (int64_t step = 0; step < 4; ++step) w.append(test::make_batch(step, rank, count(step, rank)));
      }
      {
        io::TrajectoryWriter w(MPI_COMM_WORLD, tdir, make_meta(), cfg);
        w.append(test::make_batch(2, rank, 1));
      }
      MPI_Barrier(MPI_COMM_WORLD);
      if (rank == 0) check_run(tdir, {0, 1, 2}, 2, 1);
    }
  }
}

BOOST_AUTO_TEST_CASE(flush_then_crash_then_resume) {
  const int rank = world_rank();
  for (int64_t per_file : {0, 4}) {
    BOOST_TEST_CONTEXT("per_file " << per_file) {
      SharedDir dir;
      const std::string tdir = dir.path + "/t", snapshot = dir.path + "/crashed";
      io::TrajectoryConfig cfg;
      cfg.flush_every = 4;
      cfg.steps_per_file = per_file;
      {
        io::TrajectoryWriter w(MPI_COMM_WORLD, tdir, make_meta(), cfg);
        for (int64_t step = 0; step < 6; ++step) w.append(test::make_batch(step, rank, count(step, rank)));
        // The checkpoint of step 5: the training loop flushes the store right before saving it.
        w.flush();
        BOOST_TEST(w.buffered_steps() == 0);
        // What a crash from here leaves on disk: the files as flush() left them (the steps
        // appended since stay in memory until the next write).
        MPI_Barrier(MPI_COMM_WORLD);
        if (rank == 0) std::filesystem::copy(tdir, snapshot);
        MPI_Barrier(MPI_COMM_WORLD);
        w.append(test::make_batch(6, rank, count(6, rank)));
      }
      MPI_Barrier(MPI_COMM_WORLD);
      if (rank == 0) {
        std::filesystem::remove_all(tdir);
        std::filesystem::rename(snapshot, tdir);
      }
      MPI_Barrier(MPI_COMM_WORLD);
      {
        // Resumed from the checkpoint of step 5: steps 6.. are redone, with 2 samples per rank.
        io::TrajectoryWriter w(MPI_COMM_WORLD, tdir, make_meta(), cfg);
        for (int64_t step = 6; step < 9; ++step) w.append(test::make_batch(step, rank, 2));
      }
      MPI_Barrier(MPI_COMM_WORLD);
      if (rank == 0) check_run(tdir, {0, 1, 2, 3, 5, 6, 7, 8}, 6, 2);
    }
  }
}

BOOST_AUTO_TEST_CASE(ranks_on_different_steps_fail_together) {
  const int rank = world_rank();
  SharedDir dir;
  io::TrajectoryMeta meta;
  meta.reward_names = test::kRewardNames;
  {
    // From the first step on: the writer recovers, and resumes from the next first step.
    io::TrajectoryWriter w(MPI_COMM_WORLD, dir.path + "/first", meta, {});
    w.append(test::make_batch(rank, rank, 2));
    BOOST_CHECK_THROW(w.flush(), core::MismatchError);
    w.append(test::make_batch(5, rank, 1));
  }
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank == 0) {
    io::TrajectoryReader r(dir.path + "/first");
    BOOST_REQUIRE_EQUAL(r.steps().size(), 1u);
    BOOST_TEST(r.steps()[0].step == 5);
  }
  io::TrajectoryWriter w(MPI_COMM_WORLD, dir.path + "/t", meta, {});
  // Found at the write (here flush()), on both ranks; the buffered steps are dropped.
  w.append(test::make_batch(0, 0, 2));
  w.append(test::make_batch(1 + rank, rank, 2));
  BOOST_CHECK_THROW(w.flush(), core::MismatchError);
  BOOST_TEST(w.buffered_steps() == 0);
  // A rank that missed a step.
  w.append(test::make_batch(0, rank, 2));
  if (rank == 0) w.append(test::make_batch(1, rank, 2));
  BOOST_CHECK_THROW(w.flush(), core::MismatchError);
  // A bad batch on one rank fails both.
  auto b = test::make_batch(0, rank, 2);
  if (rank == 1) b.confidence = torch::zeros({2, 3});
  w.append(b);
  BOOST_CHECK_THROW(w.flush(), core::InternalError);
  // Ranks that disagree on the completion length.
  auto c = test::make_batch(0, rank, 2);
  if (rank == 1) {
    c.completion_ids = torch::zeros({2, 8}, torch::kLong);
    c.step_map = torch::zeros({2, 8}, torch::kLong);
    c.confidence = torch::zeros({2, 8});
    c.old_logprob = torch::zeros({2, 8});
  }
  w.append(c);
  BOOST_CHECK_THROW(w.close(), core::MismatchError);
  w.append(test::make_batch(0, rank, 2));  // still usable
  w.close();
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank == 0) {
    io::TrajectoryReader r(dir.path + "/t");
    BOOST_TEST(r.num_samples() == 2 * world_size());
  }
}

BOOST_AUTO_TEST_SUITE_END()
