// Under `mpirun -np 2`: both ranks append different sample counts (zero included) for several
// steps with collective writes, with and without compression, and one process reading the file
// sees every sample in order (steps ascending, ranks ascending within a step). Ranks that disagree
// on the step fail together instead of hanging.
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
// Samples per (step, rank): uneven, with a rank that has none at step 2.
int64_t count(int64_t step, int rank) {
  static const int64_t c[4][2] = {{3, 2}, {1, 4}, {0, 5}, {6, 1}};
  return c[step][rank];
}
}  // namespace

BOOST_AUTO_TEST_SUITE(io_trajectory_mpi)

BOOST_AUTO_TEST_CASE(uneven_appends_read_back_in_order) {
  const int rank = world_rank();
  for (int64_t compression : {0, 3}) {
    SharedDir dir;
    const std::string tdir = dir.path + "/trajectories";
    io::TrajectoryMeta meta;
    meta.reward_names = test::kRewardNames;
    meta.config_ini = "[run]\nseed = 1\n";
    io::TrajectoryConfig cfg;
    cfg.compression = compression;
    {
      io::TrajectoryWriter w(MPI_COMM_WORLD, tdir, meta, cfg);
      for (int64_t step = 0; step < 4; ++step) w.append(test::make_batch(step, rank, count(step, rank)));
    }
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank == 0) {
      io::TrajectoryReader r(tdir + "/trajectories.h5");
      BOOST_TEST(r.world_size() == 2);
      BOOST_REQUIRE_EQUAL(r.steps().size(), 4u);
      int64_t index = 0;
      for (int64_t step = 0; step < 4; ++step) {
        const auto& st = r.steps()[static_cast<size_t>(step)];
        BOOST_TEST(st.step == step);
        BOOST_TEST(st.first_sample == index);
        BOOST_TEST(st.num_samples == count(step, 0) + count(step, 1));
        const auto samples = r.step_samples(static_cast<size_t>(step));
        size_t at = 0;
        for (int src = 0; src < 2; ++src)
          for (int64_t i = 0; i < count(step, src); ++i) {
            BOOST_TEST(samples[at].index == index);
            test::check_sample(samples[at++], step, src, i);
            ++index;
          }
      }
      BOOST_TEST(r.num_samples() == index);
    }
  }
}

BOOST_AUTO_TEST_CASE(resume_with_two_ranks_drops_redone_steps) {
  const int rank = world_rank();
  SharedDir dir;
  const std::string tdir = dir.path + "/t";
  io::TrajectoryMeta meta;
  meta.reward_names = test::kRewardNames;
  {
    io::TrajectoryWriter w(MPI_COMM_WORLD, tdir, meta, {});
    for (int64_t step = 0; step < 4; ++step) w.append(test::make_batch(step, rank, count(step, rank)));
  }
  {
    io::TrajectoryWriter w(MPI_COMM_WORLD, tdir, meta, {});
    w.append(test::make_batch(2, rank, 1));
  }
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank == 0) {
    io::TrajectoryReader r(tdir + "/trajectories.h5");
    BOOST_REQUIRE_EQUAL(r.steps().size(), 3u);
    BOOST_TEST(r.steps()[2].step == 2);
    BOOST_TEST(r.steps()[2].num_samples == 2);
    BOOST_TEST(r.num_samples() == 3 + 2 + 1 + 4 + 2);
    const auto last = r.step_samples(2);
    test::check_sample(last[0], 2, 0, 0);
    test::check_sample(last[1], 2, 1, 0);
  }
}

BOOST_AUTO_TEST_CASE(ranks_on_different_steps_fail_together) {
  const int rank = world_rank();
  SharedDir dir;
  io::TrajectoryMeta meta;
  meta.reward_names = test::kRewardNames;
  io::TrajectoryWriter w(MPI_COMM_WORLD, dir.path + "/t", meta, {});
  BOOST_CHECK_THROW(w.append(test::make_batch(rank, rank, 2)), core::MismatchError);
  // A bad batch on one rank fails both.
  auto b = test::make_batch(0, rank, 2);
  if (rank == 1) b.confidence = torch::zeros({2, 3});
  BOOST_CHECK_THROW(w.append(b), core::InternalError);
  w.append(test::make_batch(0, rank, 2));  // still usable
}

BOOST_AUTO_TEST_SUITE_END()
