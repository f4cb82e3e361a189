// libFuzzer harness: generation files that `mdrl score` reads (eval/generation_file.hpp: the
// reference tools' JSON and our JSONL) scored as `mdrl score` does (eval/scoring.hpp), and the
// per-completion reward breakdown's JSONL. Input: one byte choosing the file kind (0-3: reference
// JSON of gsm8k, math, countdown, sudoku; 4: our JSONL; 5: a reward-breakdown JSONL), then the file.
// A malformed file is a FormatError naming it.
#include <cstdint>

#include "eval/generation_file.hpp"
#include "eval/scoring.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const char* const kNames[] = {"gsm8k_fuzz_256_128_0_generations.json", "math_fuzz_256_128_0_generations.json",
                                       "countdown_fuzz_256_128_0_generations.json",
                                       "sudoku_fuzz_256_128_0_generations.json", "own.jsonl", "breakdown.jsonl"};
  const int kind = data[0] % 6;
  const std::string path = mdrl::fuzz::write_scratch(kNames[kind], mdrl::fuzz::as_text(data + 1, size - 1));
  if (kind == 5) {
    const mdrl::tasks::TasksConfig cfg;
    mdrl::fuzz::expect_clean([&] { (void)mdrl::eval::reward_breakdown(path, cfg); }, path);
    return 0;
  }
  mdrl::fuzz::expect_clean(
      [&] {
        std::vector<mdrl::eval::SetupScore> scores;
        for (const auto& set : mdrl::eval::read_generation_sets({path}))
          scores.push_back(mdrl::eval::score_set(set, [](std::string_view s) { return s.size() / 4; }));
        (void)mdrl::eval::format_table(scores);
      },
      path);
  return 0;
}
