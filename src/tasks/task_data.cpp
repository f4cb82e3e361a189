// Training and evaluation example sets of a task (spec algorithms.md §6): files by path, generated
// puzzles where the reference ships none, evaluation rows in the reference's order (Appendix A).
#include "core/error.hpp"
#include "tasks/puzzle_generator.hpp"
#include "tasks/subsample.hpp"
#include "tasks/task.hpp"

namespace mdrl::tasks {

std::vector<Example> training_examples(const Task& task, const TasksConfig& cfg, uint64_t run_seed) {
  const std::string name = task.name();
  const std::string& path = cfg.path(name, /*train=*/true);
  if (!path.empty()) return task.read(path);
  const std::string& test = cfg.path(name, /*train=*/false);
  const uint64_t seed = cfg.generator_seed >= 0 ? static_cast<uint64_t>(cfg.generator_seed) : run_seed;
  if (name == "sudoku") {
    SudokuGenOptions o;
    o.count = cfg.generated_count;
    o.empty_cells = static_cast<int>(cfg.sudoku_empty_cells);
    o.seed = seed;
    if (!test.empty())
      for (const auto& ex : task.read(test)) o.exclude.insert(ex.question);
    return generate_sudoku(o);
  }
  if (name == "countdown") {
    CountdownGenOptions o;
    o.count = cfg.generated_count;
    o.numbers = static_cast<int>(cfg.countdown_numbers);
    o.seed = seed;
    if (!test.empty())
      for (const auto& ex : task.read(test)) o.exclude.insert(countdown_key(ex.numbers, ex.target));
    return generate_countdown(o);
  }
  throw core::ConfigError("tasks." + name + "_train is empty; give the path of the " + name +
                          " training file (only Countdown and Sudoku can be generated)");
}

std::vector<Example> eval_examples(const Task& task, const TasksConfig& cfg, int64_t subsample) {
  const std::string& path = cfg.path(task.name(), /*train=*/false);
  MDRL_CHECK(!path.empty(), core::ConfigError,
             "tasks." + task.name() + "_test is empty; give the path of the " + task.name() + " test file");
  const auto rows = task.read(path);
  std::vector<Example> out;
  for (int64_t r :
       eval_rows(static_cast<int64_t>(rows.size()), subsample == 0 ? task.default_eval_subsample() : subsample))
    out.push_back(rows[static_cast<size_t>(r)]);
  return out;
}

}  // namespace mdrl::tasks
