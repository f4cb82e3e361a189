// Evaluation parsers of spec algorithms.md §7.2 (`eval/parse_and_get_acc.py`).
#include "tasks/eval_parsers.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "tasks/countdown_expr.hpp"
#include "tasks/math_answer.hpp"
#include "tasks/py_regex.hpp"
#include "tasks/py_text.hpp"
#include "tokenizer/utf8.hpp"

namespace mdrl::tasks {
namespace {

std::string fmt_double(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

}  // namespace

std::optional<double> gsm8k_ground_truth(std::string_view answer_text) {
  static const PyRegex re(R"(####\s*\$?([\d,]+(?:\.\d+)?))");
  const auto m = re.search(answer_text);
  if (!m) return std::nullopt;
  return py::parse_float(py::replace(m->group(1), ",", ""));
}

std::optional<double> parse_gsm8k_answer(std::string_view gen) {
  static const PyRegex boxed_re(R"(\\boxed{(.*?)})");
  static const PyRegex dots_re(R"(^\.+$)");
  static const PyRegex number_re(R"(-?\d+\.?\d*)");
  static const PyRegex answer_re("<answer>(.*?)</answer>", /*dotall=*/true);
  for (const auto& raw : boxed_re.findall(gen)) {
    const std::string content = py::strip(raw);
    if (content.empty() || content == "..." || dots_re.match(content)) continue;
    if (auto v = py::parse_float(content)) return v;
    const auto numbers = number_re.findall(content);
    if (!numbers.empty())
      if (auto v = py::parse_float(numbers.front())) return v;
  }
  const auto m = answer_re.search(gen);
  if (!m) return std::nullopt;
  const std::string text = py::strip(m->group(1));
  if (text.empty()) return std::nullopt;
  if (auto v = py::parse_float(text)) return v;
  const auto numbers = number_re.findall(text);
  if (!numbers.empty()) return py::parse_float(numbers.back());
  return std::nullopt;
}

EvalScore score_gsm8k(std::string_view gen, std::optional<double> gt) {
  const auto parsed = parse_gsm8k_answer(gen);
  EvalScore s;
  s.parsed = parsed ? fmt_double(*parsed) : "";
  s.correct = parsed && gt && *parsed == *gt ? 1 : 0;
  return s;
}

std::optional<std::string> parse_math_answer(std::string_view gen) {
  static const PyRegex answer_re("<answer>(.*?)</answer>", /*dotall=*/true);
  auto parsed = math::boxed_answer(gen);
  if (!parsed || parsed->empty()) {
    if (const auto m = answer_re.search(gen)) parsed = py::strip(m->group(1));
  }
  return parsed;
}

EvalScore score_math(std::string_view gen, const std::optional<std::string>& gt) {
  const auto parsed = parse_math_answer(gen);
  EvalScore s;
  s.parsed = parsed.value_or("");
  s.correct = parsed && math::is_equiv(parsed, gt) ? 1 : 0;  // nothing parsed is wrong, even against None
  return s;
}

std::string parse_countdown_equation(std::string_view gen) {
  static const PyRegex answer_re("<answer>(.*?)</answer>", /*dotall=*/true);
  static const PyRegex eq_re(R"(([0-9+\-*/() ]+)=[0-9. ]+)");
  std::string eq;
  try {
    eq = math::remove_boxed(math::last_boxed_only_string(gen));
  } catch (const math::MathError&) {
    const auto m = answer_re.search(gen);
    eq = m ? py::strip(m->group(1)) : std::string(gen);
  }
  eq = py::replace(eq, "\\div", "/");
  eq = py::replace(eq, "\\times", "*");
  eq = py::replace(eq, "\\cdot", "*");
  if (const auto m = eq_re.search(eq)) eq = py::strip(m->group(1));
  return eq;
}

EvalScore score_countdown(std::string_view gen, const std::vector<long long>& numbers, long long target) {
  static const PyRegex number_re(R"(\d+)");
  static const PyRegex allowed_re(R"(^[\d+\-*/().\s]+$)");
  EvalScore s;
  s.parsed = parse_countdown_equation(gen);
  std::vector<long long> used;
  for (const auto& n : number_re.findall(s.parsed)) {
    if (n.find_first_not_of("0123456789") != std::string::npos || n.size() > 18) return s;
    used.push_back(std::stoll(n));
  }
  std::vector<long long> avail = numbers;
  std::sort(used.begin(), used.end());
  std::sort(avail.begin(), avail.end());
  if (used != avail || !allowed_re.match(s.parsed)) return s;
  // The reference evaluates the stripped text; a failure is +inf there, never correct.
  const auto value = countdown::evaluate(py::strip(s.parsed));
  s.correct = value && countdown::close_to(*value, target) ? 1 : 0;
  return s;
}

std::string parse_sudoku_answer(std::string_view gen) {
  static const PyRegex p1("<answer>.*?```\\s*([\\d\\s]+)```", true);
  static const PyRegex p2(R"(<answer>(.*?)(?:<\|eot_id\|>|<\|endoftext\|>|</answer>))", true);
  static const PyRegex p3(R"(</answer>\s*(.*?)(?:<\|eot_id\|>|<\|endoftext\|>|$))", true);
  static const PyRegex p4(R"(.*?(\d{16})\s*</answer>)", true);
  static const PyRegex p5(R"(\b(\d{16})\b)", true);
  for (const PyRegex* re : {&p1, &p2, &p3, &p4, &p5}) {
    const auto m = re->search(gen);
    if (!m) continue;
    const std::string g = py::strip(m->group(1));
    if (g.empty()) continue;
    std::string out;
    for (char32_t c : py::chars(g)) {
      if (tokenizer::utf8::is_python_space(c)) continue;
      // One character is one cell; a non-ASCII one never matches a digit of the solution.
      out += c < 0x80 ? static_cast<char>(c) : '?';
    }
    return out;
  }
  return {};
}

EvalScore score_sudoku(std::string_view gen, std::string_view question, std::string_view solution) {
  static const PyRegex puzzle_re("Sudoku puzzle: ([0-9]{16})");
  EvalScore s;
  s.total = 0;
  // A question that starts with 16 digits is the puzzle itself; otherwise it is read after "Sudoku puzzle: ".
  std::string puzzle;
  const auto qc = py::chars(question);
  if (qc.size() >= 16 && std::all_of(qc.begin(), qc.begin() + 16, [](char32_t c) { return py::is_digit_char(c); })) {
    for (size_t i = 0; i < 16; ++i) puzzle += qc[i] < 0x80 ? static_cast<char>(qc[i]) : '?';
  } else if (const auto pm = puzzle_re.search(question)) {
    puzzle = pm->group(1);
  }
  MDRL_CHECK(puzzle.size() == 16, core::FormatError,
             "a Sudoku question lacks 'Sudoku puzzle: <16 digits>', so its empty cells are unknown");
  s.parsed = parse_sudoku_answer(gen);
  std::string sol = s.parsed;
  sol.resize(16, '0');
  for (size_t i = 0; i < 16; ++i) {
    if (puzzle[i] != '0') continue;
    s.total += 1;
    if (i < solution.size() && sol[i] == solution[i]) s.correct += 1;
  }
  return s;
}

}  // namespace mdrl::tasks
