// The four tasks of spec algorithms.md §5-§7: readers, prompts, rewards, evaluation metric.
#include <algorithm>

#include "core/error.hpp"
#include "core/text.hpp"
#include "tasks/data_files.hpp"
#include "tasks/math_answer.hpp"
#include "tasks/prompts.hpp"
#include "tasks/task.hpp"

namespace mdrl::tasks {
namespace {

std::string at(const std::string& path, int64_t line) {
  return path + ":" + std::to_string(line) + ": ";
}

long long parse_integer(const std::string& text, const std::string& what) {
  const auto t = core::trim(text);
  MDRL_CHECK(!t.empty() && t.find_first_not_of("-0123456789") == std::string_view::npos && t.size() < 18,
             core::FormatError, what + "'" + text + "' is not an integer");
  return std::stoll(std::string(t));
}

class Gsm8kTask final : public Task {
 public:
  std::string name() const override { return "gsm8k"; }
  std::vector<Example> read(const std::string& path) const override {
    std::vector<Example> out;
    for (const auto& row : read_jsonl(path)) {
      Example ex;
      ex.question = json_string(row, "question", path);
      ex.answer = json_string(row, "answer", path);
      ex.line = row.line;
      out.push_back(std::move(ex));
    }
    return out;
  }
  std::string train_content(const Example& ex) const override {
    return std::string(prompts::kSystem) + "\n\n" + ex.question;
  }
  std::string eval_content(const Example& ex) const override {
    return std::string(prompts::kGsm8kEvalSystem) + "\n\n" + eval_question(ex);
  }
  std::string eval_question(const Example& ex) const override { return ex.question; }
  std::vector<RewardComponent> rewards(const TasksConfig&) const override {
    return {
        {"xmlcount", 1.0, [](std::string_view r, const Example&) { return xmlcount_reward(r); }},
        {"soft_format", 1.0, [](std::string_view r, const Example&) { return soft_format_reward(r); }},
        {"strict_format", 1.0, [](std::string_view r, const Example&) { return strict_format_reward(r); }},
        {"int", 1.0, [](std::string_view r, const Example&) { return int_reward(r); }},
        {"correctness", 1.0,
         [](std::string_view r, const Example& ex) {
           return gsm8k_correctness_reward(r, extract_hash_answer(ex.answer));
         }},
    };
  }
  EvalScore evaluate(std::string_view gen, const Example& ex) const override {
    return score_gsm8k(gen, gsm8k_ground_truth(ex.answer));
  }
};

class MathTask final : public Task {
 public:
  std::string name() const override { return "math"; }
  std::vector<Example> read(const std::string& path) const override {
    std::vector<Example> out;
    for (const auto& row : read_jsonl(path)) {
      Example ex;
      ex.question = json_string(row, "problem", path);
      ex.solution = json_string(row, "solution", path);
      // The short answer is what evaluation compares with; without it, the boxed answer of the solution.
      if (row.value.contains("answer")) {
        ex.answer = json_string(row, "answer", path);
      } else {
        ex.answer = math_answer_of_solution(ex.solution);
      }
      ex.line = row.line;
      out.push_back(std::move(ex));
    }
    return out;
  }
  std::string train_content(const Example& ex) const override {
    return std::string(prompts::kSystem) + prompts::kMathTrainInstruction + ex.question;
  }
  std::string eval_content(const Example& ex) const override {
    return std::string(prompts::kMathEvalSystem) + "\n\n" + eval_question(ex);
  }
  std::string eval_question(const Example& ex) const override { return ex.question; }
  std::vector<RewardComponent> rewards(const TasksConfig& cfg) const override {
    const MathFormatReward variant = cfg.math_format;
    return {
        {"correctness_math", 1.0,
         [](std::string_view r, const Example& ex) { return math_correctness_reward(r, ex.solution); }},
        {"boxed_and_answer_tags_format", 1.0,
         [variant](std::string_view r, const Example&) { return math_format_reward(r, variant); }},
    };
  }
  EvalScore evaluate(std::string_view gen, const Example& ex) const override { return score_math(gen, ex.answer); }

