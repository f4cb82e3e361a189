// Reward functions of spec algorithms.md §5 (`*/reward_func.py`, `*/math500_utils.py`).
#include "tasks/rewards.hpp"

#include <algorithm>

#include "tasks/countdown_expr.hpp"
#include "tasks/math_answer.hpp"
#include "tasks/py_regex.hpp"
#include "tasks/py_text.hpp"

namespace mdrl::tasks {

std::string extract_xml_answer(std::string_view r) {
  return py::strip(py::split_first(py::split_last(r, "<answer>"), "</answer>"));
}

std::string extract_hash_answer(std::string_view a) {
  if (!py::contains(a, "####")) return {};
  return py::strip(py::split(a, "####")[1]);
}

double xmlcount_reward(std::string_view r) {
  // Accumulated in the reference's order so the floating-point result is identical.
  double count = 0.0;
  if (py::count(r, "<reasoning>\n") == 1) count += 0.125;
  if (py::count(r, "\n</reasoning>\n") == 1) count += 0.125;
  if (py::count(r, "\n<answer>\n") == 1) {
    count += 0.125;
    count -= static_cast<double>(py::len(py::split_last(r, "\n</answer>\n"))) * 0.001;
  }
  if (py::count(r, "\n</answer>") == 1) {
    count += 0.125;
    count -= (static_cast<double>(py::len(py::split_last(r, "\n</answer>"))) - 1) * 0.001;
  }
  return count;
}

double soft_format_reward(std::string_view r) {
  static const PyRegex re(R"(<reasoning>.*?</reasoning>\s*<answer>.*?</answer>)");
  return re.match(r) ? 0.5 : 0.0;
}

double strict_format_reward(std::string_view r) {
  static const PyRegex re("^<reasoning>\\n.*?\\n</reasoning>\\n<answer>\\n.*?\\n</answer>\\n$");
  return re.match(r) ? 0.5 : 0.0;
}

double int_reward(std::string_view r) {
  return py::isdigit(extract_xml_answer(r)) ? 0.5 : 0.0;
}

double gsm8k_correctness_reward(std::string_view r, std::string_view answer) {
  return extract_xml_answer(r) == answer ? 2.0 : 0.0;
}

double countdown_reward(std::string_view r, const std::vector<long long>& numbers, long long target) {
  static const PyRegex answer_re("<answer>(.*?)</answer>", /*dotall=*/true);
  static const PyRegex number_re(R"(\d+)");
  static const PyRegex allowed_re(R"(^[\d+\-*/().\s]+$)");
  const auto matches = answer_re.finditer(r);
  if (matches.empty()) return 0.0;
  const std::string eq = py::strip(matches.back().group(1));
  constexpr double kFormat = 0.1, kScore = 1.0;
  // validate_equation: the integers in the expression are exactly the given numbers. int() of a
  // run of Unicode digits succeeds in Python; such a run never equals an ASCII number's value here
  // only if it is non-ASCII, and then eval fails anyway, so both paths give the format score.
  std::vector<long long> used;
  for (const auto& n : number_re.findall(eq)) {
    if (n.find_first_not_of("0123456789") != std::string::npos || n.size() > 18) return kFormat;
    used.push_back(std::stoll(n));
  }
  std::vector<long long> avail = numbers;
  std::sort(used.begin(), used.end());
  std::sort(avail.begin(), avail.end());
  if (used != avail) return kFormat;
  if (!allowed_re.match(eq)) return kFormat;
  const auto value = countdown::evaluate(eq);
  if (!value) return kFormat;
  return countdown::close_to(*value, target) ? kScore : kFormat;
}

double sudoku_reward(std::string_view r, std::string_view puzzle, std::string_view solution) {
  static const PyRegex answer_re("<answer>(.*?)</answer>", /*dotall=*/true);
  const auto matches = answer_re.finditer(r);
  if (matches.empty()) return 0.0;
  std::vector<char32_t> sol;
  for (char32_t c : py::chars(py::strip(matches.back().group(1))))
    if (py::is_digit_char(c)) sol.push_back(c);
  if (sol.empty()) return 0.0;
  sol.resize(16, U'0');
  int empty = 0, correct = 0;
  for (size_t i = 0; i < 16 && i < puzzle.size(); ++i) {
    if (puzzle[i] != '0') continue;
    ++empty;
    if (i < solution.size() && sol[i] == static_cast<char32_t>(static_cast<unsigned char>(solution[i]))) ++correct;
  }
  // A puzzle without empty cells divides by zero in the reference; it scores 0 here.
  return empty == 0 ? 0.0 : static_cast<double>(correct) / empty;
}

double math_correctness_reward(std::string_view r, std::string_view solution) {
  const auto gt = math::boxed_answer(solution);
  // On an exception the reference keeps the raw response text.
  auto response = math::boxed_answer(r);
  if (!response) response = std::string(r);
  return math::is_equiv(response, gt) ? 2.0 : 0.0;
}

double math_format_reward(std::string_view r, MathFormatReward variant) {
  double score = 0.0;
  std::string text(r);
  if (py::contains(r, "<answer>")) {
    text = py::split_first(py::split(r, "<answer>")[1], "</answer>");
    score += 1.0;
  }
  const std::string_view boxed = variant == MathFormatReward::Reference ? std::string_view("\boxed") : "\\boxed";
  score += py::contains(text, boxed) ? 1.0 : 0.5;
  return 0.5 * score;
}

}  // namespace mdrl::tasks
