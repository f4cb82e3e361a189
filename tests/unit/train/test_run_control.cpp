// Run control on one rank: walltime parsing, a real signal, STOP and CHECKPOINT_NOW files, walltime.
#include <boost/test/unit_test.hpp>
#include <csignal>
#include <thread>

#include "config/options.hpp"
#include "core/error.hpp"
#include "dist/mpi_env.hpp"
#include "test_support.hpp"
#include "train/run_control.hpp"

using namespace mdrl;

BOOST_AUTO_TEST_SUITE(run_control)

BOOST_AUTO_TEST_CASE(walltime_forms) {
  BOOST_TEST(train::parse_walltime("0") == 0.0);
  BOOST_TEST(train::parse_walltime("3600") == 3600.0);
  BOOST_TEST(train::parse_walltime("90:30") == 5430.0);
  BOOST_TEST(train::parse_walltime("01:30:00") == 5400.0);
  BOOST_TEST(train::parse_walltime("2-00:00:10") == 172810.0);
  BOOST_TEST(train::parse_walltime("100:59") == 6059.0);  // the leading field may be large
  for (const char* bad : {"", "1h", "1:2:3:4", "-5", "2-10", "1.5", "25:99", "1:60:00", "1-24:00:00"})
    BOOST_CHECK_THROW(train::parse_walltime(bad), core::ConfigError);
}

BOOST_AUTO_TEST_CASE(option_registered_in_run_section) {
  train::RunControlConfig cfg;
  config::Options opts("t");
  cfg.add_options(opts);
  opts.parse({"--run.walltime=1:00:00"});
  BOOST_TEST(cfg.walltime == "1:00:00");
  train::RunControlConfig bad;
  config::Options o2("t");
  bad.add_options(o2);
  BOOST_CHECK_THROW(o2.parse({"--run.walltime=soon"}), core::ConfigError);
}

BOOST_AUTO_TEST_CASE(signal_stops_with_checkpoint) {
  dist::MpiEnv env(nullptr, nullptr);
  test::TempDir dir;
  train::RunControl rc(env, train::RunControlConfig{}, dir.path().string());
  BOOST_TEST(!rc.at_step_boundary().checkpoint);
  std::raise(SIGUSR1);  // delivered through the kernel to the installed handler
  BOOST_TEST(train::RunControl::pending_signal() == SIGUSR1);
  const auto d = rc.at_step_boundary();
  BOOST_TEST(d.checkpoint);
  BOOST_TEST(d.stop);
  BOOST_TEST(d.reason == "SIGUSR1 on rank 0");
}

BOOST_AUTO_TEST_CASE(files_in_run_dir) {
  dist::MpiEnv env(nullptr, nullptr);
  test::TempDir dir;
  train::RunControl rc(env, train::RunControlConfig{}, dir.path().string());
  dir.write("CHECKPOINT_NOW", "");
  auto d = rc.at_step_boundary();
  BOOST_TEST(d.checkpoint);
  BOOST_TEST(!d.stop);
  BOOST_TEST(!std::filesystem::exists(dir.path() / "CHECKPOINT_NOW"));  // consumed: once only
  BOOST_TEST(!rc.at_step_boundary().checkpoint);
  dir.write("STOP", "");
  d = rc.at_step_boundary();
  BOOST_TEST(d.checkpoint);
  BOOST_TEST(d.stop);
  BOOST_TEST(d.reason.find("STOP file") != std::string::npos);
  // Consumed too: the rerun that resumes goes on instead of stopping after one step.
  BOOST_TEST(!std::filesystem::exists(dir.path() / "STOP"));
  BOOST_TEST(std::filesystem::exists(dir.path() / "STOP.done"));
  train::RunControl rerun(env, train::RunControlConfig{}, dir.path().string());
  BOOST_TEST(!rerun.at_step_boundary().checkpoint);
}

BOOST_AUTO_TEST_CASE(walltime_with_margin_and_step_time) {
  dist::MpiEnv env(nullptr, nullptr);
  test::TempDir dir;
  train::RunControlConfig cfg;
  cfg.walltime = "2";
  cfg.walltime_margin_s = 0.5;
  train::RunControl rc(env, cfg, dir.path().string());
  std::this_thread::sleep_for(std::chrono::milliseconds(700));  // one "step" of 0.7 s
  BOOST_TEST(!rc.at_step_boundary().stop);                     // 0.7 + 0.7 + 0.5 < 2
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const auto d = rc.at_step_boundary();                          // 0.9 + 0.7 + 0.5 >= 2
  BOOST_TEST(d.stop);
  BOOST_TEST(d.reason == "run.walltime reached soon");
}

BOOST_AUTO_TEST_SUITE_END()
