// MATH helpers, the countdown evaluator against Python's own eval (fixture from
// tools/gen_tasks_fixtures.py), the evaluation parsers of spec §7.2 and the numpy permutation of
// Appendix A.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "tasks/countdown_expr.hpp"
#include "tasks/eval_parsers.hpp"
#include "tasks/math_answer.hpp"
#include "tasks/py_text.hpp"
#include "tasks/subsample.hpp"

using namespace mdrl::tasks;
namespace fs = std::filesystem;

namespace {
fs::path fixture(const std::string& name) {
  const char* src = std::getenv("MDRL_SOURCE_DIR");
  return fs::path(src != nullptr ? src : ".") / "tests" / "data" / "tasks" / name;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(math_answer)

BOOST_AUTO_TEST_CASE(last_boxed_and_remove) {
  using math::last_boxed_only_string;
  BOOST_TEST(*last_boxed_only_string("a \\boxed{1} b \\boxed{\\frac{2}{3}} c") == "\\boxed{\\frac{2}{3}}");
  BOOST_TEST(*last_boxed_only_string("x \\boxed 5$ and more") == "\\boxed 5");
  BOOST_TEST(*last_boxed_only_string("\\boxed{1} then \\boxed 7") == "\\boxed 7");  // "\boxed " wins
  BOOST_TEST(*last_boxed_only_string("\\fbox{3}") == "\\fbox{3}");
  BOOST_TEST(*last_boxed_only_string("no box") == "no box");
  BOOST_TEST(!last_boxed_only_string("\\boxed{1").has_value());
  BOOST_TEST(math::remove_boxed(std::string("\\boxed{\\{1\\}}")) == "\\{1\\}");
  BOOST_TEST(math::remove_boxed(std::string("\\boxed 5")) == "5");
  BOOST_TEST(math::remove_boxed(std::string("\\fbox{3}")) == "\\fbox{3}");
  BOOST_CHECK_THROW(math::remove_boxed(std::nullopt), math::MathError);
  BOOST_TEST(!math::boxed_answer("\\boxed{").has_value());
}

BOOST_AUTO_TEST_CASE(strip_and_equiv) {
  using math::is_equiv;
  using math::strip_string;
  BOOST_TEST(strip_string("\\dfrac{1}{2}") == "\\frac{1}{2}");
  BOOST_TEST(strip_string("0.5") == "\\frac{1}{2}");
  BOOST_TEST(strip_string(".5") == "\\frac{1}{2}");  // "0" is prepended before the 0.5 rule
  BOOST_TEST(strip_string("3/4") == "\\frac{3}{4}");
  BOOST_TEST(strip_string("x = 3") == "3");
  BOOST_TEST(strip_string("abc=3") == "abc=3");
  BOOST_TEST(strip_string("\\sqrt2") == "\\sqrt{2}");
  BOOST_TEST(strip_string("\\left( 1, 2 \\right)") == "(1,2)");
  BOOST_TEST(strip_string("90^\\circ") == "90");
  BOOST_TEST(strip_string("10\\%") == "10");
  BOOST_TEST(strip_string("5\\text{ cm}") == "5");
  BOOST_TEST(strip_string("\\$5") == "5");
  BOOST_TEST(strip_string("\\frac1{2}") == "\\frac{1}{2}");
  BOOST_TEST(strip_string("\\frac1") == "\\frac1");                           // fewer than 2 characters: input returned
  BOOST_TEST(strip_string("007/2") == "007/2");                               // int() works, but not canonical
  BOOST_CHECK_THROW(strip_string("a/b"), math::MathError);                    // int("a") raises
  BOOST_CHECK_THROW(strip_string("1\\text{ a}\\text{ b}"), math::MathError);  // assert 2 parts
  BOOST_CHECK_THROW(strip_string("\\sqrt"), math::MathError);                 // IndexError
  BOOST_TEST(is_equiv(std::string("\\frac{1}{2}"), std::string("0.5")));
  BOOST_TEST(is_equiv(std::string("a/b"), std::string("a/b")));  // exception: raw equality
  BOOST_TEST(!is_equiv(std::string("a/b"), std::string("a/ b")));
  BOOST_TEST(is_equiv(std::nullopt, std::nullopt));
  BOOST_TEST(!is_equiv(std::string("1"), std::nullopt));
  BOOST_TEST(is_equiv(std::string("10\\%"), std::string("10")));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(countdown_eval)

BOOST_AUTO_TEST_CASE(matches_python_eval) {
  std::ifstream in(fixture("countdown_eval.jsonl"));
  BOOST_REQUIRE(in.good());
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    const auto j = nlohmann::json::parse(line);
    const std::string expr = j["expr"];
    const std::string kind = j["kind"];
    const auto v = countdown::evaluate(expr);
    BOOST_TEST_CONTEXT("expr '" << expr << "' python " << kind) {
      if (kind == "error") {
        BOOST_TEST(!v.has_value());
      } else {
        BOOST_REQUIRE(v.has_value());
        BOOST_TEST(v->is_int == (kind == "int"));
        if (kind == "int") {
          BOOST_TEST(static_cast<long double>(v->i) == std::stold(j["value"].get<std::string>()));
        } else {
          const std::string text = j["value"];
          const double want = text == "inf"    ? INFINITY
                              : text == "-inf" ? -INFINITY
                                               : std::strtod(text.c_str(), nullptr);
          if (std::isnan(want))
            BOOST_TEST(std::isnan(v->f));
          else
            BOOST_TEST(v->f == want);
        }
      }
    }
    ++n;
  }
  BOOST_TEST(n > 1000);
}

BOOST_AUTO_TEST_CASE(python_float) {
  std::ifstream in(fixture("python_float.jsonl"));
  BOOST_REQUIRE(in.good());
  std::string line;
  while (std::getline(in, line)) {
    const auto j = nlohmann::json::parse(line);
    const std::string text = j["text"];
    const auto v = mdrl::tasks::py::parse_float(text);
    BOOST_TEST_CONTEXT("float('" << text << "')") {
      if (j["value"].is_null()) {
        BOOST_TEST(!v.has_value());
      } else {
        BOOST_REQUIRE(v.has_value());
        const std::string want = j["value"];
        if (want == "nan")
          BOOST_TEST(std::isnan(*v));
        else
          BOOST_TEST(*v == (want == "inf"    ? INFINITY
                            : want == "-inf" ? -INFINITY
                                             : std::strtod(want.c_str(), nullptr)));
      }
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(eval_parsers)

BOOST_AUTO_TEST_CASE(gsm8k) {
  BOOST_TEST(*gsm8k_ground_truth("blah\n#### 1,234") == 1234.0);
  BOOST_TEST(*gsm8k_ground_truth("#### $5.50") == 5.5);
  BOOST_TEST(!gsm8k_ground_truth("#### -3").has_value());  // the reference rejects negatives
  BOOST_TEST(*parse_gsm8k_answer("\\boxed{...} \\boxed{} \\boxed{ 12 }") == 12.0);
  BOOST_TEST(*parse_gsm8k_answer("\\boxed{1,000}") == 1.0);  // the first number of "1,000"
  BOOST_TEST(*parse_gsm8k_answer("\\boxed{\\$18.00 dollars}") == 18.0);
  BOOST_TEST(*parse_gsm8k_answer("\\boxed{x} \\boxed{7}") == 7.0);  // first convertible one
  BOOST_TEST(*parse_gsm8k_answer("\\boxed{-4}") == -4.0);
  BOOST_TEST(*parse_gsm8k_answer("<answer>\nabout 3 or 4\n</answer>") == 4.0);  // last number
  BOOST_TEST(*parse_gsm8k_answer("<answer> 2.5 </answer>") == 2.5);
  BOOST_TEST(!parse_gsm8k_answer("nothing").has_value());
  BOOST_TEST(score_gsm8k("\\boxed{18}", 18.0).correct == 1);
  BOOST_TEST(score_gsm8k("\\boxed{18}", std::nullopt).correct == 0);
}

BOOST_AUTO_TEST_CASE(math) {
  BOOST_TEST(*parse_math_answer("<answer>\\boxed{\\frac{\\pi}{2}}</answer>") == "\\frac{\\pi}{2}");
  BOOST_TEST(*parse_math_answer("<answer> 3 </answer>") == "<answer> 3 </answer>");  // no box: whole text
  BOOST_TEST(*parse_math_answer("\\boxed{} <answer> 3 </answer>") == "3");           // empty box
  BOOST_TEST(*parse_math_answer("\\boxed{3 <answer> 4 </answer>") == "4");           // unbalanced
  BOOST_TEST(!parse_math_answer("\\boxed{3").has_value());
  BOOST_TEST(score_math("\\boxed{\\dfrac{1}{2}}", std::string("\\frac12")).correct == 1);
  BOOST_TEST(score_math("\\boxed{5 \\text{ units}}", std::string("5")).correct == 1);
}

BOOST_AUTO_TEST_CASE(countdown) {
  const std::vector<long long> nums = {30, 100, 93};
  BOOST_TEST(score_countdown("\\boxed{100 - 93 + 30}", nums, 37).correct == 1);
  BOOST_TEST(score_countdown("\\boxed{100 - 93 + 30 = 37}", nums, 37).correct == 1);
  // No \boxed: the whole generation is the equation, which fails the character gate (spec §8.2 Q19).
  BOOST_TEST(score_countdown("<answer>100 - (93 - 30)</answer>", nums, 37).correct == 0);
  BOOST_TEST(score_countdown("100 - (93 - 30)", nums, 37).correct == 1);
  BOOST_TEST(score_countdown("<answer>\\boxed{(100 \\times 30) \\div 93</answer>", nums, 37).correct == 0);
  BOOST_TEST(parse_countdown_equation("<answer>\\boxed{(100 \\times 30</answer>") == "\\boxed{(100 * 30");
  BOOST_TEST(parse_countdown_equation("\\boxed{93 \\div 3 \\cdot 1}") == "93 / 3 * 1");
  BOOST_TEST(score_countdown("\\boxed{100/0+30+93}", nums, 37).correct == 0);
  BOOST_TEST(score_countdown("\\boxed{\n100 - 93 + 30\n}", nums, 37).correct == 1);  // stripped before eval
}

BOOST_AUTO_TEST_CASE(sudoku) {
  const std::string q = "Solve the following Sudoku puzzle: 3102200002100320\n";
  const std::string s = "3142243142131324";
  auto r = score_sudoku("<answer>\n```\n3142\n2431\n4213\n1324\n```\n</answer>", q, s);
  BOOST_TEST(r.correct == 8);
  BOOST_TEST(r.total == 8);
  r = score_sudoku("<answer>\n3142 2431 4213 1324\n</answer><|eot_id|>", q, s);
  BOOST_TEST(r.correct == 8);
  r = score_sudoku("<answer>\n[3,1,4,2]</answer>", q, s);  // non-digits kept: the cells shift
  BOOST_TEST(r.correct == 1);                              // only cell 5 ('4') happens to line up
  r = score_sudoku("no tags 3142243142131324 here", q, s);
  BOOST_TEST(r.correct == 8);
  BOOST_CHECK_THROW(score_sudoku("x", "no puzzle", s), mdrl::core::FormatError);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(subsample)

BOOST_AUTO_TEST_CASE(numpy_permutation_fixture) {
  std::ifstream in(fixture("numpy_permutation.json"));
  BOOST_REQUIRE(in.good());
  const auto j = nlohmann::json::parse(in);
  for (const auto& [n, prefix] : j["permutation_prefix"].items()) {
    const auto p = numpy_legacy_permutation(std::stoll(n), 42);
    const auto want = prefix.get<std::vector<int64_t>>();
    BOOST_TEST(std::vector<int64_t>(p.begin(), p.begin() + static_cast<long>(want.size())) == want,
               boost::test_tools::per_element());
  }
}

BOOST_AUTO_TEST_CASE(appendix_a) {
  // Heads of the Appendix A lists (spec algorithms.md), and the eval row rules.
  const auto sudoku = eval_rows(500, 256);
  BOOST_TEST(sudoku.size() == 256u);
  BOOST_TEST(
      (std::vector<int64_t>(sudoku.begin(), sudoku.begin() + 6) == std::vector<int64_t>{361, 73, 374, 155, 104, 394}));
  BOOST_TEST(sudoku.back() == 416);
  const auto cd = eval_rows(256, 256);
  BOOST_TEST((std::vector<int64_t>(cd.begin(), cd.begin() + 5) == std::vector<int64_t>{228, 6, 79, 206, 117}));
  BOOST_TEST(cd.back() == 102);
  const auto gsm = eval_rows(1319, -1);
  BOOST_TEST(gsm.size() == 1319u);
  BOOST_TEST(gsm[5] == 5);
  BOOST_CHECK_THROW(eval_rows(10, 11), mdrl::core::ConfigError);
}

BOOST_AUTO_TEST_SUITE_END()
