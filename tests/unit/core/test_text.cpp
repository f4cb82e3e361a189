#include <boost/test/unit_test.hpp>

#include "core/text.hpp"

using namespace mdrl::core;

BOOST_AUTO_TEST_SUITE(text)

BOOST_AUTO_TEST_CASE(trim_split_join) {
  BOOST_TEST(trim("  a b \t\n") == "a b");
  BOOST_TEST(trim("   ").empty());
  const auto parts = split(" q, k ,v,", ',');
  BOOST_REQUIRE_EQUAL(parts.size(), 4u);
  BOOST_TEST(parts[1] == "k");
  BOOST_TEST(parts[3] == "");
  BOOST_TEST(join({"a", "b", "c"}, ", ") == "a, b, c");
}

BOOST_AUTO_TEST_CASE(suggestions) {
  BOOST_TEST(edit_distance("seed", "seed") == 0u);
  BOOST_TEST(edit_distance("sed", "seed") == 1u);
  BOOST_TEST(edit_distance("run.sede", "run.seed") == 1u);  // transposition
  BOOST_TEST(edit_distance("", "abc") == 3u);
  const auto m = closest_matches("run.sed", {"run.seed", "run.dir", "log.level"});
  BOOST_REQUIRE_EQUAL(m.size(), 1u);
  BOOST_TEST(m[0] == "run.seed");
  BOOST_TEST(closest_matches("nonsense", {"run.seed", "run.dir"}).empty());
}

BOOST_AUTO_TEST_SUITE_END()
