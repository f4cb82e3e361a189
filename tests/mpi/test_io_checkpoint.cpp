// Under `mpirun -np 2`: a checkpoint written collectively (tensors split between the ranks) reads
// back bit-exactly on both ranks, each rank getting its own RNG streams and sampler cursor; a crash
// before the rename leaves the previous checkpoint to resume from; a checkpoint written by two
// ranks is refused by a one-rank run; ranks that disagree on the contents fail together; a flipped
// byte fails both ranks alike, naming the tensor, and checkpoint.fallback takes both back a step.
#include <boost/test/unit_test.hpp>
#include <filesystem>

#include "core/error.hpp"
#include "io/checkpoint.hpp"
#include "io/file_util.hpp"
#include "mpi/shared_dir.hpp"
#include "test_support.hpp"
#include "unit/io/checkpoint_fixture.hpp"

using namespace mdrl;
using test::SharedDir;
using test::world_rank;

BOOST_AUTO_TEST_SUITE(io_checkpoint_mpi)

BOOST_AUTO_TEST_CASE(round_trip_per_rank_state) {
  const int rank = world_rank();
  SharedDir dir;
  io::CheckpointManager m(MPI_COMM_WORLD, dir.path, {});
  for (auto trainable : {io::Trainable::Full, io::Trainable::Lora}) {
    const auto s = test::make_checkpoint_state(12, rank, trainable);
    m.save(s);
    const auto back = m.resume(test::requirements(s));
    BOOST_REQUIRE(back.has_value());
    test::check_same_state(*back, s);  // includes this rank's streams and cursor
    BOOST_TEST(back->samplers[0].second.cursor == 96 * 12 + rank);
  }
}

BOOST_AUTO_TEST_CASE(crash_before_rename_and_world_size_refusal) {
  const int rank = world_rank();
  SharedDir dir;
  io::CheckpointManager m(MPI_COMM_WORLD, dir.path, {});
  const auto s5 = test::make_checkpoint_state(5, rank);
  m.save(s5);
  m.set_crash_before_rename_for_testing(true);
  m.save(test::make_checkpoint_state(6, rank));
  io::CheckpointManager resumed(MPI_COMM_WORLD, dir.path, {});
  const auto latest = resumed.find_latest();
  BOOST_TEST(latest.value() == m.path_for_step(5));
  test::check_same_state(resumed.load(*latest, test::requirements(s5)), s5);
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank == 0) {
    io::CheckpointManager one(MPI_COMM_SELF, dir.path, {});
    try {
      one.load(*latest, test::requirements(s5));
      BOOST_FAIL("a one-rank run accepted a two-rank checkpoint");
    } catch (const core::FormatError& e) {
      const std::string msg = e.what();
      BOOST_TEST(msg.find("written by 2 ranks, this run has 1") != std::string::npos, msg);
      BOOST_TEST(msg.find(*latest) != std::string::npos, msg);
    }
  }
}

BOOST_AUTO_TEST_CASE(ranks_disagreeing_on_contents_fail_together) {
  const int rank = world_rank();
  SharedDir dir;
  io::CheckpointManager m(MPI_COMM_WORLD, dir.path, {});
  auto s = test::make_checkpoint_state(3, rank);
  if (rank == 1) s.optimizer_scalars["lr"] = 2.0;
  BOOST_CHECK_THROW(m.save(s), core::MismatchError);
  BOOST_TEST(!std::filesystem::exists(m.path_for_step(3)));
}

BOOST_AUTO_TEST_CASE(damaged_tensor_fails_every_rank_and_fallback_resumes_both) {
  const int rank = world_rank();
  SharedDir dir;
  io::CheckpointConfig cfg;
  io::CheckpointManager m(MPI_COMM_WORLD, dir.path, cfg);
  const auto s5 = test::make_checkpoint_state(5, rank);
  m.save(s5);
  const std::string p6 = m.save(test::make_checkpoint_state(6, rank));
  // Tensors are split between the writers; damage one of each.
  if (rank == 0)
    for (const auto* t : {"model/params/layers.0.weight", "optimizer/tensors/exp_avg/norm.weight"})
      test::flip_byte_in_dataset(p6, t, 2);
  MPI_Barrier(MPI_COMM_WORLD);
  try {
    m.resume(test::requirements(s5));
    BOOST_FAIL("a damaged checkpoint was accepted");
  } catch (const io::CheckpointDamagedError& e) {
    const std::string msg = e.what();
    BOOST_TEST(msg.find(p6) != std::string::npos, msg);
    BOOST_TEST(msg.find("tensor 'model/params/layers.0.weight'") != std::string::npos, msg);
  }
  cfg.fallback = true;
  io::CheckpointManager fb(MPI_COMM_WORLD, dir.path, cfg);
  const auto back = fb.resume(test::requirements(s5));
  BOOST_REQUIRE(back.has_value());
  test::check_same_state(*back, s5);  // each rank its own streams and cursor
  BOOST_TEST(std::filesystem::exists(p6 + ".corrupt"));
  BOOST_TEST(!std::filesystem::exists(p6));
}

BOOST_AUTO_TEST_SUITE_END()
