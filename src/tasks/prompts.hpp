// Prompt texts of spec algorithms.md §6.1 (training) and §6.2 (evaluation), character for
// character as the reference's source strings evaluate (its "\\boxed" is a backslash + "boxed").
#pragma once

#include <string>
#include <vector>

namespace mdrl::tasks::prompts {

extern const char* const kSystem;        // SYSTEM_PROMPT of the training sets
extern const char* const kSudokuSystem;  // SUDOKU_SYSTEM_PROMPT (training and eval)
extern const char* const kGsm8kEvalSystem;
extern const char* const kMathEvalSystem;
extern const char* const kCountdownEvalSystem;
extern const char* const kMathTrainInstruction;

// Python's repr of a list of ints: "[2, 3, 4]".
std::string list_repr(const std::vector<long long>& v);

}  // namespace mdrl::tasks::prompts
