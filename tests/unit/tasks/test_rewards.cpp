// Reward functions of spec algorithms.md §5, case by case from the spec's rules (hand-written).
#include <boost/test/unit_test.hpp>

#include "tasks/rewards.hpp"

using namespace mdrl::tasks;

BOOST_AUTO_TEST_SUITE(rewards)

const std::string kGood = "<reasoning>\nthink\n</reasoning>\n<answer>\n42\n</answer>\n";

BOOST_AUTO_TEST_CASE(extract_answers) {
  BOOST_TEST(extract_xml_answer(kGood) == "42");
  BOOST_TEST(extract_xml_answer("no tags at all ") == "no tags at all");
  BOOST_TEST(extract_xml_answer("<answer>1</answer><answer> 2 </answer>") == "2");  // the last tag
  BOOST_TEST(extract_xml_answer("<answer> 7") == "7");                              // unclosed
  BOOST_TEST(extract_hash_answer("a\n#### 1,234 ") == "1,234");
  BOOST_TEST(extract_hash_answer("no hash") == "");
}

BOOST_AUTO_TEST_CASE(gsm8k_correctness_and_int) {
  BOOST_TEST(gsm8k_correctness_reward(kGood, "42") == 2.0);
  BOOST_TEST(gsm8k_correctness_reward(kGood, "42.0") == 0.0);  // exact string equality
  BOOST_TEST(int_reward(kGood) == 0.5);
  BOOST_TEST(int_reward("<answer>-3</answer>") == 0.0);
  BOOST_TEST(int_reward("<answer>3.5</answer>") == 0.0);
  BOOST_TEST(int_reward("<answer>1,000</answer>") == 0.0);
  BOOST_TEST(int_reward("<answer>  </answer>") == 0.0);        // "".isdigit() is False
  BOOST_TEST(int_reward("<answer>\xd9\xa3</answer>") == 0.5);  // Arabic-Indic three is a digit
  BOOST_TEST(int_reward("<answer>\xc2\xb2</answer>") == 0.5);  // superscript two too
}

BOOST_AUTO_TEST_CASE(strict_format) {
  BOOST_TEST(strict_format_reward(kGood) == 0.5);
  BOOST_TEST(strict_format_reward(kGood + "\n") == 0.5);  // $ also matches before a final newline
  BOOST_TEST(strict_format_reward(kGood + "\n\n") == 0.0);
  BOOST_TEST(strict_format_reward(kGood.substr(0, kGood.size() - 1)) == 0.0);  // needs the final \n
  // No DOTALL: a two-line reasoning fails.
  BOOST_TEST(strict_format_reward("<reasoning>\na\nb\n</reasoning>\n<answer>\n1\n</answer>\n") == 0.0);
  BOOST_TEST(strict_format_reward("x" + kGood) == 0.0);
  BOOST_TEST(strict_format_reward("<reasoning>\n\n</reasoning>\n<answer>\n\n</answer>\n") == 0.5);
}

BOOST_AUTO_TEST_CASE(soft_format) {
  BOOST_TEST(soft_format_reward("<reasoning>r</reasoning> <answer>a</answer> trailing") == 0.5);
  BOOST_TEST(soft_format_reward("<reasoning>r</reasoning>\n\n<answer>a</answer>") == 0.5);  // \s* spans lines
  BOOST_TEST(soft_format_reward(kGood) == 0.0);  // newlines inside the tags: no DOTALL
  BOOST_TEST(soft_format_reward(" <reasoning>r</reasoning><answer>a</answer>") == 0.0);  // anchored at 0
  BOOST_TEST(soft_format_reward("<reasoning>r</reasoning><answer>a") == 0.0);
}

