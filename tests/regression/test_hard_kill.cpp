// Hard kills (issue 17): for every training mode (hard_kill_support.hpp modes(): SFT, one-step GRPO,
// diffu-GRPO, CJ-GRPO), a few trials of `mpirun -np 2 mdrl <mode>` with both ranks SIGKILLed at a random
// moment, then the same command again: the rerun resumes from the newest complete checkpoint the
// killed run left and ends with the uninterrupted run's weights (bytes), metrics and trajectory
// history. MDRL_HARD_KILL_TRIALS (default 3) trials per mode, MDRL_HARD_KILL_SEED picks the moments
// (printed, so a failure can be replayed); tests/bench/bench_hard_kill.cpp runs many more.
#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <random>

#include "regression/hard_kill_support.hpp"

using namespace mdrl::test;
namespace hk = mdrl::test::hard_kill;

BOOST_AUTO_TEST_CASE(sigkill_both_ranks_then_rerun_equals_an_uninterrupted_run) {
  const char* n = std::getenv("MDRL_HARD_KILL_TRIALS");
  const int trials = n != nullptr ? std::atoi(n) : 3;
  const char* s = std::getenv("MDRL_HARD_KILL_SEED");
  const uint64_t seed = s != nullptr ? std::strtoull(s, nullptr, 10) : std::random_device{}();
  BOOST_TEST_MESSAGE("MDRL_HARD_KILL_SEED=" << seed);
  std::mt19937_64 rng(seed);
  for (const auto& mode : hk::modes()) {
    BOOST_TEST_CONTEXT(mode.name << " (MDRL_HARD_KILL_SEED=" << seed << ")") {
      TempDir dir;
      const auto ref = hk::reference(mode, dir.path() / "straight");
      int resumed = 0;
      for (int i = 0; i < trials; ++i) {
        const auto t = hk::run_trial(mode, ref, dir.path() / "killed", rng);
        BOOST_TEST_MESSAGE(mode.name << " trial " << i << ": " << t.to_json().dump());
        BOOST_TEST(t.ok(), "trial " << i << ": " << t.problem);
        resumed += t.resumed_step >= 0 ? 1 : 0;
      }
      BOOST_TEST_MESSAGE(mode.name << ": " << resumed << " of " << trials << " reruns resumed from a checkpoint");
    }
  }
}
