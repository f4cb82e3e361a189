// A real SIGKILL mid-interval (src/io/README.md "Trajectory store"): the two halves of one test,
// run by tests/unit/io/kill_writer.sh one after the other under `mpirun -np 2` (and on one
// process), in the directory MDRL_KILL_DIR. `killed_child` appends steps 0..5 with checkpoints
// (flush()) after steps 2 and 5, appends steps 6 and 7 (written to the open segment when
// trajectory.flush_every = MDRL_KILL_FLUSH_EVERY is small), then every rank SIGKILLs itself.
// `after_kill` checks that the history holds exactly steps 0..5, every sample intact, and that the
// resumed writer deletes the partial segment, redoes steps 6.. and ends with a complete history.
// Both are disabled in a plain run of the executable (they need the script's setup).
#include <signal.h>

#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <filesystem>

#include "io/trajectory_store.hpp"
#include "test_support.hpp"
#include "unit/io/trajectory_fixture.hpp"

using namespace mdrl;
namespace fs = std::filesystem;
namespace utf = boost::unit_test;

namespace {
std::string kill_dir() {
  const char* d = std::getenv("MDRL_KILL_DIR");
  BOOST_REQUIRE_MESSAGE(d != nullptr, "MDRL_KILL_DIR is not set; run through tests/unit/io/kill_writer.sh");
  return std::string(d) + "/trajectories";
}
io::TrajectoryConfig kill_config() {
  io::TrajectoryConfig c;
  const char* fe = std::getenv("MDRL_KILL_FLUSH_EVERY");
  c.flush_every = fe != nullptr ? std::atoll(fe) : 1;
  return c;
}
io::TrajectoryMeta meta() {
  io::TrajectoryMeta m;
  m.reward_names = test::kRewardNames;
  m.config_ini = "[run]\nseed = 3\n";
  return m;
}
int world() {
  int n = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  return n;
}
int64_t count(int64_t step, int rank) {
  return step >= 6 ? 3 : 1 + (step + rank) % 3;
}

// Rank 0: the directory's history is `steps`, each step's samples those of every rank in order.
void check_history(const std::string& tdir, int64_t last_step) {
  const io::TrajectoryReader r(tdir);
  BOOST_REQUIRE_EQUAL(static_cast<int64_t>(r.steps().size()), last_step + 1);
  for (size_t s = 0; s < r.steps().size(); ++s) {
    const auto& st = r.steps()[s];
    BOOST_TEST(st.step == static_cast<int64_t>(s));
    const auto samples = r.step_samples(s);
    size_t at = 0;
    for (int src = 0; src < world(); ++src)
      for (int64_t i = 0; i < count(st.step, src); ++i) {
        BOOST_REQUIRE(at < samples.size());
        test::check_sample(samples[at++], st.step, src, i);
      }
    BOOST_TEST(at == samples.size());
  }
  for (const auto& path : r.files()) BOOST_CHECK_NO_THROW(io::TrajectoryReader{path});
}
}  // namespace

BOOST_AUTO_TEST_SUITE(trajectory_kill)

BOOST_AUTO_TEST_CASE(killed_child, *utf::disabled()) {
  const int rank = test::world_rank();
  io::TrajectoryWriter w(MPI_COMM_WORLD, kill_dir(), meta(), kill_config());
  for (int64_t step = 0; step < 8; ++step) {
    w.append(test::make_batch(step, rank, count(step, rank)));
    if (step == 2 || step == 5) w.flush();  // the checkpoints of steps 2 and 5
  }
  MPI_Barrier(MPI_COMM_WORLD);
  raise(SIGKILL);
}

BOOST_AUTO_TEST_CASE(after_kill, *utf::disabled()) {
  const int rank = test::world_rank();
  const std::string tdir = kill_dir();
  const bool written = kill_config().flush_every <= 2;  // steps 6, 7 reached the open segment
  if (rank == 0) {
    BOOST_TEST(fs::exists(tdir + "/seg-00000006.h5.tmp") == written);
    check_history(tdir, 5);  // every checkpointed sample, nothing after
  }
  MPI_Barrier(MPI_COMM_WORLD);
  {
    // Resumed from the checkpoint of step 5.
    io::TrajectoryWriter w(MPI_COMM_WORLD, tdir, meta(), kill_config());
    if (rank == 0) BOOST_TEST(!fs::exists(tdir + "/seg-00000006.h5.tmp"));
    for (int64_t step = 6; step < 9; ++step) w.append(test::make_batch(step, rank, count(step, rank)));
  }
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank == 0) {
    check_history(tdir, 8);
    BOOST_TEST(io::TrajectoryReader::run_files(tdir).size() == 3u);  // 0..2, 3..5, 6..8
    for (const auto& e : fs::directory_iterator(tdir)) BOOST_TEST(e.path().extension() != ".tmp", e.path());
  }
}

BOOST_AUTO_TEST_SUITE_END()
