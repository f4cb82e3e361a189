// SFT data (spec algorithms.md §3): prompt/response pairs from a JSONL file (our pairs layout or the
// reference's s1K rows) or a task's training examples (generated Sudoku/Countdown puzzles with
// reasoning-style targets), rendered through the chat template, tokenised, bounded in length,
// shuffled with the run seed and split into train and held-out parts.
//
// Bad rows never crash the run: a missing or non-string field is a core::FormatError naming the
// file, line and field; an empty response, a prompt over the limit or a sequence over max_length
// (with too_long = skip) is skipped and counted, and the counts are logged.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sft/sft_config.hpp"
#include "tasks/task.hpp"

namespace mdrl::tokenizer {
class Tokenizer;
}

namespace mdrl::sft {

// The reference's SFT_SYSTEM_PROMPT (s1K rows).
extern const char* const kSftSystemPrompt;

struct SftSequence {
  std::vector<int32_t> ids;  // prompt + response tokens, without padding
  int32_t prompt_len = 0;    // tokens that are prompt (kept unmasked, no loss)
  int64_t example = -1;      // index into SftDataset::examples (task data), -1 for JSONL rows
};

struct SftDataStats {
  int64_t rows = 0;                 // rows read or examples generated
  int64_t skipped_empty = 0;        // empty response
  int64_t skipped_long_prompt = 0;  // prompt over max_prompt_length
  int64_t skipped_too_long = 0;     // over max_length with too_long = skip
  int64_t truncated = 0;            // over max_length with too_long = truncate
  int64_t prompt_tokens = 0, response_tokens = 0;  // kept sequences, before truncation
  std::string describe() const;
};

struct SftDataset {
  std::vector<SftSequence> train, eval;
  std::vector<tasks::Example> examples;  // task data: the examples the sequences refer to
  const tasks::Task* task = nullptr;     // set for task data (its metric scores held-out decodes)
  SftDataStats stats;
  std::string source;                    // for logs: the file or "generated sudoku (10000)"
};

// One prompt/response pair as token ids, through the chat template (see SftConfig::template_quirks).
// Returns false (and counts why in `stats`) when the pair is skipped.
bool make_sequence(const std::string& user, const std::string& response, const SftConfig& cfg,
                   const tokenizer::Tokenizer& tok, SftSequence& out, SftDataStats& stats);

// Everything above, identical on every rank (deterministic in run_seed). `threads` tokenise in parallel.
SftDataset load_sft_data(const SftConfig& cfg, const tasks::TasksConfig& tasks_cfg, const tokenizer::Tokenizer& tok,
                         uint64_t run_seed, int threads = 1);

}  // namespace mdrl::sft
