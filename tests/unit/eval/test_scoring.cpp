// Scoring of generation sets (spec algorithms.md §7.2): setup names, task routing, accuracy units.
#include <boost/test/unit_test.hpp>

#include "core/error.hpp"
#include "eval/generation_file.hpp"
#include "eval/scoring.hpp"
#include "test_support.hpp"

using namespace mdrl;

BOOST_AUTO_TEST_SUITE(scoring)

BOOST_AUTO_TEST_CASE(setup_names_and_routing) {
  BOOST_TEST(eval::setup_of_filename("gsm8k_instruct_256_128_3_generations.json") == "gsm8k_instruct_256_128");
  BOOST_TEST(eval::setup_of_filename("math_x_fs2_12_generations.json") == "math_x_fs2");
  BOOST_TEST(eval::setup_of_filename("gsm8k_generations.json") == "");  // skipped, as the reference does
  BOOST_TEST(eval::task_of_setup("gsm8k_math_model", "f") == "gsm8k");  // first keyword wins, as in the reference
  BOOST_TEST(eval::task_of_setup("countdown_base", "f") == "countdown");
  BOOST_CHECK_THROW(eval::task_of_setup("game24_base", "f"), core::FormatError);
}

BOOST_AUTO_TEST_CASE(units_and_lengths) {
  eval::GenerationSet set{"sudoku_x", "sudoku", {}, {}};
  set.items.push_back(
      {"Sudoku puzzle: 3102200002100320", "<answer>3142243142131324</answer><|endoftext|>", "3142243142131324", "t:0"});
  set.items.push_back(
      {"Sudoku puzzle: 3102200002100320", "<answer>0000000000000000</answer>", "3142243142131324", "t:1"});
  const auto s = eval::score_set(set, [](std::string_view t) { return t.size(); });
  BOOST_TEST(s.correct == 8);
  BOOST_TEST(s.total == 16);
  BOOST_TEST(s.accuracy() == 50.0);
  // "<|endoftext|>" is removed before counting; Sudoku lengths are tokens x 8 / empty cells.
  BOOST_TEST(s.tokens == 2 * 33.0);
  BOOST_TEST(s.avg_effective_tokens() == 66.0 * 8 / 16);
  // The question may start with the puzzle itself.
  eval::GenerationSet bare{"sudoku_y", "sudoku", {}, {}};
  bare.items.push_back({"3102200002100320 solve it", "3142243142131324", "3142243142131324", "t:0"});
  BOOST_TEST(eval::score_set(bare, [](std::string_view) { return size_t{0}; }).correct == 8);
  // MATH: nothing parsed is wrong even when the ground truth is missing too.
  eval::GenerationSet m{"math_z", "math", {}, {}};
  m.items.push_back({"q", "\\boxed{", nullptr, "t:0"});
  BOOST_TEST(eval::score_set(m, [](std::string_view) { return size_t{0}; }).correct == 0);
  eval::GenerationSet cd{"countdown_x", "countdown", {}, {}};
  cd.items.push_back({"q", "\\boxed{(3*4)/2}", nlohmann::json::array({nlohmann::json::array({2, 3, 4}), 6}), "t:0"});
  cd.items.push_back({"q", "\\boxed{3*4/2", nlohmann::json::array({nlohmann::json::array({2, 3, 4}), 6}), "t:1"});
  const auto c = eval::score_set(cd, [](std::string_view) { return size_t{1}; });
  BOOST_TEST(c.correct == 1);
  BOOST_TEST(c.count == 2);
  // Without a [[numbers], target] ground truth the reference reads them from the question.
  cd.items.push_back({"Numbers: [2, 3, 4]\nTarget: 6", "\\boxed{2*3*(4/4)}", nullptr, "t:2"});
  cd.items.push_back({"numbers: [2, 3, 4]\ntarget: 5", "\\boxed{2*4-3}", nullptr, "t:3"});
  const auto q = eval::score_set(cd, [](std::string_view) { return size_t{1}; });
  BOOST_TEST(q.correct == 2);  // 2*3*(4/4) uses 4 twice; 2*4-3 is right (case-insensitive labels)
  cd.items[0].ground_truth = "wrong";
  BOOST_CHECK_THROW(eval::score_set(cd, [](std::string_view) { return size_t{1}; }), core::FormatError);
}

BOOST_AUTO_TEST_SUITE_END()
