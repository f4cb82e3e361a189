// Prompt strings of spec algorithms.md §6.1-§6.2.
#include "tasks/prompts.hpp"

namespace mdrl::tasks::prompts {

const char* const kSystem =
    "\nRespond in the following format:\n<reasoning>\n...\n</reasoning>\n<answer>\n...\n</answer>\n";

const char* const kSudokuSystem =
    "\nPlease solve the following 4x4 Sudoku puzzle. The puzzle is provided as a 16-character string reading "
    "left-to-right, top-to-bottom, where '0' represents empty cells.\n\nRules:\n- Fill empty cells with digits 1-4\n"
    "- Each row must contain digits 1-4 exactly once\n- Each column must contain digits 1-4 exactly once\n"
    "- Each 2x2 box must contain digits 1-4 exactly once\n\nImportant: Your solution must be a COMPLETE "
    "16-character string with only the digits 1-4, representing your final solved grid.\n\nRespond in this exact "
    "format:\n<reasoning>\nYour step-by-step solving process\n</reasoning>\n<answer>\n[16-character solution string "
    "with no spaces or separators]\n</answer>\n";

const char* const kGsm8kEvalSystem =
    "You are a math expert. You will be given a question to solve. Solve it step by step. Wrap the final answer in "
    "a \\boxed{}. \nRespond in the following format:\n<reasoning>\nYour reasoning here\n</reasoning>\n<answer>\n"
    "\\boxed{...}\n</answer>";

const char* const kMathEvalSystem =
    "You are a math expert. You will be given a question to solve. Solve it step by step. Wrap the final answer in "
    "a \\boxed{}.\nRespond in the following format:\n<reasoning>\nYour reasoning here\n</reasoning>\n<answer>\n"
    "\\boxed{...}\n</answer>\" \n";

const char* const kCountdownEvalSystem =
    "Using only the provided numbers, create an arithmetic expression that evaluates to exactly the provided target "
    "number. You may use the operations +, -, *, and / as needed, but each number must be used exactly once. Think "
    "step-by-step. After reasoning, provide only your final expression inside \\boxed{} tags without including an "
    "equals sign or the target number. For example: \\boxed{a + b * c}Respond in the following format:\n"
    "<reasoning>\nYour reasoning here\n</reasoning>\n<answer>\n\\boxed{...}\n</answer>";

const char* const kMathTrainInstruction =
    "\n\nYou are a math expert. You will be given a question to solve. Solve it step by step. Wrap the final answer "
    "in a \\boxed{}. \n\n";

std::string list_repr(const std::vector<long long>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

}  // namespace mdrl::tasks::prompts
