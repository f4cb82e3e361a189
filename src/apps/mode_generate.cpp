// `mdrl generate` (issue 5): model + tokenizer + chat template, prompts from the command line or
// a file, decoded with decode::generate (spec algorithms.md §1) and printed in prompt order.
// Prompts are shared out rank-strided; rank 0 prints. With one rank and a terminal, the live view
// redraws the batch after every step, masked positions shown as a placeholder.
#include "apps/mode_generate.hpp"

#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "apps/mode_setup.hpp"
#include "config/options.hpp"
#include "config/run_config.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/rng.hpp"
#include "core/text.hpp"
#include "decode/decode_config.hpp"
#include "decode/generate.hpp"
#include "dist/collectives_mpi.hpp"
#include "dist/device.hpp"
#include "dist/dist_config.hpp"
#include "dist/mpi_env.hpp"
#include "eval/task_decode.hpp"
#include "io/io_config.hpp"
#include "model/model_config.hpp"
#include "tokenizer/chat_template.hpp"
#include "tokenizer/tokenizer.hpp"
#include "tokenizer/tokenizer_config.hpp"

namespace mdrl::apps {
namespace {

constexpr const char* kPlaceholder = "\u2591";  // light shade: a still-masked position

std::vector<std::string> read_prompts(const GenerateConfig& g, const std::vector<std::string>& positional) {
  std::vector<std::string> prompts;
  if (!positional.empty()) prompts.push_back(core::join(positional, " "));
  if (!g.prompt_file.empty()) {
    std::ifstream in(g.prompt_file);
    MDRL_CHECK(in.good(), core::InputError, "generate.prompt_file: cannot read '" + g.prompt_file + "'");
    std::string line;
    while (std::getline(in, line))
      if (!line.empty()) prompts.push_back(line);
  }
  MDRL_CHECK(!prompts.empty(), core::UsageError,
             "mdrl generate needs a prompt: give it as arguments or set generate.prompt_file (one prompt per line)");
  return prompts;
}

// One frame of the live view: each row's completion, placeholders where still masked.
void draw_live(const tokenizer::Tokenizer& tok, const torch::Tensor& x, int64_t P, int64_t mask_id, int64_t step,
               int64_t steps) {
  const auto c = x.narrow(1, P, x.size(1) - P).to(torch::kCPU).contiguous();
  std::string frame = "\x1b[H\x1b[J";  // cursor home, clear screen
  frame += "step " + std::to_string(step + 1) + "/" + std::to_string(steps) + "\n";
  for (int64_t b = 0; b < c.size(0); ++b) {
    frame += "[" + std::to_string(b) + "] ";
    for (int64_t j = 0; j < c.size(1); ++j) {
      const int64_t id = c[b][j].item<int64_t>();
      frame += id == mask_id ? std::string(kPlaceholder)
                             : tok.decode(std::vector<tokenizer::TokenId>{static_cast<tokenizer::TokenId>(id)}, true);
    }
    frame += "\n";
  }
  std::cout << frame << std::flush;
}

}  // namespace

void GenerateConfig::add_options(config::Options& opts) {
  opts.section("generate", "generate mode")
      .add("prompt_file", prompt_file, "file with one prompt per line (used besides the prompt given as arguments)")
      .add_enum("form", form, {{"raw", Form::Raw}, {"chat", Form::Chat}, {"eval", Form::Eval}},
                "prompt as is (raw), as one user message through the chat template (chat), or as an evaluation "
                "prompt: the template plus <reasoning> (eval)")
      .add("batch_size", batch_size, "prompts decoded together per rank (left-padded to the longest)")
      .add("live", live, "show the unmasking step by step when stdout is a terminal and there is one rank")
      .add("skip_special", skip_special, "drop special tokens from the printed completions")
      .add("show_plan", show_plan, "print the decode plan (windows, counts, gamma per step) before decoding")
      .add("traces", traces,
           "write every generation's step map and confidences to this folder (the trajectory store's HDF5 "
           "format, one step; group_id = the prompt's index, reward 0) for tools/mdrl-analyze order/eos; "
           "empty = none");
  opts.add_validator([this] { validate(); });
}

void GenerateConfig::validate() const {
  MDRL_CHECK(batch_size >= 1, core::ConfigError,
             "generate.batch_size = " + std::to_string(batch_size) + "; it must be at least 1");
}

int run_generate(const dist::MpiEnv& env, const std::vector<std::string>& args) {
  config::RunConfig run;
  config::LogConfig log;
  dist::DistConfig dcfg;
  tokenizer::TokenizerConfig tcfg;
  model::ModelConfig mc;
  model::LoraConfig lc;
  lc.settings.rank = 0;
  decode::DecodeConfig dc;
  GenerateConfig gc;
  config::Options opts("generate");
  run.add_options(opts);
  log.add_options(opts);
  dcfg.add_options(opts);
  tcfg.add_options(opts);
  mc.add_options(opts);
  lc.add_options(opts);
  dc.add_options(opts);
  gc.add_options(opts);
  opts.allow_positional("prompt", /*many=*/true);
  const auto cl = setup_mode(env, opts, args,
                             "usage: mdrl generate [options] [PROMPT...]\n\n"
                             "Decodes PROMPT (the arguments joined by spaces) and/or the lines of generate.prompt_file\n"
                             "with the [model] and [decode] settings and prints the completions.",
                             log, /*table_at_debug=*/true);
  const dist::Placement place = dist::place_rank(env, dcfg);
  const auto prompts = read_prompts(gc, cl.positional);
  const auto tok = tcfg.load();
  const auto device = torch::Device(place.device);
  decode::LladaDenoiser den(model::build_model(mc, lc, device, static_cast<uint64_t>(run.seed)));
  den.model()->eval();
  MDRL_CHECK(tok.vocab_size() <= den.vocab_size(), core::ConfigError,
             "tokenizer.path (" + tok.summary() + ") has more tokens than the model's vocabulary (" +
                 std::to_string(den.vocab_size()) + "); use the tokenizer the model was trained with");
  const auto plan = decode::make_plan(dc);
  if (gc.show_plan && env.rank() == 0) std::cout << plan.describe() << std::flush;
  const auto tmpl = gc.form == GenerateConfig::Form::Raw ? tokenizer::ChatTemplate{}
                                                         : tokenizer::ChatTemplate::for_tokenizer(tok);
  const auto form = gc.form == GenerateConfig::Form::Chat ? tokenizer::PromptForm::Chat : tokenizer::PromptForm::ChatReasoning;
  const bool live = gc.live && env.size() == 1 && isatty(STDOUT_FILENO) == 1;

  core::RngStream sampling(static_cast<uint64_t>(run.seed), env.rank(), core::RngPurpose::Sampling);
  at::Generator gen = decode::sampling_generator(sampling, device);
  std::vector<std::vector<int64_t>> ids;
  for (const auto& p : prompts) {
    const auto enc = tok.encode(gc.form == GenerateConfig::Form::Raw ? p : tmpl.render_user(p, form));
    ids.emplace_back(enc.begin(), enc.end());
  }
  eval::DecodeJob job{dc, plan, gc.batch_size, gc.skip_special, {}};
  if (live) job.observer = [&](const decode::PlanStep& s, const torch::Tensor& x) {
    draw_live(tok, x, x.size(1) - dc.gen_length, den.mask_id(), s.index, plan.num_steps());
  };
  std::vector<std::pair<decode::PromptBatch, decode::DecodeResult>> parts;
  std::vector<int64_t> rows;
  eval::BatchSink sink;
  if (!gc.traces.empty())
    sink = [&](const std::vector<size_t>& idx, const decode::PromptBatch& p, const decode::DecodeResult& r) {
      parts.emplace_back(p, r);
      for (const size_t i : idx) rows.push_back(static_cast<int64_t>(i));
    };
  const auto mine = eval::decode_share(env.rank(), env.size(), den, tok, ids, job, gen, nullptr, sink);
  if (!gc.traces.empty()) {  // collective: every rank writes its rows of the one step
    io::TrajectoryConfig tcfg_traces;
    tcfg_traces.flush_every = 1;
    io::TrajectoryWriter writer(env.world(), gc.traces, io::TrajectoryMeta{opts.resolved_ini(), {"none"}, den.mask_id()},
                                tcfg_traces);
    writer.append(eval::trace_batch(0, parts, rows, std::vector<double>(rows.size(), 0.0), den.pad_id(),
                                    nlohmann::json{{"mode", "generate"},
                                                   {"schedule", decode::schedule_name(dc.schedule)},
                                                   {"gen_length", dc.gen_length},
                                                   {"steps", dc.steps},
                                                   {"block_length", dc.block_length},
                                                   {"block_num", dc.block_num},
                                                   {"temperature", dc.temperature},
                                                   {"eoser", dc.eoser}}
                                        .dump()));
    writer.close();
    if (env.rank() == 0) core::log::info() << "decode traces of " << prompts.size() << " prompt(s) in " << gc.traces;
  }
  const auto texts = eval::gather_texts(env.world(), mine, prompts.size());
  if (env.rank() != 0) return 0;
  for (size_t i = 0; i < texts.size(); ++i) std::cout << "=== " << i << ": " << prompts[i] << "\n" << texts[i] << "\n";
  std::cout << std::flush;
  return 0;
}

}  // namespace mdrl::apps
