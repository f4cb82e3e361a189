// [eval] options and setup expansion (eval_config.hpp; spec algorithms.md §1.9 strategy dispatch,
// §4.2 the reference's eval settings, §1.5 / Q7 the ASS step constraint).
#include "eval/eval_config.hpp"

#include <algorithm>
#include <filesystem>
#include <set>

#include "config/options.hpp"
#include "core/error.hpp"
#include "core/text.hpp"
#include "decode/decode_plan.hpp"
#include "tasks/task.hpp"

namespace mdrl::eval {
namespace {

using core::ConfigError;

int64_t parse_int(const std::string& text, const std::string& option) {
  size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  MDRL_CHECK(used == text.size() && !text.empty(), ConfigError, option + ": '" + text + "' is not an integer");
  return v;
}

std::vector<int64_t> int_list(const std::vector<std::string>& texts, int64_t fallback, const std::string& option) {
  if (texts.empty()) return {fallback};
  std::vector<int64_t> out;
  for (const auto& t : texts) {
    const int64_t v = parse_int(t, option);
    MDRL_CHECK(v >= 1, ConfigError, option + ": " + t + " must be at least 1");
    out.push_back(v);
  }
  return out;
}

// One eval.steps entry for gen length L: an integer, "log2" or "gen/<k>".
int64_t resolve_steps(const std::string& entry, int64_t L) {
  if (entry == "log2") return decode::floor_log2(L);
  if (entry.rfind("gen/", 0) == 0) {
    const int64_t k = parse_int(entry.substr(4), "eval.steps");
    MDRL_CHECK(k >= 1 && L % k == 0, ConfigError,
               "eval.steps: '" + entry + "' needs a divisor of the gen length " + std::to_string(L));
    return L / k;
  }
  const int64_t v = parse_int(entry, "eval.steps (an integer, log2 or gen/<k>)");
  MDRL_CHECK(v >= 1, ConfigError, "eval.steps: " + entry + " must be at least 1");
  return v;
}

bool is_ass(const std::string& strategy, const decode::DecodeConfig& base) {
  return strategy == "eoser_ass" || strategy == "ass" ||
         (strategy == "decode" && base.schedule == decode::Schedule::Ass);
}

}  // namespace

bool EvalSetup::draws_noise() const {
  return decode.temperature > 0 || decode.remasking == decode::Remasking::Random;
}

const std::vector<std::string>& strategy_names() {
  static const std::vector<std::string> kNames = {"eoser_ass",  "ass",           "eoser",        "semi-ar_lcr",
                                                  "semi-ar_rr", "diffusion_lcr", "diffusion_rr", "decode"};
  return kNames;
}

void EvalConfig::add_options(config::Options& opts) {
  opts.section("eval", "mdrl eval: tasks x decoding setups (spec §7)")
      .add_list("tasks", tasks, "tasks to evaluate: gsm8k, math, countdown, sudoku (data from [tasks])")
      .add_list("strategies", strategies,
                "decoding strategies (the reference's names, spec §1.9): eoser_ass, ass (ASS, steps = floor(log2 L), "
                "block_num from eval.block_nums), eoser (semi-AR low-confidence with EOSER, linear gamma), "
                "semi-ar_lcr, semi-ar_rr (semi-AR, low-confidence / random remasking), diffusion_lcr, diffusion_rr "
                "(one block of L), decode (the [decode] section as given); gamma_min/max, temperature and the "
                "reference switches come from [decode]")
      .add_list("gen_lengths", gen_lengths, "completion lengths L to sweep; empty = decode.gen_length")
      .add_list("steps", steps,
                "step counts to sweep: integers, log2 (= floor(log2 L)) or gen/<k> (= L / k); empty = decode.steps "
                "(ASS strategies: floor(log2 L)); ASS strategies use only the entries equal to floor(log2 L)")
      .add_list("block_lengths", block_lengths, "semi-AR block lengths to sweep; empty = decode.block_length")
      .add_list("block_nums", block_nums,
                "ASS block counts to sweep (the reference's --block_length for ASS); "
                "empty = decode.block_num")
      .add("subsample", subsample,
           "examples per task: default (the reference's: GSM8K and MATH all rows in order, Countdown all 256 "
           "permuted, Sudoku 256 of 500, Appendix A), all (every row in file order), or N (the first N of the "
           "reference's order)")
      .add_enum("source", source, {{"test", Source::Test}, {"generated", Source::Generated}},
                "examples: the test files (tasks.<task>_test), or puzzles generated with tasks.generated_count, "
                "tasks.sudoku_empty_cells / countdown_numbers and tasks.generator_seed (Countdown and Sudoku only)")
      .add_enum("prompt_style", prompt_style, {{"task", PromptStyle::Task}, {"bare", PromptStyle::Bare}},
                "prompt: task = the reference's eval prompt (system prompt, question, <reasoning>); bare = the "
                "question only through the chat template (models trained with sft.prompt_style = bare)")
      .add("out_dir", out_dir,
           "output folder: <setup>.jsonl, reference/, traces/, done/ (finished setups), partial/ (the completions "
           "of an interrupted setup), results.md, results.json; also where a STOP file stops the run")
      .add("reference_files", reference_files,
           "also write the reference's <setup>_<rank>_generations.json files (in out_dir/reference)")
      .add("batch_size", batch_size,
           "prompts decoded together per rank, left-padded (pads masked out of attention unless "
           "decode.attention_mask = false); setups that draw noise decode one at a time with eval.item_noise")
      .add("samples", samples,
           "completions per prompt; > 1 reports Pass@k (k = samples) and needs "
           "decode.temperature > 0 (or random remasking)")
      .add("traces", traces,
           "write the step map and confidence of every generation to out_dir/traces/<setup> "
           "(the trajectory store's HDF5 format)")
      .add("sort_by_length", sort_by_length,
           "batch prompts of similar length together (less padding; outputs stay in input order)")
      .add("skip_special", skip_special, "drop special tokens from the stored texts (the reference keeps them)")
      .add_enum("completion", completion, {{"full", Completion::Full}, {"until_eos", Completion::UntilEos}},
                "stored and scored text: full = all gen_length tokens detokenised, EOS padding and anything after "
                "it included (the reference's, which its parsers and effective-token count expect); until_eos = the "
                "tokens before the first EOS (as mdrl's in-training evaluation)")
      .add("item_noise", item_noise,
           "setups that draw noise (decode.temperature > 0, random remasking): decode every completion alone with its "
           "own generator keyed by (run.seed, setup, prompt, sample), so results do not depend on eval.batch_size or "
           "the number of ranks; false = one generator per batch (faster, but results change with both)");
  opts.add_validator([this] { validate(); });
}

int64_t EvalConfig::subsample_count() const {
  if (subsample == "default") return 0;
  if (subsample == "all") return -1;
  const int64_t n = parse_int(subsample, "eval.subsample (default, all or a positive count)");
  MDRL_CHECK(n >= 1, ConfigError, "eval.subsample = " + subsample + "; use default, all or a positive count");
  return n;
}

void EvalConfig::validate() const {
  MDRL_CHECK(!tasks.empty(), ConfigError, "eval.tasks is empty; give some of " + core::join(tasks::task_names(), ", "));
  for (const auto& t : tasks) (void)tasks::find_task(t, "eval.tasks");
  MDRL_CHECK(!strategies.empty(), ConfigError,
             "eval.strategies is empty; give some of " + core::join(strategy_names(), ", "));
  for (const auto& s : strategies)
    MDRL_CHECK(std::find(strategy_names().begin(), strategy_names().end(), s) != strategy_names().end(), ConfigError,
               "eval.strategies: unknown strategy '" + s + "'; valid: " + core::join(strategy_names(), ", "));
  (void)subsample_count();
  MDRL_CHECK(batch_size >= 1, ConfigError, "eval.batch_size = " + std::to_string(batch_size) + "; it must be >= 1");
  MDRL_CHECK(samples >= 1, ConfigError, "eval.samples = " + std::to_string(samples) + "; it must be >= 1");
  MDRL_CHECK(!out_dir.empty(), ConfigError, "eval.out_dir is empty; give the output folder");
}

decode::DecodeConfig strategy_decode(const std::string& strategy, const decode::DecodeConfig& base, int64_t gen_length,
                                     int64_t steps, int64_t block) {
  using decode::Remasking;
  using decode::Schedule;
  decode::DecodeConfig d = base;
  d.gen_length = gen_length;
  d.steps = steps;
  const auto set = [&](Schedule s, Remasking r, bool eoser) {
    d.schedule = s;
    d.remasking = r;
    d.eoser = eoser;
  };
  if (strategy == "eoser_ass") {
    set(Schedule::Ass, Remasking::LowConfidence, true);
  } else if (strategy == "ass") {
    set(Schedule::Ass, Remasking::LowConfidence, false);
  } else if (strategy == "eoser") {
    set(Schedule::SemiAr, Remasking::LowConfidence, true);
  } else if (strategy == "semi-ar_lcr") {
    set(Schedule::SemiAr, Remasking::LowConfidence, false);
  } else if (strategy == "semi-ar_rr") {
    set(Schedule::SemiAr, Remasking::Random, false);
  } else if (strategy == "diffusion_lcr") {
    set(Schedule::Diffusion, Remasking::LowConfidence, false);
  } else if (strategy == "diffusion_rr") {
    set(Schedule::Diffusion, Remasking::Random, false);
  } else if (strategy != "decode") {
    throw ConfigError("eval.strategies: unknown strategy '" + strategy +
                      "'; valid: " + core::join(strategy_names(), ", "));
  }
  if (d.schedule == Schedule::Ass)
    d.block_num = block;
  else if (d.schedule == Schedule::SemiAr)
    d.block_length = block;
  else
    d.block_length = gen_length;
  return d;
}

std::vector<EvalSetup> expand_setups(const EvalConfig& ec, const decode::DecodeConfig& base,
                                     const tasks::TasksConfig& tc) {
  ec.validate();
  for (const auto& t : ec.tasks) {
    if (ec.source == EvalConfig::Source::Generated) {
      MDRL_CHECK(t == "sudoku" || t == "countdown", ConfigError,
                 "eval.source = generated: task '" + t +
                     "' has no generator (only countdown and sudoku); use "
                     "eval.source = test with tasks." +
                     t + "_test");
    } else {
      const std::string& path = tc.path(t, false);
      MDRL_CHECK(!path.empty(), ConfigError,
                 "tasks." + t + "_test is empty; give the path of the " + t +
                     " test file (or eval.source = "
                     "generated for countdown and sudoku)");
      std::error_code err;
      MDRL_CHECK(std::filesystem::is_regular_file(path, err), ConfigError,
                 "tasks." + t + "_test = " + path + ": no such file; give the path of the " + t +
                     " test file (the reference's dataset/ folder holds them; or eval.source = generated for "
                     "countdown and sudoku)");
    }
  }
  const auto lengths = int_list(ec.gen_lengths, base.gen_length, "eval.gen_lengths");
  const auto block_lengths = int_list(ec.block_lengths, base.block_length, "eval.block_lengths");
  const auto block_nums = int_list(ec.block_nums, base.block_num, "eval.block_nums");
  std::vector<EvalSetup> out;
  std::set<std::string> seen;
  for (const auto& task : ec.tasks)
    for (const auto& strategy : ec.strategies) {
      const bool ass = is_ass(strategy, base);
      for (const int64_t L : lengths) {
        std::vector<int64_t> step_counts;
        if (ec.steps.empty()) {
          step_counts.push_back(ass && strategy != "decode" ? decode::floor_log2(L) : base.steps);
        } else {
          for (const auto& e : ec.steps) {
            const int64_t s = resolve_steps(e, L);
            if (ass && strategy != "decode" && s != decode::floor_log2(L)) continue;  // not an ASS count
            if (std::find(step_counts.begin(), step_counts.end(), s) == step_counts.end()) step_counts.push_back(s);
          }
          MDRL_CHECK(!step_counts.empty(), ConfigError,
                     "eval.steps = " + core::join(ec.steps, ",") + " has no entry valid for strategy " + strategy +
                         " at gen length " + std::to_string(L) + ": ASS needs steps = floor(log2 " + std::to_string(L) +
                         ") = " + std::to_string(decode::floor_log2(L)) + " (spec §1.5); add " +
                         std::to_string(decode::floor_log2(L)) + " or log2 to eval.steps");
        }
        const decode::DecodeConfig probe = strategy_decode(strategy, base, L, 1, 1);
        std::vector<int64_t> blocks = probe.schedule == decode::Schedule::Ass      ? block_nums
                                      : probe.schedule == decode::Schedule::SemiAr ? block_lengths
                                                                                   : std::vector<int64_t>{L};
        for (const int64_t S : step_counts)
          for (const int64_t b : blocks) {
            EvalSetup s;
            s.task = task;
            s.strategy = strategy;
            s.gen_length = L;
            s.steps = S;
            s.block = b;
            s.decode = strategy_decode(strategy, base, L, S, b);
            s.name =
                task + "_" + strategy + "_" + std::to_string(L) + "_" + std::to_string(S) + "_b" + std::to_string(b);
            try {
              s.decode.validate();
            } catch (const ConfigError& e) {
              throw ConfigError("eval setup " + s.name + " (eval.strategies = " + strategy + ", gen length " +
                                std::to_string(L) + ", steps " + std::to_string(S) + ", block " + std::to_string(b) +
                                "): " + e.what());
            }
            if (!seen.insert(s.name).second) continue;  // a sweep entry listed twice
            out.push_back(std::move(s));
          }
      }
    }
  if (ec.samples > 1)
    for (const auto& s : out)
      MDRL_CHECK(s.draws_noise(), ConfigError,
                 "eval.samples = " + std::to_string(ec.samples) + " draws several completions per prompt, but setup " +
                     s.name +
                     " decodes greedily with low-confidence remasking, which makes them identical; set "
                     "decode.temperature > 0 (or use random remasking, or eval.samples = 1)");
  return out;
}

}  // namespace mdrl::eval
