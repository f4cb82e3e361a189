// Hard-kill benchmark (issue 17): MDRL_HARD_KILL_TRIALS (default 20) trials per training mode of
// `mpirun -np 2 mdrl <mode>` SIGKILLed on both ranks at a random moment and rerun (see
// tests/regression/hard_kill_support.hpp for what a trial checks). Prints one JSON object: per mode
// the trials, how many passed, how many reruns resumed from a checkpoint (and from which steps),
// what the kills left behind (partial checkpoints and trajectory segments), each trial's record,
// and the seed. Exits 1 when any trial failed.
#include <cstdlib>
#include <iostream>
#include <random>

#include "regression/hard_kill_support.hpp"

namespace hk = mdrl::test::hard_kill;
using nlohmann::json;

int main() {
  const char* n = std::getenv("MDRL_HARD_KILL_TRIALS");
  const int trials = n != nullptr ? std::atoi(n) : 20;
  const char* s = std::getenv("MDRL_HARD_KILL_SEED");
  const uint64_t seed = s != nullptr ? std::strtoull(s, nullptr, 10) : std::random_device{}();
  std::mt19937_64 rng(seed);
  json out = {{"benchmark", "hard_kill"}, {"seed", seed}, {"trials_per_mode", trials}, {"modes", json::object()}};
  bool all_ok = true;
  for (const auto& mode : hk::modes()) {
    mdrl::test::TempDir dir;
    json m = {{"trials", 0},
              {"passed", 0},
              {"resumed_from_checkpoint", 0},
              {"started_afresh", 0},
              {"left_partial_checkpoint", 0},
              {"left_partial_segment", 0},
              {"records", json::array()}};
    try {
      const auto ref = hk::reference(mode, dir.path() / "straight");
      m["uninterrupted_s"] = ref.seconds;
      for (int i = 0; i < trials; ++i) {
        const auto t = hk::run_trial(mode, ref, dir.path() / "killed", rng);
        m["trials"] = m["trials"].get<int>() + 1;
        m["passed"] = m["passed"].get<int>() + (t.ok() ? 1 : 0);
        m[t.resumed_step >= 0 ? "resumed_from_checkpoint" : "started_afresh"] =
            m[t.resumed_step >= 0 ? "resumed_from_checkpoint" : "started_afresh"].get<int>() + 1;
        m["left_partial_checkpoint"] = m["left_partial_checkpoint"].get<int>() + (t.partial_checkpoints > 0 ? 1 : 0);
        m["left_partial_segment"] = m["left_partial_segment"].get<int>() + (t.partial_segments > 0 ? 1 : 0);
        m["records"].push_back(t.to_json());
        if (!t.ok()) std::cerr << mode.name << " trial " << i << " failed: " << t.problem << "\n";
        all_ok = all_ok && t.ok();
      }
    } catch (const std::exception& e) {
      m["error"] = e.what();
      all_ok = false;
    }
    out["modes"][mode.name] = m;
  }
  out["all_passed"] = all_ok;
  std::cout << out.dump(2) << std::endl;
  return all_ok ? 0 : 1;
}
