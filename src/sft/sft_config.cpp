// [sft] options (sft_config.hpp).
#include "sft/sft_config.hpp"

#include <filesystem>

#include "config/options.hpp"
#include "core/error.hpp"

namespace mdrl::sft {

void SftConfig::add_options(config::Options& opts) {
  opts.section("sft", "masked-diffusion supervised fine-tuning (spec algorithms.md §3)")
      .add("data", data, "JSONL training file (one object per line); empty = the examples of sft.task")
      .add_enum("format", format, {{"pairs", DataFormat::Pairs}, {"s1k", DataFormat::S1k}},
                "JSONL layout: pairs (prompt_field / response_field strings) or s1k (simplescaling/s1K rows: "
                "question, thinking_trajectories, attempt, with the reference's SFT system prompt)")
      .add("prompt_field", prompt_field, "JSONL field holding the user message (format = pairs)")
      .add("response_field", response_field, "JSONL field holding the assistant response (format = pairs)")
      .add("task", task, "when sft.data is empty: the task whose training examples are used (sudoku and countdown "
                         "are generated when [tasks] has no train file) and whose metric scores the held-out decodes "
                         "(sft.eval_decode); ignored with sft.data")
      .add_enum("prompt_style", prompt_style, {{"task", PromptStyle::Task}, {"bare", PromptStyle::Bare}},
                "task examples: the task's training prompt with its system prompt (task) or only the question, "
                "e.g. 'Solve the following Sudoku puzzle: ...' (bare, for tiny models)")
      .add_enum("response_style", response_style,
                {{"reasoning", ResponseStyle::Reasoning}, {"answer", ResponseStyle::Answer}},
                "task examples: the generator's step-by-step <reasoning> + <answer> target, or only the <answer> part")
      .add("max_length", max_length, "tokens per training sequence, prompt + response + EOS padding (reference 4096)")
      .add("max_prompt_length", max_prompt_length,
           "examples whose prompt has more tokens are skipped and counted; 0 = max_length - 1")
      .add_enum("padding", padding, {{"max_length", Padding::MaxLength}, {"longest", Padding::Longest}},
                "pad every sequence with EOS to max_length (reference; the loss denominator counts the padding) "
                "or only to the longest sequence of the micro-batch (faster, changes the normalisation)")
      .add_enum("too_long", too_long, {{"truncate", TooLong::Truncate}, {"skip", TooLong::Skip}},
                "examples longer than max_length: cut the response (reference) or skip the example; both are counted")
      .add("template_quirks", template_quirks,
           "reproduce reference quirk Q20: tokenise prompt + response jointly, take the prompt length from the "
           "prompt text + \"\\n\", and train the spurious assistant header the template appends after the response")
      .add("eps", eps, "noise floor: t' = (1 - eps) t + eps")
      .add_enum("loss_norm", loss_norm,
                {{"reference", LossNorm::Reference}, {"masked_tokens", LossNorm::MaskedTokens}},
                "divide sum(CE / t') by the micro-batch's non-prompt positions B*N - prompt tokens (reference) or by "
                "its masked tokens")
      .add("eval_fraction", eval_fraction, "share of the shuffled data held out for evaluation (reference 1%)")
      .add("eval_decode", eval_decode,
           "held-out examples decoded with [decode] and scored with sft.task's metric at each evaluation; 0 = none")
      .add_enum("final_weights", final_weights, {{"last", FinalWeights::Last}, {"best", FinalWeights::Best}},
                "what <run.dir>/final holds: the weights of the kept checkpoint with the lowest eval_loss (best: the "
                "reference's load_best_model_at_end; evaluate at checkpoint steps) or of the last step (last)");
  opts.add_validator([this] { validate(); });
}

void SftConfig::validate() const {
  MDRL_CHECK(max_length >= 2, core::ConfigError,
             "sft.max_length = " + std::to_string(max_length) + "; it must be at least 2");
  MDRL_CHECK(max_prompt_length >= 0 && max_prompt_length < max_length, core::ConfigError,
             "sft.max_prompt_length = " + std::to_string(max_prompt_length) + "; use 0 (= max_length - 1) up to " +
                 std::to_string(max_length - 1));
  MDRL_CHECK(eps > 0 && eps < 1, core::ConfigError, "sft.eps = " + std::to_string(eps) + "; use (0, 1)");
  MDRL_CHECK(eval_fraction >= 0 && eval_fraction < 1, core::ConfigError,
             "sft.eval_fraction = " + std::to_string(eval_fraction) + "; use [0, 1)");
  MDRL_CHECK(eval_decode >= 0, core::ConfigError, "sft.eval_decode = " + std::to_string(eval_decode) + " is negative");
  std::error_code ec;
  MDRL_CHECK(data.empty() || std::filesystem::is_regular_file(data, ec), core::ConfigError,
             "sft.data = '" + data + "' is not a file; give a JSONL file of prompt/response rows, or leave it empty "
             "to train on sft.task's examples");
  MDRL_CHECK(!(data.empty() && task.empty()), core::ConfigError,
             "sft.data and sft.task are both empty; give a JSONL file or a task name");
  MDRL_CHECK(format != DataFormat::Pairs || (!prompt_field.empty() && !response_field.empty()), core::ConfigError,
             "sft.prompt_field and sft.response_field must name JSONL fields");
}

}  // namespace mdrl::sft
