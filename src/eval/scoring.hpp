// Scoring of generation sets (spec algorithms.md §7.2, `eval/parse_and_get_acc.py`): per setup,
// the task's parser and accuracy (cell-level for Sudoku), the count, and the average effective
// length: tokens of the generation with the literal "<|endoftext|>" removed (the reference counts
// with tiktoken cl100k_base; we count with the tokenizer given), for Sudoku tokens x 8 / empty cells.
// Also the per-completion reward breakdown for debugging the reward functions (spec §5).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "eval/generation_file.hpp"
#include "tasks/task.hpp"

namespace mdrl::eval {

struct SetupScore {
  std::string task, setup;
  double correct = 0, total = 0;  // units: answers, or cells for Sudoku
  int64_t count = 0;              // generations
  double tokens = 0;              // effective tokens, summed
  double accuracy() const { return total > 0 ? 100.0 * correct / total : 0.0; }
  double avg_effective_tokens() const;
};

using TokenCounter = std::function<size_t(std::string_view)>;

// The example a task's parser needs, from the reference's stored question and ground truth.
tasks::Example example_from_ground_truth(const std::string& task, const Generation& g);

SetupScore score_set(const GenerationSet& set, const TokenCounter& count_tokens);
// One row per setup: task, setup, accuracy (%), count, average effective tokens.
std::string format_table(const std::vector<SetupScore>& scores);

// Reward breakdown of each line of a JSONL file of completions: {"task", "completion", and the
// ground truth: gsm8k "answer" (final answer or full text with ####), math "solution" (or
// "answer"), countdown "numbers" + "target", sudoku "puzzle" + "solution"}. Returns one JSON
// object per line: {"line", "task", "rewards": {name: value}, "total"}.
std::vector<std::string> reward_breakdown(const std::string& path, const tasks::TasksConfig& cfg);

}  // namespace mdrl::eval
