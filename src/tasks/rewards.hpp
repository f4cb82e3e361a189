// The reward functions of spec algorithms.md §5, value for value: the GSM8K format and correctness
// rewards (regexes without DOTALL, XML-count penalties in characters), the Countdown score (Python
// arithmetic through tasks/countdown_expr.hpp), the Sudoku cell score and the MATH correctness and
// format rewards. `r` is always the decoded completion text.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mdrl::tasks {

// The reference's `boxed_in_answer` tests "\b"+"oxed" (a backspace), so it always adds 0.5 (spec §8.2 Q11).
enum class MathFormatReward {
  Reference,  // 0.75 with an <answer> tag, else 0.25 (the reference's values)
  Fixed,      // tests for "\boxed": 1.0 / 0.75 with the tag, 0.5 / 0.25 without
};

// r.split("<answer>")[-1].split("</answer>")[0].strip()
std::string extract_xml_answer(std::string_view r);
// The text after the first "####", stripped; empty when there is none (the reference's None).
std::string extract_hash_answer(std::string_view gsm8k_answer);

double xmlcount_reward(std::string_view r);                                    // count_xml: <= 0.5, may be negative
double soft_format_reward(std::string_view r);                                 // 0.5 / 0
double strict_format_reward(std::string_view r);                               // 0.5 / 0
double int_reward(std::string_view r);                                         // 0.5 / 0
double gsm8k_correctness_reward(std::string_view r, std::string_view answer);  // 2.0 / 0

// 0 without an answer tag, 0.1 for a wrong or invalid expression, 1.0 when it reaches the target.
double countdown_reward(std::string_view r, const std::vector<long long>& numbers, long long target);
// Fraction of the puzzle's empty cells filled correctly, in [0, 1].
double sudoku_reward(std::string_view r, std::string_view puzzle, std::string_view solution);

// 2.0 when the boxed answer of r is equivalent to the boxed answer of the reference solution.
double math_correctness_reward(std::string_view r, std::string_view solution);
double math_format_reward(std::string_view r, MathFormatReward variant);

}  // namespace mdrl::tasks
