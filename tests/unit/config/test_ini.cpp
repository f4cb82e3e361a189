// INI reader: sections, comments, quoting, and errors that name the file and line.
#include <boost/test/unit_test.hpp>

#include "config/ini.hpp"
#include "core/error.hpp"
#include "test_support.hpp"

using namespace mdrl;
using config::parse_ini;

namespace {
std::string error_of(const std::string& text) {
  try {
    parse_ini(text, "f.ini");
  } catch (const core::ConfigError& e) {
    return e.what();
  }
  return "no error";
}
}  // namespace

BOOST_AUTO_TEST_SUITE(ini)

BOOST_AUTO_TEST_CASE(entries_with_origins) {
  const auto e = parse_ini(
      "\xEF\xBB\xBF# comment\n[run]\nseed = 42   # inline comment\n; another\n\n[decode]\n"
      "schedule=ass\nname = \"a # b \"\npath = /x/y#z\n",
      "f.ini");
  BOOST_REQUIRE_EQUAL(e.size(), 4u);
  BOOST_TEST(e[0].key == "run.seed");
  BOOST_TEST(e[0].value == "42");
  BOOST_TEST(e[0].origin() == "f.ini:3");
  BOOST_TEST(e[1].key == "decode.schedule");
  BOOST_TEST(e[1].value == "ass");
  BOOST_TEST(e[2].value == "a # b ");    // quoted: kept verbatim
  BOOST_TEST(e[3].value == "/x/y#z");    // '#' not after whitespace is not a comment
  BOOST_TEST(e[3].line == 9);
}

BOOST_AUTO_TEST_CASE(malformed_lines_name_file_and_line) {
  BOOST_TEST(error_of("seed = 1\n").find("f.ini:1: key 'seed' is outside any section") != std::string::npos);
  BOOST_TEST(error_of("[run]\nseed\n").find("f.ini:2: expected 'key = value'") != std::string::npos);
  BOOST_TEST(error_of("[run]\nseed=1\nseed=2\n").find("f.ini:3: key 'run.seed' is set twice") != std::string::npos);
  BOOST_TEST(error_of("[run\n").find("f.ini:1: section header without ']'") != std::string::npos);
  BOOST_TEST(error_of("[r un]\n").find("invalid section name") != std::string::npos);
  BOOST_TEST(error_of("[run]\nname = \"open\n").find("f.ini:2: unterminated quoted value") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(missing_file_is_named) {
  try {
    config::read_ini_file("/nonexistent/recipe.ini");
    BOOST_FAIL("no error");
  } catch (const core::ConfigError& e) {
    BOOST_TEST(std::string(e.what()).find("'/nonexistent/recipe.ini'") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(quoting_round_trips) {
  for (std::string v : {std::string("plain"), std::string(" padded "), std::string("a#b ;c"), std::string(""),
                        std::string("say \"hi\" \\ there")}) {
    const auto e = parse_ini("[s]\nk = " + config::quote_ini_value(v) + "\n", "q.ini");
    BOOST_REQUIRE_EQUAL(e.size(), 1u);
    BOOST_TEST(e[0].value == v);
  }
}

BOOST_AUTO_TEST_SUITE_END()
