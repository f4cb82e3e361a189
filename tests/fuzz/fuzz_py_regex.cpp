// libFuzzer harness: the Python-regex layer (tasks/py_regex.hpp on PCRE2) and the Python str
// helpers (tasks/py_text.hpp) through everything that applies them to model output: the reward
// functions (spec algorithms.md §5) and the evaluation parsers (§7.2), the MATH answer helpers.
// Input: completion text, NUL, reference answer / solution text. None of them may throw (MathError
// from the MATH helpers is the reference's Python exception and is allowed out of strip_string only).
#include <cstdint>

#include "fuzz_support.hpp"
#include "tasks/eval_parsers.hpp"
#include "tasks/math_answer.hpp"
#include "tasks/py_regex.hpp"
#include "tasks/py_text.hpp"
#include "tasks/rewards.hpp"

namespace t = mdrl::tasks;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto parts = mdrl::fuzz::split_parts(mdrl::fuzz::as_text(data, size), 2);
  const std::string& r = parts[0];
  const std::string ref = parts.size() > 1 ? parts[1] : std::string("#### 42");
  try {
    (void)t::extract_xml_answer(r);
    (void)t::extract_hash_answer(r);
    (void)t::xmlcount_reward(r);
    (void)t::soft_format_reward(r);
    (void)t::strict_format_reward(r);
    (void)t::int_reward(r);
    (void)t::gsm8k_correctness_reward(r, ref);
    (void)t::countdown_reward(r, {3, 5, 7}, 22);
    (void)t::countdown_reward(r, {}, 0);
    (void)t::sudoku_reward(r, "1000020000300004", "1432321441232341");
    (void)t::math_correctness_reward(r, ref);
    (void)t::math_format_reward(r, t::MathFormatReward::Reference);
    (void)t::math_format_reward(r, t::MathFormatReward::Fixed);
    (void)t::gsm8k_ground_truth(ref);
    (void)t::parse_gsm8k_answer(r);
    (void)t::score_gsm8k(r, t::gsm8k_ground_truth(ref));
    (void)t::score_gsm8k(r, 42.0);
    (void)t::parse_math_answer(r);
    (void)t::score_math(r, ref);
    (void)t::score_math(r, std::nullopt);
    (void)t::parse_countdown_equation(r);
    (void)t::score_countdown(r, {3, 5, 7}, 22);
    (void)t::parse_sudoku_answer(r);
    (void)t::score_sudoku(r, "Sudoku puzzle: 1000020000300004", "1432321441232341");
    (void)t::math::last_boxed_only_string(r);
    (void)t::math::boxed_answer(r);
    (void)t::math::is_equiv(r, ref);
    (void)t::py::len(r);
    (void)t::py::isdigit(r);
    (void)t::py::strip(r);
    (void)t::py::parse_float(r);
    (void)t::py::parses_as_int(r);
    (void)t::py::is_canonical_int(r);
    if (!ref.empty()) {
      (void)t::py::count(r, ref);
      (void)t::py::split(r, ref);
      (void)t::py::split_last(r, ref);
      (void)t::py::replace(r, ref, "x");
    }
    static const t::PyRegex word(R"(\b\w+\b)"), any_dotall(R"(<answer>(.*?)</answer>)", true);
    (void)word.findall(r);
    (void)any_dotall.finditer(r);
    (void)any_dotall.fullmatch(r);
  } catch (const std::exception& e) {
    mdrl::fuzz::finding("a reward function or evaluation parser threw", e.what());
  }
  // A question without "Sudoku puzzle: <16 digits>" is a FormatError (generation files from elsewhere).
  mdrl::fuzz::expect_clean([&] { (void)t::score_sudoku(r, ref, ref); });
  try {
    (void)t::math::strip_string(r);
  } catch (const t::math::MathError&) {
  } catch (const std::exception& e) {
    mdrl::fuzz::finding("strip_string threw", e.what());
  }
  return 0;
}
