// Logging: info lines from rank 0 only, warnings and errors from every rank with [rN], level threshold.
#include <boost/test/unit_test.hpp>
#include <vector>

#include "core/log.hpp"

using namespace mdrl::core;

namespace {
struct Capture {
  std::vector<std::pair<log::Level, std::string>> lines;
  Capture() {
    log::set_sink([this](log::Level l, std::string_view s) { lines.emplace_back(l, std::string(s)); });
  }
  ~Capture() {
    log::set_sink(nullptr);
    log::set_rank(0, 1);
    log::set_level(log::Level::Info);
  }
};
}  // namespace

BOOST_AUTO_TEST_SUITE(logging)

BOOST_AUTO_TEST_CASE(rank_zero_prints_info) {
  Capture cap;
  log::set_rank(0, 2);
  log::info() << "step " << 3 << " loss " << 0.5;
  log::debug() << "hidden at level info";
  BOOST_REQUIRE_EQUAL(cap.lines.size(), 1u);
  BOOST_TEST(cap.lines[0].second.find("I] step 3 loss 0.5") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(other_ranks_print_only_warnings_with_prefix) {
  Capture cap;
  log::set_rank(1, 2);
  log::info() << "not shown";
  log::warn() << "disk almost full";
  log::error() << "failed";
  BOOST_REQUIRE_EQUAL(cap.lines.size(), 2u);
  BOOST_TEST(cap.lines[0].second.find("W r1] disk almost full") != std::string::npos);
  BOOST_TEST(cap.lines[1].second.find("E r1] failed") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(level_threshold) {
  Capture cap;
  log::set_level(log::Level::Warn);
  log::info() << "quiet";
  log::warn() << "loud";
  log::set_level(log::Level::Debug);
  log::debug() << "details";
  BOOST_REQUIRE_EQUAL(cap.lines.size(), 2u);
  BOOST_TEST(cap.lines[1].second.find("D] details") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