BOOST_AUTO_TEST_CASE(xmlcount) {
  // All four tags once, nothing after "\n</answer>\n": 0.5 - 0 - 0.001 * (1 - 1).
  BOOST_TEST(xmlcount_reward(kGood) == 0.5);
  // Trailing text is penalised in characters: "é!" is 2 characters (3 bytes).
  const std::string tail = kGood + "\xc3\xa9!";
  double expected = 0.0;
  expected += 0.125;
  expected += 0.125;
  expected += 0.125;
  expected -= 2 * 0.001;
  expected += 0.125;
  expected -= (3 - 1) * 0.001;  // split on "\n</answer>" leaves "\né!"
  BOOST_TEST(xmlcount_reward(tail) == expected);
  BOOST_TEST(xmlcount_reward("") == 0.0);
  // "\n</answer>" without the final newline: third term absent, fourth has len("") - 1 = -1.
  BOOST_TEST(xmlcount_reward("\n</answer>") == 0.125 + 0.001);
  // Without "\n</answer>\n", the third penalty is the whole text.
  const std::string no_close = "<reasoning>\nr\n</reasoning>\n<answer>\n5";
  BOOST_TEST(xmlcount_reward(no_close) == ((0.125 + 0.125) + 0.125) - 37 * 0.001);
  // Python's split works left to right: "\n</answer>\n</answer>\n" splits once on "\n</answer>\n",
  // leaving "</answer>\n" (10 characters) as the last piece.
  const std::string overlap = "<reasoning>\nr\n</reasoning>\n<answer>\n5\n</answer>\n</answer>\n";
  BOOST_TEST(xmlcount_reward(overlap) == ((0.125 + 0.125) + 0.125 - 10 * 0.001));
  // Tags twice: no credit.
  BOOST_TEST(xmlcount_reward("<reasoning>\n<reasoning>\n") == 0.0);
}

BOOST_AUTO_TEST_CASE(countdown) {
  const std::vector<long long> nums = {2, 3, 4};
  BOOST_TEST(countdown_reward("<answer>\n2*4-3\n</answer>", nums, 5) == 1.0);
  BOOST_TEST(countdown_reward("no tag 2*4-3", nums, 5) == 0.0);
  BOOST_TEST(countdown_reward("<answer>2*4-3</answer>", nums, 6) == 0.1);                    // wrong value
  BOOST_TEST(countdown_reward("<answer>2*4</answer>", nums, 8) == 0.1);                      // a number unused
  BOOST_TEST(countdown_reward("<answer>2*4*3*3</answer>", nums, 72) == 0.1);                 // a number twice
  BOOST_TEST(countdown_reward("<answer>2*4-3=5</answer>", nums, 5) == 0.1);                  // '=' and a 5
  BOOST_TEST(countdown_reward("<answer>x</answer><answer>4/2+3</answer>", nums, 5) == 1.0);  // last tag
  BOOST_TEST(countdown_reward("<answer>\n(3*4)/2\n</answer>", nums, 6) == 1.0);              // true division: 6.0
  BOOST_TEST(countdown_reward("<answer>3/(4-2*2)</answer>", nums, 5) == 0.1);  // ZeroDivisionError... uses 2 twice
  BOOST_TEST(countdown_reward("<answer>3/(4-4)+2</answer>", {2, 3, 4, 4}, 5) == 0.1);  // division by zero
  BOOST_TEST(countdown_reward("<answer>02*4-3</answer>", nums, 5) == 0.1);             // leading zero: SyntaxError
  BOOST_TEST(countdown_reward("<answer>4*3/2-2</answer>", {2, 2, 3, 4}, 4) == 1.0);
  BOOST_TEST(countdown_reward("<answer>-2+4+3</answer>", nums, 5) == 1.0);     // unary minus
  BOOST_TEST(countdown_reward("<answer>2^4-3</answer>", nums, 13) == 0.1);     // '^' is not allowed
  BOOST_TEST(countdown_reward("<answer>\n2*4\n-3</answer>", nums, 5) == 0.1);  // newline outside brackets
  BOOST_TEST(countdown_reward("<answer>(2*4\n-3)</answer>", nums, 5) == 1.0);  // implicit line joining
  BOOST_TEST(countdown_reward("<answer></answer>", nums, 5) == 0.1);
  BOOST_TEST(countdown_reward("<answer>\n49 / 7 * 3\n</answer>", {3, 7, 49}, 21) == 1.0);  // 21.0 (float)
  BOOST_TEST(countdown_reward("<answer>1.5*4</answer>", {1, 4, 5}, 6) == 1.0);             // "1.5" counts as 1 and 5
}

