// Task readers on the real benchmark files (skipped when ../shared/data is absent), malformed
// files, prompts through the chat template, and the reward components of each task (spec §5-§6).
#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "core/error.hpp"
#include "tasks/data_files.hpp"
#include "tasks/task.hpp"
#include "test_support.hpp"

using namespace mdrl;
using namespace mdrl::tasks;
namespace fs = std::filesystem;

namespace {

fs::path data_dir() {
  if (const char* d = std::getenv("MDRL_DATA_DIR")) return d;
  const char* src = std::getenv("MDRL_SOURCE_DIR");
  return fs::path(src != nullptr ? src : ".") / ".." / "shared" / "data";
}

// The benchmark files are optional: without them the data tests report themselves skipped.
bool have_data() {
  if (fs::exists(data_dir() / "sudoku" / "test.csv")) return true;
  BOOST_TEST_MESSAGE("skipped: benchmark data not found at " << data_dir() << " (set MDRL_DATA_DIR)");
  return false;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(task_data)

BOOST_AUTO_TEST_CASE(real_files) {
  if (!have_data()) return;
  const auto gsm = find_task("gsm8k").read((data_dir() / "gsm8k" / "test.jsonl").string());
  BOOST_TEST(gsm.size() == 1319u);
  BOOST_TEST(gsm[0].question.starts_with("Janet\xe2\x80\x99s ducks lay 16 eggs"));
  BOOST_TEST(*gsm8k_ground_truth(gsm[0].answer) == 18.0);
  BOOST_TEST(extract_hash_answer(gsm[0].answer) == "18");
  BOOST_TEST(find_task("gsm8k").read((data_dir() / "gsm8k" / "train.jsonl").string()).size() == 7473u);

  const auto& math = find_task("math");
  const auto m = math.read((data_dir() / "math500" / "test.jsonl").string());
  BOOST_TEST(m.size() == 500u);
  BOOST_TEST(m[0].answer == "\\left( 3, \\frac{\\pi}{2} \\right)");
  BOOST_TEST(math.evaluate("<answer>\\boxed{(3,\\frac{\\pi}{2})}</answer>", m[0]).correct == 1);
  TasksConfig cfg;
  BOOST_TEST(total_reward(math.rewards(cfg), "<answer>\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}</answer>", m[0]) ==
             2.75);

  const auto& cd = find_task("countdown");
  const auto c = cd.read((data_dir() / "countdown" / "test.jsonl").string());
  BOOST_TEST(c.size() == 256u);
  BOOST_TEST((c[0].numbers == std::vector<long long>{30, 100, 93}));
  BOOST_TEST(c[0].target == 23);
  BOOST_TEST(cd.eval_question(c[0]) == "Numbers: [30, 100, 93]\nTarget: 23");
  BOOST_TEST(cd.evaluate("\\boxed{100 - 93 + 30 - 14}", c[0]).correct == 0);
  BOOST_TEST(cd.evaluate("\\boxed{30 - (100 - 93)}", c[0]).correct == 1);

  const auto& sd = find_task("sudoku");
  const auto s = sd.read((data_dir() / "sudoku" / "test.csv").string());
  BOOST_TEST(s.size() == 500u);
  BOOST_TEST(s[0].question == "3102200002100320");
  BOOST_TEST(s[0].solution == "3142243142131324");
  BOOST_TEST(s[0].line == 2);
  for (const auto& ex : s) BOOST_TEST(std::count(ex.question.begin(), ex.question.end(), '0') == 8);
}

BOOST_AUTO_TEST_CASE(example_sets, *boost::unit_test::timeout(120)) {
  TasksConfig cfg;
  cfg.generated_count = 50;
  const auto gen = training_examples(find_task("sudoku"), cfg, 42);
  BOOST_TEST(gen.size() == 50u);
  BOOST_TEST(training_examples(find_task("sudoku"), cfg, 42)[3].question == gen[3].question);
  BOOST_TEST(training_examples(find_task("countdown"), cfg, 1).size() == 50u);
  BOOST_CHECK_THROW(training_examples(find_task("gsm8k"), cfg, 1), core::ConfigError);
  BOOST_CHECK_THROW(eval_examples(find_task("gsm8k"), cfg, 0), core::ConfigError);
  if (!have_data()) return;
  cfg.sudoku_test = (data_dir() / "sudoku" / "test.csv").string();
  cfg.countdown_test = (data_dir() / "countdown" / "test.jsonl").string();
  cfg.gsm8k_test = (data_dir() / "gsm8k" / "test.jsonl").string();
  // Appendix A: Sudoku rows 361, 73, ... (data rows, 0-based) -> file lines 363, 75, ...
  const auto sd = eval_examples(find_task("sudoku"), cfg, 0);
  BOOST_TEST(sd.size() == 256u);
  BOOST_TEST(sd[0].line == 363);
  BOOST_TEST(sd[1].line == 75);
  const auto cd = eval_examples(find_task("countdown"), cfg, 0);
  BOOST_TEST(cd.size() == 256u);
  BOOST_TEST(cd[0].line == 229);
  const auto gsm = eval_examples(find_task("gsm8k"), cfg, 0);
  BOOST_TEST(gsm.size() == 1319u);
  BOOST_TEST(gsm[0].line == 1);
  BOOST_TEST(eval_examples(find_task("gsm8k"), cfg, 256).size() == 256u);
  // Generated training puzzles avoid the test rows.
  cfg.generated_count = 500;
  std::set<std::string> test_puzzles;
  for (const auto& ex : find_task("sudoku").read(cfg.sudoku_test)) test_puzzles.insert(ex.question);
  for (const auto& ex : training_examples(find_task("sudoku"), cfg, 42))
    BOOST_TEST(test_puzzles.count(ex.question) == 0u);
}

BOOST_AUTO_TEST_CASE(malformed_files) {
  test::TempDir dir;
  const auto bad_json = dir.write("bad.jsonl", "{\"question\": \"q\", \"answer\": \"a\"}\n\n{not json}\n");
  try {
    find_task("gsm8k").read(bad_json);
    BOOST_FAIL("expected FormatError");
  } catch (const core::FormatError& e) {
    BOOST_TEST(std::string(e.what()).find("bad.jsonl:3:") != std::string::npos, e.what());
  }
  const auto missing = dir.write("missing.jsonl", "{\"question\": \"q\"}\n");
  BOOST_CHECK_EXCEPTION(find_task("gsm8k").read(missing), core::FormatError, [](const core::FormatError& e) {
    return std::string(e.what()).find("missing.jsonl:1: missing field \"answer\"") != std::string::npos;
  });
  const auto cd_bad = dir.write("cd.jsonl", "{\"input\": \"1,2,x\", \"output\": \"3\"}\n");
  BOOST_CHECK_THROW(find_task("countdown").read(cd_bad), core::FormatError);
  const auto csv_bad = dir.write("s.csv", "Puzzle,Solution\n3102200002100320,3142243142131324\n123,456,789\n");
  BOOST_CHECK_EXCEPTION(find_task("sudoku").read(csv_bad), core::FormatError, [](const core::FormatError& e) {
    return std::string(e.what()).find("s.csv:3: 3 fields") != std::string::npos;
  });
  const auto csv_short = dir.write("t.csv", "Puzzle,Solution\n310220000210032,3142243142131324\n");
  BOOST_CHECK_THROW(find_task("sudoku").read(csv_short), core::FormatError);
  BOOST_CHECK_THROW(find_task("sudoku").read((dir.path() / "absent.csv").string()), core::InputError);
  BOOST_CHECK_THROW(find_task("gsm9k"), core::ConfigError);
}

BOOST_AUTO_TEST_CASE(csv_quoting) {
  test::TempDir dir;
  const auto p = dir.write("q.csv", "a,b\r\n\"x,1\",\"say \"\"hi\"\"\nthere\"\r\nplain,\n");
  const auto t = read_csv(p);
  BOOST_REQUIRE(t.rows.size() == 2u);
  BOOST_TEST(t.rows[0][0] == "x,1");
  BOOST_TEST(t.rows[0][1] == "say \"hi\"\nthere");
  BOOST_TEST(t.rows[1][1] == "");
  BOOST_TEST(t.lines[1] == 4);
  const auto unclosed = dir.write("u.csv", "a\n\"open\n");
  BOOST_CHECK_THROW(read_csv(unclosed), core::FormatError);
}

BOOST_AUTO_TEST_CASE(prompts_through_chat_template) {
  tokenizer::ChatTemplate t;
  Example ex;
  ex.question = "0103040102340010";
  ex.solution = "2143342112344312";
  const auto& sd = find_task("sudoku");
  const std::string train = sd.train_prompt(ex, t);
  // The template strips the content: the system prompt's leading "\n" and the question's trailing "\n" go.
  BOOST_TEST(train.starts_with("<|startoftext|><|start_header_id|>user<|end_header_id|>\n\nPlease solve"));
  BOOST_TEST(
      train.ends_with("Solve the following Sudoku puzzle: 0103040102340010<|eot_id|>"
                      "<|start_header_id|>assistant<|end_header_id|>\n\n"));
  BOOST_TEST(sd.eval_prompt(ex, t).ends_with("<|start_header_id|>assistant<|end_header_id|>\n\n<reasoning>"));
  Example cd;
  cd.numbers = {2, 3, 4};
  cd.target = 5;
  const std::string c = find_task("countdown").train_content(cd);
  BOOST_TEST(c.find("Using only the numbers [2, 3, 4], create an arithmetic expression that evaluates to exactly 5.") !=
             std::string::npos);
  Example g;
  g.question = "What?";
  BOOST_TEST(find_task("gsm8k").eval_content(g).ends_with("\\boxed{...}\n</answer>\n\nWhat?"));
  BOOST_TEST(find_task("math").eval_content(g).ends_with("</answer>\" \n\n\nWhat?"));
}

BOOST_AUTO_TEST_CASE(reward_components) {
  TasksConfig cfg;
  const auto comps = find_task("gsm8k").rewards(cfg);
  BOOST_TEST(comps.size() == 5u);
  Example ex;
  ex.answer = "steps\n#### 42";
  const std::string perfect = "<reasoning>\nthink\n</reasoning>\n<answer>\n42\n</answer>\n";
  // 0.5 + 0 + 0.5 + 0.5 + 2: the soft format regex has no DOTALL, so multi-line tags never match it.
  BOOST_TEST(total_reward(comps, perfect, ex) == 3.5);
  BOOST_TEST(total_reward(comps, "<reasoning>x</reasoning><answer>\n42\n</answer>", ex) > 2.5);
  cfg.math_format = MathFormatReward::Fixed;
  Example m;
  m.solution = "\\boxed{7}";
  BOOST_TEST(total_reward(find_task("math").rewards(cfg), "<answer>\\boxed{7}</answer>", m) == 3.0);
}

BOOST_AUTO_TEST_SUITE_END()
