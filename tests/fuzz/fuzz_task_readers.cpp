// libFuzzer harness: the task data readers (tasks/data_files.hpp read_jsonl / read_csv and each
// task's Task::read, spec algorithms.md §6) and what the examples they return feed: prompts,
// reward components and evaluation. Input: one byte choosing the task (gsm8k, math, countdown:
// JSONL; sudoku: CSV), then the file. A malformed file is a FormatError naming it.
#include <cstdint>

#include "fuzz_support.hpp"
#include "tasks/data_files.hpp"
#include "tasks/task.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const char* const kTasks[] = {"gsm8k", "math", "countdown", "sudoku"};
  const std::string task_name = kTasks[data[0] % 4];
  const bool csv = task_name == "sudoku";
  const std::string_view bytes = mdrl::fuzz::as_text(data + 1, size - 1);
  const std::string path = mdrl::fuzz::write_scratch(csv ? "data.csv" : "data.jsonl", bytes);
  const mdrl::tasks::Task& task = mdrl::tasks::find_task(task_name);
  // The generic readers on the same bytes.
  mdrl::fuzz::expect_clean([&] { (void)mdrl::tasks::read_jsonl(path); }, path);
  mdrl::fuzz::expect_clean([&] { (void)mdrl::tasks::read_csv(path); }, path);
  std::vector<mdrl::tasks::Example> examples;
  mdrl::fuzz::expect_clean([&] { examples = task.read(path); }, path);
  const mdrl::tokenizer::ChatTemplate tmpl;
  const mdrl::tasks::TasksConfig cfg;
  const auto rewards = task.rewards(cfg);
  try {
    for (const auto& ex : examples) {
      (void)task.train_prompt(ex, tmpl);
      (void)task.eval_prompt(ex, tmpl);
      (void)task.eval_question(ex);
      for (const std::string& completion :
           {ex.completion, ex.answer, ex.solution, std::string("<reasoning>x</reasoning><answer>1+2</answer>")}) {
        (void)mdrl::tasks::total_reward(rewards, completion, ex);
        (void)task.evaluate(completion, ex);
      }
    }
  } catch (const std::exception& e) {
    mdrl::fuzz::finding("prompts, rewards or evaluation of a read example threw", e.what());
  }
  return 0;
}
