// The evaluation parsers and accuracy units of spec algorithms.md §7.2
// (`eval/parse_and_get_acc.py`), reproduced with the reference's behaviour, quirks included (§8.2
// Q19): GSM8K takes the first float-convertible \boxed{} and "1,000" parses as 1; Countdown falls
// back to the whole text without \boxed; Sudoku keeps non-digits and scores cells.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mdrl::tasks {

// One scored generation: `correct` of `total` units (1 of 1 for a right answer; cells for Sudoku).
struct EvalScore {
  double correct = 0;
  double total = 1;
  std::string parsed;  // what the parser read, for tables and debugging ("" = nothing)
};

// Parser.extract_answer_gsm8k: the first "####" number, commas removed; nullopt when none (e.g. a
// negative answer, which the reference's regex rejects).
std::optional<double> gsm8k_ground_truth(std::string_view answer_text);
std::optional<double> parse_gsm8k_answer(std::string_view generation);
EvalScore score_gsm8k(std::string_view generation, std::optional<double> ground_truth);

std::optional<std::string> parse_math_answer(std::string_view generation);
EvalScore score_math(std::string_view generation, const std::optional<std::string>& ground_truth);

std::string parse_countdown_equation(std::string_view generation);
EvalScore score_countdown(std::string_view generation, const std::vector<long long>& numbers, long long target);

// The puzzle comes from the question text ("Sudoku puzzle: <16 digits>"), as in the reference.
std::string parse_sudoku_answer(std::string_view generation);
EvalScore score_sudoku(std::string_view generation, std::string_view question, std::string_view solution);

}  // namespace mdrl::tasks