 private:
  static std::string math_answer_of_solution(const std::string& solution) {
    const auto boxed = math::boxed_answer(solution);
    return boxed.value_or("");
  }
};

class CountdownTask final : public Task {
 public:
  std::string name() const override { return "countdown"; }
  std::vector<Example> read(const std::string& path) const override {
    std::vector<Example> out;
    for (const auto& row : read_jsonl(path)) {
      Example ex;
      ex.line = row.line;
      const std::string where = at(path, row.line);
      if (row.value.contains("input")) {  // the reference's test file: {"input": "a,b,c", "output": "t"}
        for (const auto& n : core::split(json_string(row, "input", path), ','))
          ex.numbers.push_back(parse_integer(n, where + "\"input\" item "));
        ex.target = parse_integer(json_string(row, "output", path), where + "\"output\" ");
      } else {  // the Countdown-Tasks layout: {"nums": [..], "target": t}
        const char* key = row.value.contains("nums") ? "nums" : "numbers";
        MDRL_CHECK(row.value.contains(key) && row.value[key].is_array() && row.value.contains("target") &&
                       row.value["target"].is_number_integer(),
                   core::FormatError,
                   where + "expected {\"input\": \"a,b,c\", \"output\": \"t\"} or {\"nums\": [...], \"target\": t}");
        for (const auto& n : row.value[key]) {
          MDRL_CHECK(n.is_number_integer(), core::FormatError, where + "\"" + key + "\" must hold integers");
          ex.numbers.push_back(n.get<long long>());
        }
        ex.target = row.value["target"].get<long long>();
      }
      if (row.value.contains("completion") && row.value["completion"].is_string())
        ex.completion = row.value["completion"].get<std::string>();
      MDRL_CHECK(!ex.numbers.empty(), core::FormatError, where + "no numbers");
      out.push_back(std::move(ex));
    }
    return out;
  }
  std::string train_content(const Example& ex) const override {
    return std::string(prompts::kSystem) + "\nUsing only the numbers " + prompts::list_repr(ex.numbers) +
           ", create an arithmetic expression that evaluates to exactly " + std::to_string(ex.target) +
           ". You must use all numbers from the list, and each number must be used exactly once. You may use the "
           "operations +, -, *, and / as needed. After reasoning, provide only your final expression inside "
           "<answer></answer> tags without including an equals sign or the target number. For example, if the "
           "numbers are [2, 3, 4] and the target is 5, a valid answer is: <answer>\n2*4-3\n</answer>";
  }
  std::string eval_content(const Example& ex) const override {
    return std::string(prompts::kCountdownEvalSystem) + "\n\n" + eval_question(ex);
  }
  std::string eval_question(const Example& ex) const override {
    return "Numbers: " + prompts::list_repr(ex.numbers) + "\nTarget: " + std::to_string(ex.target);
  }
  std::vector<RewardComponent> rewards(const TasksConfig&) const override {
    return {{"countdown", 1.0,
             [](std::string_view r, const Example& ex) { return countdown_reward(r, ex.numbers, ex.target); }}};
  }
  EvalScore evaluate(std::string_view gen, const Example& ex) const override {
    return score_countdown(gen, ex.numbers, ex.target);
  }
  int64_t default_eval_subsample() const override { return 256; }
};

bool is_grid(const std::string& s) {
  return s.size() == 16 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '4'; });
}

class SudokuTask final : public Task {
 public:
  std::string name() const override { return "sudoku"; }
  std::vector<Example> read(const std::string& path) const override {
    const CsvTable t = read_csv(path);
    const size_t pc = t.column("Puzzle", path), sc = t.column("Solution", path);
    const bool has_completion = std::find(t.header.begin(), t.header.end(), "Completion") != t.header.end();
    std::vector<Example> out;
    for (size_t r = 0; r < t.rows.size(); ++r) {
      Example ex;
      ex.question = t.rows[r][pc];
      ex.solution = t.rows[r][sc];
      ex.line = t.lines[r];
      MDRL_CHECK(is_grid(ex.question) && is_grid(ex.solution), core::FormatError,
                 at(path, ex.line) + "Puzzle and Solution must be 16 digits 0-4 (read as text, so leading zeros stay)");
      if (has_completion) ex.completion = t.rows[r][t.column("Completion", path)];
      out.push_back(std::move(ex));
    }
    return out;
  }
  std::string train_content(const Example& ex) const override {
    return std::string(prompts::kSudokuSystem) + "\n\nSolve the following Sudoku puzzle: " + ex.question + "\n";
  }
  std::string eval_content(const Example& ex) const override {
    return std::string(prompts::kSudokuSystem) + "\n\n" + eval_question(ex);
  }
  std::string eval_question(const Example& ex) const override {
    return "Solve the following Sudoku puzzle: " + ex.question + "\n";
  }
  std::vector<RewardComponent> rewards(const TasksConfig&) const override {
    return {{"sudoku", 1.0,
             [](std::string_view r, const Example& ex) { return sudoku_reward(r, ex.question, ex.solution); }}};
  }
  EvalScore evaluate(std::string_view gen, const Example& ex) const override {
    return score_sudoku(gen, eval_question(ex), ex.solution);
  }
  int64_t default_eval_subsample() const override { return 256; }
};

const std::vector<std::unique_ptr<Task>>& registry() {
  static const std::vector<std::unique_ptr<Task>> tasks = [] {
    std::vector<std::unique_ptr<Task>> v;
    v.push_back(std::make_unique<Gsm8kTask>());
    v.push_back(std::make_unique<MathTask>());
    v.push_back(std::make_unique<CountdownTask>());
    v.push_back(std::make_unique<SudokuTask>());
    return v;
  }();
  return tasks;
}

}  // namespace

double total_reward(const std::vector<RewardComponent>& components, std::string_view completion, const Example& ex) {
  double sum = 0;
  for (const auto& c : components) sum += c.weight * c.fn(completion, ex);
  return sum;
}

std::vector<std::string> task_names() {
  std::vector<std::string> names;
  for (const auto& t : registry()) names.push_back(t->name());
  return names;
}

const Task& find_task(std::string_view name, const std::string& option) {
  for (const auto& t : registry())
    if (t->name() == name) return *t;
  std::string msg =
      option + " = '" + std::string(name) + "' is not a task; valid tasks: " + core::join(task_names(), ", ");
  const auto close = core::closest_matches(std::string(name), task_names());
  if (!close.empty()) msg += " (did you mean " + core::join(close, " or ") + "?)";
  throw core::ConfigError(msg);
}

}  // namespace mdrl::tasks
