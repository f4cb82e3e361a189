// Decoding prompts across ranks and scoring task examples (DESIGN.md `eval/task_decode`): the one
// decode-and-collect loop of `mdrl generate`, the SFT (and RL) in-training evaluation and `mdrl
// eval`. Rank r decodes prompts r, r + W, r + 2W, ... in batches; completions are the tokens before
// the first EOS, detokenised; texts come back in input order on rank 0.
#pragma once

#include <mpi.h>

#include <ATen/core/Generator.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "decode/decode_config.hpp"
#include "decode/decode_plan.hpp"
#include "decode/denoiser.hpp"
#include "decode/generate.hpp"
#include "io/trajectory_store.hpp"

namespace mdrl::tokenizer {
class Tokenizer;
}
namespace mdrl::tasks {
class Task;
struct Example;
}  // namespace mdrl::tasks

namespace mdrl::eval {

struct DecodeJob {
  const decode::DecodeConfig& cfg;
  const decode::DecodePlan& plan;  // decode::make_plan(cfg)
  int64_t batch_size = 0;          // prompts per generate() call; 0 = the rank's whole share at once
  bool skip_special = true;        // detokenise without special tokens
  decode::StepObserver observer;   // e.g. the live view of mdrl generate
};

struct Completion {
  size_t index = 0;                 // the prompt's index in the input list
  std::vector<int32_t> ids;         // the tokens before the first EOS
  std::string text;                 // ids detokenised
};

struct DecodeStats {
  int64_t forwards = 0;
  double seconds = 0, seconds_model = 0;
};

// Sees every decoded batch: the input indices of its rows, the padded prompts and the result
// (trace included), e.g. for mdrl eval's decode traces and per-batch forward counts.
using BatchSink = std::function<void(const std::vector<size_t>& indices, const decode::PromptBatch& prompts,
                                     const decode::DecodeResult& result)>;

// This rank's share (index % world == rank) of `prompts` (token ids, unpadded), decoded with the
// noise of `gen`; in increasing index order.
std::vector<Completion> decode_share(int rank, int world, decode::Denoiser& denoiser, const tokenizer::Tokenizer& tok,
                                     const std::vector<std::vector<int64_t>>& prompts, const DecodeJob& job,
                                     at::Generator& gen, DecodeStats* stats = nullptr, const BatchSink& sink = {});

// Every rank's texts in input order on `root` (n = prompts.size()); empty elsewhere. Collective.
std::vector<std::string> gather_texts(MPI_Comm comm, const std::vector<Completion>& mine, size_t n, int root = 0);

// Sums of task scores over completions (this rank's share; reduce across ranks with MetricReducer).
struct TaskScore {
  double correct = 0, total = 0;  // the task's units (cells for Sudoku, answers otherwise)
  double solved = 0;              // completions with every unit right
  double decoded = 0;             // completions scored
};
TaskScore score_completions(const tasks::Task& task, const std::vector<Completion>& completions,
                            const std::function<const tasks::Example&(size_t index)>& example_of);

// Decoded batches of this rank (prompts and results with their traces, as a BatchSink saw them)
// as one trajectory-store step: prompts left-padded to one width, completions, step maps,
// confidences; `group` and `reward` per row (one component). For mdrl eval's and mdrl generate's
// decode traces.
io::TrajectoryBatch trace_batch(int64_t step,
                                const std::vector<std::pair<decode::PromptBatch, decode::DecodeResult>>& parts,
                                const std::vector<int64_t>& group, const std::vector<double>& reward, int64_t pad_id,
                                const std::string& decoding);

}  // namespace mdrl::eval
