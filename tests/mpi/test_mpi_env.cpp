// Under `mpirun -np 2`: rank and local-rank discovery, node communicator, string collectives, and
// thread placement when two unbound ranks share one node's CPUs.
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <set>

#include "core/check_mpi.hpp"
#include "core/log.hpp"
#include "dist/collectives_mpi.hpp"
#include "dist/device.hpp"
#include "dist/mpi_env.hpp"

using namespace mdrl;

BOOST_AUTO_TEST_SUITE(mpi_env)

BOOST_AUTO_TEST_CASE(world_and_local_ranks) {
  dist::MpiEnv env(nullptr, nullptr);
  BOOST_REQUIRE_EQUAL(env.size(), 2);
  BOOST_TEST((env.rank() == 0 || env.rank() == 1));
  BOOST_TEST(core::log::rank() == env.rank());
  // Both ranks run on this machine: one node, two local ranks, distinct local ranks.
  BOOST_TEST(env.node_count() == 1);
  BOOST_TEST(env.node_index() == 0);
  BOOST_TEST(env.local_size() == 2);
  const auto locals = dist::allgather_strings(env.world(), std::to_string(env.local_rank()));
  BOOST_TEST(std::set<std::string>(locals.begin(), locals.end()).size() == 2u);
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  BOOST_TEST(env.hostname() == std::string(host));
  int node_size = 0;
  MDRL_CHECK_MPI(MPI_Comm_size(env.node(), &node_size));
  BOOST_TEST(node_size == 2);
}

BOOST_AUTO_TEST_CASE(string_collectives) {
  dist::MpiEnv env(nullptr, nullptr);
  // Different lengths, one empty, embedded zero byte.
  const std::string mine = env.rank() == 0 ? std::string("rank zero\0x", 11) : std::string();
  const auto all = dist::allgather_strings(env.world(), mine);
  BOOST_REQUIRE_EQUAL(all.size(), 2u);
  BOOST_TEST(all[0].size() == 11u);
  BOOST_TEST(all[1].empty());
  const auto at_root = dist::gather_strings(env.world(), std::string(1, 'r') + std::to_string(env.rank()), 1);
  if (env.rank() == 1) {
    BOOST_REQUIRE_EQUAL(at_root.size(), 2u);
    BOOST_TEST(at_root[0] == "r0");
    BOOST_TEST(at_root[1] == "r1");
  } else {
    BOOST_TEST(at_root.empty());
  }
  BOOST_TEST(dist::allreduce_min(env.world(), 10 + env.rank()) == 10);
  BOOST_TEST(dist::allreduce_max(env.world(), 10 + env.rank()) == 11);
}

BOOST_AUTO_TEST_CASE(unbound_ranks_share_the_cores) {
  // ctest launches with --bind-to none: both ranks have the same affinity mask.
  unsetenv("OMP_NUM_THREADS");
  dist::MpiEnv env(nullptr, nullptr);
  const auto p = dist::place_rank(env, dist::DistConfig{});
  BOOST_TEST(p.sharing_ranks == 2);
  BOOST_TEST(p.threads == std::max(1, p.affinity_cpus / 2));
}

BOOST_AUTO_TEST_CASE(comm_raii_frees) {
  dist::MpiEnv env(nullptr, nullptr);
  MPI_Comm dup = MPI_COMM_NULL;
  MDRL_CHECK_MPI(MPI_Comm_dup(env.world(), &dup));
  {
    dist::Comm c(dup);
    BOOST_TEST(c.size() == 2);
    dist::Comm moved(std::move(c));
    BOOST_TEST((c.get() == MPI_COMM_NULL));
    BOOST_TEST(moved.rank() == env.rank());
  }
}

BOOST_AUTO_TEST_SUITE_END()
