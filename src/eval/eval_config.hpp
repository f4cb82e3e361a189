// [eval] options of `mdrl eval` (spec algorithms.md §1.9, §4.2, §6.2, §7; quirks Q1, Q3, Q15, Q19)
// and their expansion into setups: tasks x strategies x gen lengths x steps x block lengths. The
// strategies carry the reference eval script's names (§1.9), each a [decode] setting on top of the
// configured [decode] section; `decode` is that section as given. expand_setups() checks every
// setup's decode plan up front, so an invalid combination (ASS with steps != floor(log2 L), a block
// length that does not divide L, ...) fails when the options are read, before any model loads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "decode/decode_config.hpp"

namespace mdrl::config {
class Options;
}
namespace mdrl::tasks {
struct TasksConfig;
}

namespace mdrl::eval {

struct EvalConfig {
  std::vector<std::string> tasks = {"gsm8k", "math", "countdown", "sudoku"};  // run_eval.sh's four
  std::vector<std::string> strategies = {"eoser_ass"};                        // run_eval.sh's strategy
  // Sweeps; empty = the [decode] value. steps entries: an integer, "log2" (floor(log2 L), the ASS
  // count) or "gen/<k>" (L / k, e.g. d1's gen/2).
  std::vector<std::string> gen_lengths, steps, block_lengths, block_nums;
  std::string subsample = "default";  // default (Appendix A) | all | N (first N of the reference's order)
  enum class Source { Test, Generated } source = Source::Test;  // test files, or generated puzzles
  // Prompt: task = the reference's eval prompt (§6.2, system prompt + "<reasoning>"); bare = the
  // question only through the chat template (the quickstart model's training prompts).
  enum class PromptStyle { Task, Bare } prompt_style = PromptStyle::Task;
  std::string out_dir = "runs/eval";
  bool reference_files = true;  // also write the reference's *_{rank}_generations.json
  int64_t batch_size = 8;       // prompts per generate() call per rank (run_eval.sh: 8)
  int64_t samples = 1;  // completions per prompt (Pass@k, k = samples; needs temperature > 0 or random remasking)
  bool traces = false;  // step map and confidence of every generation into HDF5
  bool sort_by_length = false;  // batch prompts of similar length (outputs stay in input order)
  bool skip_special = false;    // drop special tokens from the texts (the reference keeps them)
  // The stored text: all L completion tokens detokenised, EOS padding included (the reference's
  // batch_decode of out[:, -L:]; its parsers and effective-token count expect it), or only the
  // tokens before the first EOS (mdrl's in-training evaluation).
  enum class Completion { Full, UntilEos } completion = Completion::Full;
  // Setups that draw noise (decode.temperature > 0 or random remasking): true = every completion
  // is decoded alone with its own generator, keyed by (run.seed, setup, prompt, sample), so the
  // results do not depend on batch size, ranks or sorting; false = one generator per batch
  // (faster; results then change with eval.batch_size and the number of ranks).
  bool item_noise = true;

  void add_options(config::Options& opts);
  void validate() const;
  // Examples per task: 0 = the reference default, -1 = all, n > 0 = the first n.
  int64_t subsample_count() const;
};

// One evaluation setup: a task decoded with one [decode] setting.
struct EvalSetup {
  std::string task, strategy;
  int64_t gen_length = 0, steps = 0, block = 0;  // block: semi-AR block_length, or ASS block_num
  decode::DecodeConfig decode;
  std::string name;  // "<task>_<strategy>_<L>_<steps>_b<block>": file names and the table's setup

  // Whether the decoding draws random numbers (temperature > 0 or random remasking).
  bool draws_noise() const;
};

// The reference's strategy names plus "decode".
const std::vector<std::string>& strategy_names();

// `base` with `strategy`'s settings for one (L, steps, block); throws core::ConfigError naming
// eval.strategies and the valid names for an unknown strategy.
decode::DecodeConfig strategy_decode(const std::string& strategy, const decode::DecodeConfig& base, int64_t gen_length,
                                     int64_t steps, int64_t block);

// Every setup in run order (task, strategy, L, steps, block), each plan validated; also checks that
// every task has its data (tasks.<task>_test naming an existing file, or a generator). Throws
// core::ConfigError naming the option and what is valid.
std::vector<EvalSetup> expand_setups(const EvalConfig& ec, const decode::DecodeConfig& base,
                                     const tasks::TasksConfig& tc);

}  // namespace mdrl::eval
