// metrics.jsonl: one flushed JSON object per step (readable while the writer is open), non-finite
// numbers as null, only rank 0 writes, and resume drops the rows of redone steps. Also the
// [trajectory] / [checkpoint] option checks.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "config/options.hpp"
#include "core/error.hpp"
#include "io/io_config.hpp"
#include "io/metrics_log.hpp"
#include "test_support.hpp"

using namespace mdrl;
using nlohmann::json;

namespace {
std::vector<json> read_rows(const std::string& path) {
  std::vector<json> rows;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) rows.push_back(json::parse(line));
  return rows;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(metrics_log)

BOOST_AUTO_TEST_CASE(rows_flushed_and_resumed) {
  test::TempDir dir;
  const std::string path = (dir.path() / "run" / "metrics.jsonl").string();
  {
    io::MetricsLog log(path, true);
    for (int64_t step = 1; step <= 5; ++step) {
      log.write(step, {{"loss", 0.5 / static_cast<double>(step)}, {"reward", step == 3 ? NAN : 1.0}, {"phase", "rl"}});
      BOOST_TEST(read_rows(path).size() == static_cast<size_t>(step));  // on disk before the next step
    }
  }
  std::string first;
  std::getline(std::ifstream(path) >> std::ws, first);
  BOOST_TEST(first == R"({"step":1,"loss":0.5,"reward":1.0,"phase":"rl"})");  // "step" first, then as given
  auto rows = read_rows(path);
  BOOST_TEST(rows[2]["reward"].is_null());
  { std::ofstream(path, std::ios::app) << R"({"step":6,"loss":0.)"; }  // torn line of a crash
  {
    io::MetricsLog log(path, true, /*resume_step=*/3);
    log.write(4, {{"loss", 9.0}});
  }
  rows = read_rows(path);
  BOOST_REQUIRE_EQUAL(rows.size(), 4u);
  BOOST_TEST(rows[3]["step"] == 4);
  BOOST_TEST(rows[3]["loss"] == 9.0);
  {
    io::MetricsLog other(path + ".other", false);  // a rank other than 0
    other.write(1, {{"loss", 1.0}});
  }
  BOOST_TEST(!std::filesystem::exists(path + ".other"));
  { io::MetricsLog fresh(path, true); }
  BOOST_TEST(read_rows(path).empty());
  const std::string blocker = dir.write("blocker", "a file, not a directory");
  BOOST_CHECK_THROW(io::MetricsLog(blocker + "/metrics.jsonl", true), core::IoError);
}

BOOST_AUTO_TEST_CASE(io_options) {
  config::Options opts("test");
  io::TrajectoryConfig t;
  io::CheckpointConfig c;
  t.add_options(opts);
  c.add_options(opts);
  opts.parse({"--trajectory.compression=4", "--trajectory.steps_per_file=100", "--checkpoint.every=50",
              "--checkpoint.keep_last=0"});
  BOOST_TEST(t.compression == 4);
  BOOST_TEST(t.steps_per_file == 100);
  BOOST_TEST(c.every == 50);
  BOOST_TEST(c.keep_last == 0);
  t.compression = 10;
  BOOST_CHECK_THROW(t.validate(), core::ConfigError);
  c.keep_last = -1;
  BOOST_CHECK_THROW(c.validate(), core::ConfigError);
}

BOOST_AUTO_TEST_SUITE_END()