BOOST_AUTO_TEST_CASE(sudoku) {
  const std::string puzzle = "3102200002100320", solution = "3142243142131324";
  // Eight empty cells: positions 2,5,6,7,8,11,12,15 -> 4,4,3,1,4,3,1,4.
  BOOST_TEST(sudoku_reward("<answer>\n3142243142131324\n</answer>", puzzle, solution) == 1.0);
  BOOST_TEST(sudoku_reward("<answer>3142 2431 4213 1324</answer>", puzzle, solution) == 1.0);  // spaces dropped
  BOOST_TEST(sudoku_reward("<answer>[3,1,4,2],[2,4,3,1]</answer>", puzzle, solution) == 0.5);  // non-digits dropped
  BOOST_TEST(sudoku_reward("no answer", puzzle, solution) == 0.0);
  BOOST_TEST(sudoku_reward("<answer>none</answer>", puzzle, solution) == 0.0);
  BOOST_TEST(sudoku_reward("<answer>31</answer>", puzzle, solution) == 0.0);                     // padded with 0
  BOOST_TEST(sudoku_reward("<answer>314224314213132499999</answer>", puzzle, solution) == 1.0);  // truncated
  BOOST_TEST(sudoku_reward("<answer>0000000000000000</answer>", puzzle, solution) == 0.0);
  BOOST_TEST(sudoku_reward("<answer>3142243142131321</answer>", puzzle, solution) == 7.0 / 8);
}

BOOST_AUTO_TEST_CASE(math_rewards) {
  const std::string sol = "So the answer is $\\boxed{\\frac{1}{2}}$.";
  BOOST_TEST(math_correctness_reward("<answer>\\boxed{\\dfrac12}</answer>", sol) == 2.0);
  BOOST_TEST(math_correctness_reward("<answer>\\boxed{0.5}</answer>", sol) == 2.0);
  BOOST_TEST(math_correctness_reward("<answer>\\boxed{1/2}</answer>", sol) == 2.0);
  BOOST_TEST(math_correctness_reward("\\boxed 1/2", sol) == 2.0);
  BOOST_TEST(math_correctness_reward("<answer>\\boxed{2}</answer>", sol) == 0.0);
  BOOST_TEST(math_correctness_reward("\\frac{1}{2}", sol) == 2.0);          // no \boxed: whole text
  BOOST_TEST(math_correctness_reward("\\boxed{\\frac{1}{2}", sol) == 0.0);  // unbalanced: raw text kept
  BOOST_TEST(math_format_reward("<answer>\\boxed{1}</answer>", MathFormatReward::Reference) == 0.75);
  BOOST_TEST(math_format_reward("<answer>1</answer>", MathFormatReward::Reference) == 0.75);
  BOOST_TEST(math_format_reward("\\boxed{1}", MathFormatReward::Reference) == 0.25);
  BOOST_TEST(math_format_reward("<answer>\\boxed{1}</answer>", MathFormatReward::Fixed) == 1.0);
  BOOST_TEST(math_format_reward("<answer>1</answer>\\boxed{1}", MathFormatReward::Fixed) == 0.75);
  BOOST_TEST(math_format_reward("\\boxed{1}", MathFormatReward::Fixed) == 0.5);
  BOOST_TEST(math_format_reward("1", MathFormatReward::Fixed) == 0.25);
}

BOOST_AUTO_TEST_SUITE_END()
