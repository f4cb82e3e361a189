// Puzzle generators: validity, unique solutions, determinism, no overlap with the shipped test
// sets (when ../shared/data is present), completions that earn the full reward.
#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "core/error.hpp"
#include "tasks/puzzle_generator.hpp"
#include "tasks/rewards.hpp"

using namespace mdrl::tasks;
namespace fs = std::filesystem;

namespace {
fs::path data_dir() {
  if (const char* d = std::getenv("MDRL_DATA_DIR")) return d;
  const char* src = std::getenv("MDRL_SOURCE_DIR");
  return fs::path(src != nullptr ? src : ".") / ".." / "shared" / "data";
}
}  // namespace

BOOST_AUTO_TEST_SUITE(generators)

BOOST_AUTO_TEST_CASE(sudoku_solver) {
  BOOST_TEST(count_sudoku_solutions("3102200002100320") == 1);
  BOOST_TEST(count_sudoku_solutions("0000000000000000", 1000) == 288);  // all 4x4 grids
  BOOST_TEST(count_sudoku_solutions("1100000000000000") == 0);
  BOOST_TEST(is_valid_sudoku_solution("3142243142131324"));
  BOOST_TEST(!is_valid_sudoku_solution("3142243142131342"));
}

BOOST_AUTO_TEST_CASE(sudoku_puzzles) {
  SudokuGenOptions o;
  o.count = 300;
  o.seed = 7;
  const auto a = generate_sudoku(o);
  BOOST_REQUIRE(a.size() == 300u);
  std::set<std::string> puzzles;
  for (const auto& ex : a) {
    BOOST_TEST(std::count(ex.question.begin(), ex.question.end(), '0') == 8);
    BOOST_TEST(count_sudoku_solutions(ex.question) == 1);
    BOOST_TEST(is_valid_sudoku_solution(ex.solution));
    for (size_t i = 0; i < 16; ++i)
      if (ex.question[i] != '0') BOOST_TEST(ex.question[i] == ex.solution[i]);
    BOOST_TEST(sudoku_reward(ex.completion, ex.question, ex.solution) == 1.0);
    puzzles.insert(ex.question);
  }
  BOOST_TEST(puzzles.size() == a.size());  // distinct
  const auto b = generate_sudoku(o);
  BOOST_TEST(b[17].question == a[17].question);  // deterministic
  o.seed = 8;
  BOOST_TEST(generate_sudoku(o)[0].question != a[0].question);
  o.empty_cells = 11;
  o.count = 20;
  for (const auto& ex : generate_sudoku(o)) BOOST_TEST(count_sudoku_solutions(ex.question) == 1);
  o.empty_cells = 13;
  BOOST_CHECK_THROW(generate_sudoku(o), mdrl::core::ConfigError);
}

BOOST_AUTO_TEST_CASE(countdown_problems) {
  CountdownGenOptions o;
  o.count = 200;
  const auto a = generate_countdown(o);
  BOOST_REQUIRE(a.size() == 200u);
  std::set<std::string> keys;
  for (const auto& ex : a) {
    BOOST_TEST(ex.numbers.size() == 3u);
    BOOST_TEST(ex.target >= 1);
    BOOST_TEST(ex.target <= 100);
    BOOST_TEST(countdown_reward(ex.completion, ex.numbers, ex.target) == 1.0);
    keys.insert(countdown_key(ex.numbers, ex.target));
  }
  BOOST_TEST(keys.size() == a.size());
  BOOST_TEST(generate_countdown(o)[42].completion == a[42].completion);
  o.numbers = 4;
  o.count = 20;
  for (const auto& ex : generate_countdown(o))
    BOOST_TEST(countdown_reward(ex.completion, ex.numbers, ex.target) == 1.0);
}

BOOST_AUTO_TEST_CASE(no_overlap_with_test_sets) {
  if (!fs::exists(data_dir() / "sudoku" / "test.csv")) {
    BOOST_TEST_MESSAGE("skipped: benchmark data not found at " << data_dir());
    return;
  }
  std::set<std::string> test_puzzles, test_keys;
  for (const auto& ex : find_task("sudoku").read((data_dir() / "sudoku" / "test.csv").string()))
    test_puzzles.insert(ex.question);
  for (const auto& ex : find_task("countdown").read((data_dir() / "countdown" / "test.jsonl").string()))
    test_keys.insert(countdown_key(ex.numbers, ex.target));
  SudokuGenOptions s;
  s.count = 2000;
  s.exclude = test_puzzles;
  for (const auto& ex : generate_sudoku(s)) BOOST_TEST(test_puzzles.count(ex.question) == 0u);
  CountdownGenOptions c;
  c.count = 2000;
  c.exclude = test_keys;
  for (const auto& ex : generate_countdown(c)) BOOST_TEST(test_keys.count(countdown_key(ex.numbers, ex.target)) == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
