// `mdrl score` as a user runs it (spec algorithms.md §7.2): reference-format generation files of
// two ranks merged by setup, our JSONL, the per-setup table, the reward breakdown, and the errors.
#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include "test_support.hpp"

using namespace mdrl::test;

namespace {
bool has(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

std::string reference_file(const nlohmann::json& generations) {
  nlohmann::json j;
  j["generations"] = generations;
  j["metrics"] = {{"wall_time", 1.0}, {"total_processed", generations.size()}};
  j["gen_length"] = 256;
  return j.dump(2);
}
}  // namespace

BOOST_AUTO_TEST_SUITE(score_cli)

BOOST_AUTO_TEST_CASE(scores_reference_files_merged_by_setup) {
  TempDir dir;
  nlohmann::json r0 = nlohmann::json::array(), r1 = nlohmann::json::array();
  r0.push_back({{"question", "q1"},
                {"prompt_input", "p"},
                {"generations", "<answer>\\boxed{18}</answer><|endoftext|>"},
                {"ground_truth", 18.0}});
  r0.push_back(
      {{"question", "q2"}, {"prompt_input", "p"}, {"generations", "\\boxed{1,000}"}, {"ground_truth", 1000.0}});
  r1.push_back(
      {{"question", "q3"}, {"prompt_input", "p"}, {"generations", "<answer>7</answer>"}, {"ground_truth", 7.0}});
  r1.push_back({{"question", "q4"}, {"prompt_input", "p"}, {"generations", "nothing"}, {"ground_truth", nullptr}});
  dir.write("gsm8k_instruct_256_128_0_generations.json", reference_file(r0));
  dir.write("gsm8k_instruct_256_128_1_generations.json", reference_file(r1));
  nlohmann::json s = nlohmann::json::array();
  s.push_back({{"question", "Solve the following Sudoku puzzle: 3102200002100320\n"},
               {"prompt_input", "p"},
               {"generations", "<answer>\n3142243142131321\n</answer>"},
               {"ground_truth", "3142243142131324"}});
  dir.write("sudoku_base_256_8_0_generations.json", reference_file(s));
  dir.write("ours.jsonl",
            "{\"task\": \"countdown\", \"setup\": \"cd_ass\", \"question\": \"Numbers: [2, 3, 4]\\nTarget: 5\", "
            "\"generation\": \"\\\\boxed{2*4-3}\", \"ground_truth\": [[2, 3, 4], 5]}\n");
  const auto r = run_mdrl("score " + dir.path().string());
  BOOST_TEST(r.status == 0, r.output);
  // 2 of 4 GSM8K answers right (18 and 7; "1,000" parses as 1; no ground truth for the last).
  BOOST_TEST(has(r.output, "gsm8k_instruct_256_128"), r.output);
  BOOST_TEST(has(r.output, "50.00%       4"), r.output);
  // Sudoku is cell-level: 7 of 8 empty cells.
  BOOST_TEST(has(r.output, "87.50%       1"), r.output);
  BOOST_TEST(has(r.output, "100.00%       1"), r.output);
}

BOOST_AUTO_TEST_CASE(reward_breakdown) {
  TempDir dir;
  const auto f =
      dir.write("c.jsonl",
                "{\"task\": \"gsm8k\", \"completion\": \"<reasoning>\\nx\\n</reasoning>\\n<answer>\\n42\\n"
                "</answer>\\n\", \"answer\": \"42\"}\n"
                "{\"task\": \"math\", \"completion\": \"<answer>\\\\boxed{1}</answer>\", \"answer\": \"1\"}\n");
  const auto r = run_mdrl("score --score.rewards " + f);
  BOOST_TEST(r.status == 0, r.output);
  BOOST_TEST(has(r.output, "\"correctness\":2.0"), r.output);
  BOOST_TEST(has(r.output, "\"total\":3.5"), r.output);
  BOOST_TEST(has(r.output, "\"boxed_and_answer_tags_format\":0.75"), r.output);
  const auto fixed = run_mdrl("score --score.rewards --tasks.math_format_reward=fixed " + f);
  BOOST_TEST(has(fixed.output, "\"boxed_and_answer_tags_format\":1.0"), fixed.output);
}

// `ground_truth` (score's field) and the per-task fields (answer, numbers/target, puzzle/solution)
// give the same rewards.
BOOST_AUTO_TEST_CASE(reward_breakdown_reads_ground_truth_as_score_does) {
  TempDir dir;
  const std::string gsm = "\"task\": \"gsm8k\", \"completion\": \"<answer>\\n42\\n</answer>\"";
  const std::string cd = "\"task\": \"countdown\", \"completion\": \"<answer>2*4-3</answer>\"";
  const std::string su = "\"task\": \"sudoku\", \"completion\": \"<answer>\\n3142243142131324\\n</answer>\"";
  const std::string ma = "\"task\": \"math\", \"completion\": \"<answer>\\\\boxed{1}</answer>\"";
  const auto fields = dir.write("a.jsonl", "{" + gsm + ", \"answer\": \"42\"}\n{" + cd +
                                               ", \"numbers\": [2, 3, 4], \"target\": 5}\n{" + su +
                                               ", \"puzzle\": \"3102200002100320\", \"solution\": \"3142243142131324\"}\n{" +
                                               ma + ", \"answer\": \"1\"}\n");
  const auto gt = dir.write("b.jsonl", "{" + gsm + ", \"ground_truth\": 42}\n{" + cd +
                                           ", \"ground_truth\": [[2, 3, 4], 5]}\n{" + su +
                                           ", \"puzzle\": \"3102200002100320\", \"ground_truth\": \"3142243142131324\"}\n{" +
                                           ma + ", \"ground_truth\": \"1\"}\n");
  const auto a = run_mdrl("score --score.rewards " + fields);
  const auto b = run_mdrl("score --score.rewards " + gt);
  BOOST_TEST(a.status == 0, a.output);
  BOOST_TEST(b.status == 0, b.output);
  BOOST_TEST(a.output == b.output);
  BOOST_TEST(has(a.output, "\"correctness\":2.0"), a.output);  // the answers are right, not just parsed
}

BOOST_AUTO_TEST_CASE(errors_name_the_problem) {
  const auto none = run_mdrl("score");
  BOOST_TEST(none.status == 2, none.output);
  BOOST_TEST(has(none.output, "needs at least one generation file"), none.output);
  TempDir dir;
  dir.write("mystery_0_generations.json", reference_file(nlohmann::json::array()));
  const auto unknown = run_mdrl("score " + dir.path().string());
  BOOST_TEST(unknown.status == 2, unknown.output);  // input the user must fix
  BOOST_TEST(has(unknown.output, "cannot tell the task from the setup name 'mystery'"), unknown.output);
  const auto bad = dir.write("bad.jsonl", "{\"task\": \"gsm8k\"\n");
  const auto r = run_mdrl("score " + bad);
  BOOST_TEST(r.status == 2, r.output);
  BOOST_TEST(has(r.output, "bad.jsonl:1:"), r.output);
}

BOOST_AUTO_TEST_SUITE_END()
