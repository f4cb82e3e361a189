// [sft] options: where the SFT data comes from and how it becomes training sequences, the noising
// and loss of spec algorithms.md §3, the held-out split and in-training evaluation.
#pragma once

#include <cstdint>
#include <string>

namespace mdrl::config {
class Options;
}

namespace mdrl::sft {

enum class DataFormat { Pairs, S1k };
enum class PromptStyle { Task, Bare };
enum class ResponseStyle { Reasoning, Answer };
enum class Padding { MaxLength, Longest };
enum class TooLong { Truncate, Skip };
enum class LossNorm { Reference, MaskedTokens };
enum class FinalWeights { Last, Best };

struct SftConfig {
  // Data: a JSONL file (`data`) or, when it is empty, a task's training examples (`task`: its
  // [tasks] train file, or generated puzzles for sudoku/countdown).
  std::string data;
  DataFormat format = DataFormat::Pairs;
  std::string prompt_field = "prompt", response_field = "response";
  std::string task = "sudoku";
  PromptStyle prompt_style = PromptStyle::Task;
  ResponseStyle response_style = ResponseStyle::Reasoning;

  int64_t max_length = 4096;        // tokens per sequence (prompt + response + EOS padding)
  int64_t max_prompt_length = 0;    // longer prompts are skipped (counted); 0 = max_length - 1
  Padding padding = Padding::MaxLength;
  TooLong too_long = TooLong::Truncate;
  bool template_quirks = false;     // reference quirk Q20: joint tokenisation + trailing assistant header

  double eps = 1e-3;                // t' = (1 - eps) t + eps
  LossNorm loss_norm = LossNorm::Reference;

  double eval_fraction = 0.01;      // held-out share of the (shuffled) data
  int64_t eval_decode = 16;         // held-out examples decoded for task accuracy at each evaluation; 0 = none
  FinalWeights final_weights = FinalWeights::Best;  // <run.dir>/final: last step, or lowest eval_loss (HF's
                                                    // load_best_model_at_end)

  void add_options(config::Options& opts);
  void validate() const;
};

}  // namespace mdrl::sft
