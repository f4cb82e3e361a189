// A signal from outside (as Slurm sends it) to ONE rank of `mpirun -np 2`: both ranks stop at the
// same step boundary and the job exits 0. SIGUSR1 to mpirun itself (README "Stopping"): mpirun
// forwards it to every rank, both stop at the same step and mpirun exits 0. (SIGTERM or SIGINT to
// mpirun is Open MPI's job kill: SIGTERM to the ranks, SIGKILL a second later, exit 1 whatever the
// ranks do; the README says so.)
#include <signal.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <fstream>
#include <regex>
#include <thread>

#include "test_support.hpp"

using namespace mdrl::test;

BOOST_AUTO_TEST_CASE(sigusr1_to_one_rank_stops_both_at_the_same_step) {
  TempDir dir;
  const std::string cmd = env_or_throw("MPIEXEC") + " -np 2 --oversubscribe --bind-to none " +
                          env_or_throw("MDRL_RUN_CONTROL_DRIVER") + " " + dir.path().string() + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  BOOST_REQUIRE(pipe != nullptr);
  // Wait for rank 1's pid file, let a few steps pass, then signal rank 1 only.
  const auto pid_file = dir.path() / "pid.1";
  for (int i = 0; i < 600 && !std::filesystem::exists(pid_file); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  BOOST_REQUIRE(std::filesystem::exists(pid_file));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  pid_t pid = 0;
  std::ifstream(pid_file) >> pid;
  BOOST_REQUIRE(pid > 0);
  BOOST_REQUIRE_EQUAL(kill(pid, SIGUSR1), 0);

  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  const int st = pclose(pipe);
  BOOST_TEST(WIFEXITED(st));
  BOOST_TEST(WEXITSTATUS(st) == 0, out);

  std::regex line("rank (\\d) stopped at step (\\d+) \\(SIGUSR1 on rank 1\\) checkpoint=1");
  std::map<int, int> steps;
  for (auto it = std::sregex_iterator(out.begin(), out.end(), line); it != std::sregex_iterator(); ++it)
    steps[std::stoi((*it)[1])] = std::stoi((*it)[2]);
  BOOST_REQUIRE_EQUAL(steps.size(), 2u);
  BOOST_TEST(steps[0] == steps[1], out);
  BOOST_TEST(steps[0] > 1);
}

BOOST_AUTO_TEST_CASE(sigusr1_to_mpirun_stops_both_and_mpirun_exits_0) {
  TempDir dir;
  // The launcher in the background; its pid (the mpirun process) written by the shell.
  const std::string cmd = env_or_throw("MPIEXEC") + " -np 2 --oversubscribe --bind-to none " +
                          env_or_throw("MDRL_RUN_CONTROL_DRIVER") + " " + dir.path().string() + " 2>&1 & echo $! > " +
                          (dir.path() / "launcher.pid").string() + "; wait $!; echo \"launcher exit $?\"";
  FILE* pipe = popen(cmd.c_str(), "r");
  BOOST_REQUIRE(pipe != nullptr);
  for (int i = 0; i < 600 && !(std::filesystem::exists(dir.path() / "pid.0") && std::filesystem::exists(dir.path() / "pid.1"));
       ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  BOOST_REQUIRE(std::filesystem::exists(dir.path() / "pid.1"));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  pid_t launcher = 0;
  std::ifstream(dir.path() / "launcher.pid") >> launcher;
  BOOST_REQUIRE(launcher > 0);
  BOOST_REQUIRE_EQUAL(kill(launcher, SIGUSR1), 0);

  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  pclose(pipe);
  BOOST_TEST(out.find("launcher exit 0") != std::string::npos, out);
  std::regex line("rank (\\d) stopped at step (\\d+) \\((SIGUSR1 on rank \\d(, )?)+\\) checkpoint=1");
  std::map<int, int> steps;
  for (auto it = std::sregex_iterator(out.begin(), out.end(), line); it != std::sregex_iterator(); ++it)
    steps[std::stoi((*it)[1])] = std::stoi((*it)[2]);
  BOOST_REQUIRE_EQUAL(steps.size(), 2u);
  BOOST_TEST(steps[0] == steps[1], out);
}
