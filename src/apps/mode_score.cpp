// `mdrl score`: wires [score] and [tasks] to eval::read_generation_sets / score_set /
// reward_breakdown (spec algorithms.md §5, §7.2). Runs on rank 0; nothing collective follows.
#include "apps/mode_score.hpp"

#include <iostream>

#include "apps/mode_setup.hpp"
#include "config/options.hpp"
#include "config/run_config.hpp"
#include "core/error.hpp"
#include "dist/mpi_env.hpp"
#include "eval/generation_file.hpp"
#include "eval/scoring.hpp"
#include "tasks/task.hpp"
#include "tokenizer/tokenizer.hpp"

namespace mdrl::apps {

void ScoreConfig::add_options(config::Options& opts) {
  opts.section("score", "what `mdrl score` reads and reports")
      .add("tokenizer", tokenizer,
           "tokenizer.json (file or folder, or builtin:byte_level) that counts effective tokens; the reference "
           "counts with tiktoken cl100k_base, so give a cl100k_base tokenizer.json for comparable lengths")
      .add("rewards", rewards,
           "print the reward components of each completion of a JSONL file ({task, completion, ground truth}) "
           "instead of accuracy tables");
}

int run_score(const dist::MpiEnv& env, const std::vector<std::string>& args) {
  config::RunConfig run;
  config::LogConfig log;
  tasks::TasksConfig tc;
  ScoreConfig sc;
  config::Options opts("score");
  run.add_options(opts);
  log.add_options(opts);
  tc.add_options(opts);
  sc.add_options(opts);
  opts.allow_positional("FILE|DIR", /*many=*/true);
  const auto cl = setup_mode(
      env, opts, args,
      "usage: mdrl score [--score.tokenizer=PATH] FILE|DIR ...\n"
      "       mdrl score --score.rewards [--tasks.math_format_reward=reference|fixed] completions.jsonl\n\n"
      "Scores generation files: the reference tools' *_{rank}_generations.json (ranks merged by setup) and our\n"
      "JSONL ({task, setup, question, generation, ground_truth} per line). Prints task, setup, accuracy (cell\n"
      "level for Sudoku), count and average effective tokens per setup. With score.rewards, prints the reward\n"
      "components of each completion as JSON lines; each row has \"task\", \"completion\" and the ground truth,\n"
      "either \"ground_truth\" as in score's JSONL (GSM8K a number or \"#### n\", MATH the answer, Countdown\n"
      "[[numbers], target], Sudoku the solution, with the puzzle in \"puzzle\" or \"question\") or the task's\n"
      "fields: gsm8k \"answer\"; math \"answer\" or \"solution\"; countdown \"numbers\" + \"target\"; sudoku\n"
      "\"puzzle\" + \"solution\".",
      log, /*table_at_debug=*/true);
  MDRL_CHECK(!cl.positional.empty(), core::UsageError,
             "mdrl score needs at least one generation file or folder (see mdrl score --help)");
  if (env.rank() != 0) return 0;
  if (sc.rewards) {
    for (const auto& path : cl.positional)
      for (const auto& line : eval::reward_breakdown(path, tc)) std::cout << line << "\n";
    std::cout << std::flush;
    return 0;
  }
  const auto tok = tokenizer::Tokenizer::load(sc.tokenizer);
  const eval::TokenCounter count = [&tok](std::string_view text) { return tok.encode(text).size(); };
  std::vector<eval::SetupScore> scores;
  for (const auto& set : eval::read_generation_sets(cl.positional)) scores.push_back(eval::score_set(set, count));
  std::cout << eval::format_table(scores) << std::flush;
  return 0;
}

}  // namespace mdrl::apps
