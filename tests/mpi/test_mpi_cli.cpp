// `mpirun -np 2 mdrl ...`: both ranks appear in `info`; a bad option is reported once and every
// rank exits with status 2 (no hang, no MPI_Abort noise).
#include <boost/test/unit_test.hpp>

#include "test_support.hpp"

using namespace mdrl::test;

namespace {
size_t count(const std::string& s, const std::string& part) {
  size_t n = 0;
  for (size_t p = s.find(part); p != std::string::npos; p = s.find(part, p + 1)) ++n;
  return n;
}
CommandResult mpirun2(const std::string& args) {
  return run_command(env_or_throw("MPIEXEC") + " -np 2 --oversubscribe --bind-to none " + env_or_throw("MDRL_EXE") +
                     " " + args);
}
}  // namespace

BOOST_AUTO_TEST_SUITE(mpi_cli)

BOOST_AUTO_TEST_CASE(info_shows_two_ranks) {
  const auto r = mpirun2("info");
  BOOST_TEST(r.status == 0, r.output);
  BOOST_TEST(count(r.output, "world size     2 rank(s) on 1 node(s)") == 1u, r.output);
  BOOST_TEST(count(r.output, "\n    0  ") == 1u, r.output);
  BOOST_TEST(count(r.output, "\n    1  ") == 1u, r.output);
  BOOST_TEST(count(r.output, "/2    ") == 2u, r.output);  // local size 2 on both rows
}

BOOST_AUTO_TEST_CASE(bad_option_reported_once_all_ranks_exit_2) {
  const auto r = mpirun2("sft --nonsense=1");
  BOOST_TEST(r.status == 2, r.output);
  BOOST_TEST(count(r.output, "unknown option 'nonsense'") == 1u, r.output);
  BOOST_TEST(count(r.output, "MPI_ABORT") == 0u, r.output);
}

// A data error every rank meets (each reads the same file) is printed once, names the ranks, and
// ends the job with exit 2 without the MPI_ABORT banner.
BOOST_AUTO_TEST_CASE(data_error_on_every_rank_printed_once) {
  TempDir dir;
  const auto data = dir.write("d.jsonl", "{\"prompt\": \"2+2?\", \"response\": \"4\"}\n{\"prompt\": \"3+3?\"}\n");
  const auto r = mpirun2("sft --sft.data=" + data + " --run.dir=" + (dir.path() / "run").string() +
                         " --model.preset=tiny --train.max_steps=1 --train.eval_every=0 --sft.eval_fraction=0");
  BOOST_TEST(r.status == 2, r.output);
  BOOST_TEST(count(r.output, data + ":2") == 1u, r.output);
  BOOST_TEST(count(r.output, "(on every rank)") == 1u, r.output);
  BOOST_TEST(count(r.output, "MPI_ABORT") == 0u, r.output);
}

BOOST_AUTO_TEST_SUITE_END()
