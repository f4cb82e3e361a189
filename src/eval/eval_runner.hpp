// The evaluation runner of `mdrl eval` (DESIGN.md "The RL and eval modules in detail"; spec
// algorithms.md §7): for every setup (task x decoding setting, eval_config.hpp) the task's examples
// are decoded across ranks (eval/task_decode, rank-strided, in chunks of batch_size x world) and
// written by rank 0 into eval.out_dir:
//   <setup>.jsonl                          our generation file (read by `mdrl score` unchanged)
//   reference/<setup>_<rank>_generations.json   the reference's files (its parse_and_get_acc.py reads them)
//   traces/<setup>/seg-*.h5                optional step maps and confidences (trajectory store format)
//   partial/<setup>.jsonl                  the completions of an unfinished setup, one line per chunk
//   done/<setup>.json                      the setup's result row, provenance and settings fingerprint
//   results.md, results.json               the table of every finished setup
// Each file is written to a temporary name and renamed; the done marker is written last, so a
// setup counts as finished only when all its files are complete. A rerun refuses setups finished
// with other settings (before decoding anything), skips finished ones and continues the rest; a
// stop request (signal, walltime, STOP file: the caller's train::RunControl) is honoured after
// every chunk. An unfinished setup continues after its last complete chunk line when its results
// do not depend on the layout (attention mask on, and no noise or eval.item_noise), else it is
// redone from its start.
//
// Invariance (Q15): with the attention mask, a completion depends only on its prompt, the model
// and the decode settings (and, for noisy settings with eval.item_noise, its own generator), so
// batch size, rank count, sorting and chunk boundaries change nothing but speed. Rank r decodes
// positions r, r + W, ... of each chunk of batch_size x W items; rank 0 gathers every chunk.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "eval/eval_config.hpp"

namespace mdrl::decode {
class Denoiser;
}
namespace mdrl::tokenizer {
class Tokenizer;
}
namespace mdrl::tasks {
struct TasksConfig;
struct Example;
}  // namespace mdrl::tasks

namespace mdrl::eval {

// One row of the results table.
struct EvalRow {
  std::string task, setup, strategy;
  int64_t gen_length = 0, steps = 0, block = 0;
  double accuracy = 0;  // % (cell level for Sudoku), over every completion
  int64_t count = 0;    // completions scored (prompts x samples)
  int64_t prompts = 0;
  double avg_effective_tokens = 0;  // as `mdrl score` reports it (model tokenizer)
  double forwards_per_sample = 0;   // model calls each completion took part in
  double tokens_per_forward = 0;    // completion tokens before EOS / forwards_per_sample
  double wall_s = 0, samples_per_s = 0;
  int64_t samples = 1;    // k
  double pass_at_k = -1;  // % of prompts with a fully correct completion among k; -1 when k = 1

  nlohmann::json to_json() const;
  static EvalRow from_json(const nlohmann::json& j);
};

// Every task's examples in evaluation order, by task name.
using TaskExamples = std::map<std::string, std::vector<tasks::Example>>;

// The examples of every task in eval.tasks (test file rows of Appendix A, or generated puzzles,
// eval.source); reads the data files, so the caller runs it before loading a model: a missing or
// malformed file throws core::ConfigError / InputError / FormatError naming it (exit 2).
TaskExamples load_eval_examples(const EvalConfig& ec, const tasks::TasksConfig& tc, uint64_t seed);

struct EvalInputs {
  const EvalConfig& eval;
  const std::vector<EvalSetup>& setups;
  const TaskExamples& examples;  // load_eval_examples()
  uint64_t seed = 42;
  decode::Denoiser& denoiser;
  const tokenizer::Tokenizer& tokenizer;
  // git commit, resolved config, model and adapter checksums, world size, device, dtype.
  nlohmann::json provenance;
  // Identity of the model (checksums) for the settings fingerprint of finished setups.
  std::string model_identity;
  // Collective (every rank, once per chunk): true = stop after this chunk (the rerun continues the
  // setup in progress). Empty = never.
  std::function<bool()> stop_requested;
};

struct EvalOutcome {
  bool finished = false;         // every setup done
  int64_t ran = 0, skipped = 0;  // setups decoded now, setups found finished
  std::vector<EvalRow> rows;     // finished setups in run order (rank 0)
};

// Runs what is not finished yet. Collective over comm.
EvalOutcome run_eval(MPI_Comm comm, const EvalInputs& in);

// The table as Markdown (rank 0 writes it to results.md).
std::string format_results_markdown(const std::vector<EvalRow>& rows);

}  // namespace mdrl::eval
