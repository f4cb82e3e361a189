// The parts of `mdrl eval` around its decode loop (eval_runner.hpp has the whole picture), internal to
// src/eval/: what a setup is decoded from (prompts and the settings fingerprint), what earlier runs
// left (done markers, partial files), and what a finished setup writes (its files and row, the tables).
// eval_plan.cpp has the first two, eval_results.cpp the last; eval_runner.cpp decodes.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "eval/eval_runner.hpp"
#include "eval/scoring.hpp"

namespace mdrl::tasks {
class Task;
}
namespace mdrl::tokenizer {
struct ChatTemplate;
}

namespace mdrl::eval::detail {

// JSON text, ill-formed UTF-8 replaced (what our files hold).
std::string dump(const nlohmann::json& j, int indent = -1);
std::string fixed(double v, int digits);

// A task's prompts, shared by its setups.
struct TaskPrompts {
  std::vector<std::vector<int64_t>> ids;
  std::vector<std::string> text;
  std::vector<nlohmann::json> truth;  // the ground truth as the reference stores it (spec §7.1)
  std::string hash;                   // XXH64 over prompt ids and ground truths: the examples' identity
};

TaskPrompts make_prompts(const EvalConfig& ec, const tasks::Task& task, const std::vector<tasks::Example>& examples,
                         const tokenizer::Tokenizer& tok, const tokenizer::ChatTemplate& tmpl);

// Whether a setup's completions depend only on their prompts (not on batches, ranks, chunks).
bool layout_free(const EvalConfig& ec, const EvalSetup& s);

// The settings that make a setup's results what they are: not batch size, ranks or sorting, unless
// the results depend on them (no attention mask, or noise shared by a batch).
nlohmann::json fingerprint(const EvalInputs& in, const EvalSetup& s, const TaskPrompts& p, int world);

// Setups finished by an earlier run with the same fingerprint (collective: rank 0 reads
// done/<setup>.json, every rank learns the decision). `rows` holds their result rows on rank 0.
// Throws core::ConfigError naming the setups finished with other settings, before anything is decoded.
struct Finished {
  std::vector<bool> done;
  std::vector<EvalRow> rows;
};
Finished finished_setups(MPI_Comm comm, const EvalConfig& ec, const std::vector<EvalSetup>& setups,
                         const std::vector<nlohmann::json>& fps);

// The completions of an unfinished setup: partial/<setup>.jsonl, a header line with the
// fingerprint, then one line per chunk {"begin", "end", "wall_s", "items": [[item, tokens,
// forwards, text], ...]}. Lines are appended and flushed as chunks finish; a line cut short by a
// kill does not parse and ends what is taken.
struct Partial {
  size_t done = 0;    // positions [0, done) of the decode order are in `lines`
  double wall_s = 0;  // time the earlier attempts spent on them
  std::vector<std::string> lines;
};
Partial read_partial(const std::filesystem::path& path, const nlohmann::json& fp, const std::vector<size_t>& order);

// A decoded setup, every item (item = prompt * k + sample) on rank 0.
struct SetupCompletions {
  const std::vector<std::string>& texts;
  const std::vector<int64_t>& tokens;    // completion tokens before EOS
  const std::vector<int64_t>& forwards;  // model calls of the batch each was decoded in
  double wall_s = 0;
  size_t chunk = 1;  // items per chunk (batch_size x world)
};

// Writes a finished setup's files (rank 0): <setup>.jsonl, the reference's per-rank files, and the
// done marker last; returns its row of the table.
EvalRow write_setup_files(const EvalInputs& in, const EvalSetup& s, const nlohmann::json& fp, const TaskPrompts& tp,
                          const SetupCompletions& c, int world, const TokenCounter& count_tokens);

// results.json and results.md (rank 0); complete = every setup of the run's list is in `rows`.
void write_tables(const EvalInputs& in, const std::vector<EvalRow>& rows, int world, bool complete);

}  // namespace mdrl::eval::detail
