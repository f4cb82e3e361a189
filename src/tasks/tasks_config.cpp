// [tasks] options (spec algorithms.md §5-§6): where each task's files are, and reward variants.
#include <filesystem>

#include "config/options.hpp"
#include "core/error.hpp"
#include "tasks/task.hpp"

namespace mdrl::tasks {

void TasksConfig::add_options(config::Options& opts) {
  opts.section("tasks", "task data files and reward variants")
      .add("gsm8k_train", gsm8k_train, "GSM8K training JSONL {question, answer} (e.g. <data>/gsm8k/train.jsonl)")
      .add("gsm8k_test", gsm8k_test, "GSM8K test JSONL {question, answer}")
      .add("math_train", math_train, "MATH training JSONL {problem, solution[, answer]}")
      .add("math_test", math_test, "MATH-500 test JSONL {problem, solution, answer}")
      .add("countdown_train", countdown_train,
           "Countdown training JSONL {\"input\": \"a,b,c\", \"output\": \"t\"} or {nums, target}; empty = generated")
      .add("countdown_test", countdown_test, "Countdown test JSONL (the reference's countdown_cd3_test.jsonl)")
      .add("sudoku_train", sudoku_train, "Sudoku training CSV Puzzle,Solution[,Completion]; empty = generated")
      .add("sudoku_test", sudoku_test, "Sudoku test CSV Puzzle,Solution (the reference's 4x4_test_sudoku.csv)")
      .add_enum("math_format_reward", math_format,
                {{"reference", MathFormatReward::Reference}, {"fixed", MathFormatReward::Fixed}},
                "MATH format reward: reference = 0.75 with <answer> else 0.25 (its \\boxed test never matches); "
                "fixed = also tests for \\boxed (1.0/0.75/0.5/0.25)")
      .add("generated_count", generated_count,
           "generated Countdown/Sudoku training problems (when the train path is empty)")
      .add("sudoku_empty_cells", sudoku_empty_cells,
           "empty cells of generated Sudoku puzzles (1..12; the test set has 8)")
      .add("countdown_numbers", countdown_numbers, "numbers per generated Countdown problem (2..6; the test set has 3)")
      .add("generator_seed", generator_seed, "seed of the puzzle generators; -1 = run.seed");
  opts.add_validator([this] { validate(); });
}

void TasksConfig::validate() const {
  const std::pair<const char*, const std::string*> files[] = {
      {"gsm8k_train", &gsm8k_train},   {"gsm8k_test", &gsm8k_test},           {"math_train", &math_train},
      {"math_test", &math_test},       {"countdown_train", &countdown_train}, {"countdown_test", &countdown_test},
      {"sudoku_train", &sudoku_train}, {"sudoku_test", &sudoku_test}};
  MDRL_CHECK(generated_count > 0, core::ConfigError, "tasks.generated_count must be positive");
  MDRL_CHECK(sudoku_empty_cells >= 1 && sudoku_empty_cells <= 12, core::ConfigError,
             "tasks.sudoku_empty_cells = " + std::to_string(sudoku_empty_cells) +
                 "; use 1..12 (a 4x4 puzzle with a unique solution keeps at least 4 givens)");
  MDRL_CHECK(countdown_numbers >= 2 && countdown_numbers <= 6, core::ConfigError,
             "tasks.countdown_numbers = " + std::to_string(countdown_numbers) + "; use 2..6");
  MDRL_CHECK(generator_seed >= -1, core::ConfigError, "tasks.generator_seed must be -1 (run.seed) or >= 0");
  for (const auto& [name, value] : files)
    MDRL_CHECK(value->empty() || std::filesystem::is_regular_file(*value), core::ConfigError,
               std::string("tasks.") + name + " = '" + *value + "' is not a file; give the path of the data file");
}

const std::string& TasksConfig::path(const std::string& task, bool train) const {
  if (task == "gsm8k") return train ? gsm8k_train : gsm8k_test;
  if (task == "math") return train ? math_train : math_test;
  if (task == "countdown") return train ? countdown_train : countdown_test;
  if (task == "sudoku") return train ? sudoku_train : sudoku_test;
  throw core::ConfigError("no data files for task '" + task + "'");
}

}  // namespace mdrl::tasks
