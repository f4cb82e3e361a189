// The Task interface and registry (spec algorithms.md §5-§7): each task reads its local files,
// builds the training and evaluation prompts of the spec (rendered through the chat template),
// owns its reward components (weighted, summed as TRL does) and its evaluation metric.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tasks/eval_parsers.hpp"
#include "tasks/rewards.hpp"
#include "tokenizer/chat_template.hpp"

namespace mdrl::config {
class Options;
}

namespace mdrl::tasks {

// One data row; a task uses the fields it needs.
struct Example {
  std::string question;            // gsm8k question, math problem, sudoku puzzle; empty for countdown
  std::string answer;              // gsm8k: the full answer text (with "####"); math: the short answer
  std::string solution;            // math: the full solution text; sudoku: the solved grid
  std::vector<long long> numbers;  // countdown
  long long target = 0;            // countdown
  std::string completion;          // a reasoning-style target text (generated puzzles), for SFT
  int64_t line = 0;                // 1-based line in its file (0 = generated)
};

// [tasks] options: data paths (read by path, never copied) and the reward variants.
struct TasksConfig {
  std::string gsm8k_train, gsm8k_test, math_train, math_test, countdown_train, countdown_test, sudoku_train,
      sudoku_test;
  MathFormatReward math_format = MathFormatReward::Reference;
  // Generated training data for Countdown and Sudoku when their train path is empty.
  int64_t generated_count = 10000;
  int64_t sudoku_empty_cells = 8;
  int64_t countdown_numbers = 3;
  int64_t generator_seed = -1;  // -1 = run.seed

  void add_options(config::Options& opts);
  void validate() const;
  // The configured file for a task and split ("" when unset).
  const std::string& path(const std::string& task, bool train) const;
};

struct RewardComponent {
  std::string name;
  double weight = 1.0;
  std::function<double(std::string_view completion, const Example&)> fn;
};

class Task {
 public:
  virtual ~Task() = default;
  virtual std::string name() const = 0;
  // Reads a data file of this task (JSONL or CSV as the spec names them).
  virtual std::vector<Example> read(const std::string& path) const = 0;
  // The user-message contents (spec §6.1 training, §6.2 evaluation); the template strips them.
  virtual std::string train_content(const Example& ex) const = 0;
  virtual std::string eval_content(const Example& ex) const = 0;
  // The "question" string the reference stores in its generation files.
  virtual std::string eval_question(const Example& ex) const = 0;
  virtual std::vector<RewardComponent> rewards(const TasksConfig& cfg) const = 0;
  virtual EvalScore evaluate(std::string_view generation, const Example& ex) const = 0;
  // The reference's eval subsample (spec §6.3): -1 = all rows in file order (GSM8K, MATH); Countdown
  // passes all 256 rows (so they are permuted), Sudoku 256 of its 500.
  virtual int64_t default_eval_subsample() const { return -1; }

  std::string train_prompt(const Example& ex, const tokenizer::ChatTemplate& t) const {
    return t.render_user(train_content(ex), tokenizer::PromptForm::Chat);
  }
  std::string eval_prompt(const Example& ex, const tokenizer::ChatTemplate& t) const {
    return t.render_user(eval_content(ex), tokenizer::PromptForm::ChatReasoning);
  }
};

// Training examples: the configured file, else (Countdown, Sudoku) generated puzzles that avoid
// every row of the configured test file. core::ConfigError naming the option when neither exists.
std::vector<Example> training_examples(const Task& task, const TasksConfig& cfg, uint64_t run_seed);
// Evaluation examples in evaluation order: the test file's rows picked by eval_rows(subsample);
// subsample == 0 takes the task's reference default (default_eval_subsample()).
std::vector<Example> eval_examples(const Task& task, const TasksConfig& cfg, int64_t subsample);

// Weighted sum of the components, in order (TRL sums rewards_per_func * weights).
double total_reward(const std::vector<RewardComponent>& components, std::string_view completion, const Example& ex);

// "gsm8k", "math", "countdown", "sudoku".
std::vector<std::string> task_names();
// The task of that name; core::ConfigError naming `option` and the valid names otherwise.
const Task& find_task(std::string_view name, const std::string& option = "task");

}  // namespace mdrl::tasks
