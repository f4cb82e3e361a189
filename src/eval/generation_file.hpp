// Generation files that `mdrl score` reads (spec algorithms.md §7.1-§7.2):
// - the reference tools' JSON, one file per rank, `{"generations": [{"question", "prompt_input",
//   "generations", "ground_truth"}, ...], "metrics": ..., ...}`, named
//   `{dataset}_{model}_{gen}_{steps}_{rank}_generations.json`; ranks merge into one setup (the
//   name without `_{rank}_generations.json`) and the task is found in the setup name by substring
//   in the order gsm, math, countdown, sudoku (a name matching none is an error here);
// - our own JSON Lines, one generation per line: `{"task", "setup", "question", "generation",
//   "ground_truth"}` ("setup" defaults to the file name without extension).
// Ground truth as the reference stores it: GSM8K a number (or null), MATH a string, Countdown
// [[numbers...], target], Sudoku the solution string (the puzzle is read from the question).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace mdrl::eval {

struct Generation {
  std::string question;
  std::string generation;
  nlohmann::json ground_truth;
  std::string origin;  // "file:index" for messages
};

struct GenerationSet {
  std::string setup;
  std::string task;
  std::vector<std::string> files;
  std::vector<Generation> items;
};

// "gsm8k_instruct_256_128_0_generations.json" -> "gsm8k_instruct_256_128"; "" when the name does
// not end in _{rank}_generations.json (the reference skips such files).
std::string setup_of_filename(const std::string& filename);
// The reference's routing by substring; core::FormatError naming the file when nothing matches.
std::string task_of_setup(const std::string& setup, const std::string& file);

// Reads files and folders (a folder: its *_generations.json and *.jsonl files, sorted by name) and
// merges them by setup, sorted by setup name as the reference prints them.
std::vector<GenerationSet> read_generation_sets(const std::vector<std::string>& paths);

}  // namespace mdrl::eval
