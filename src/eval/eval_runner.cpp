// The evaluation runner (eval_runner.hpp; spec algorithms.md §7.1 outputs, §7.2 scoring, Q15 batch
// and rank invariance with the attention mask, Q19 parsers as the reference's).
#include "eval/eval_runner.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/rng.hpp"
#include "core/text.hpp"
#include "decode/decode_plan.hpp"
#include "decode/denoiser.hpp"
#include "decode/generate.hpp"
#include "dist/collectives_mpi.hpp"
#include "eval/generation_file.hpp"
#include "eval/scoring.hpp"
#include "eval/task_decode.hpp"
#include "io/checkpoint.hpp"
#include "io/file_util.hpp"
#include "io/trajectory_store.hpp"
#include "tasks/task.hpp"
#include "tokenizer/chat_template.hpp"
#include "tokenizer/tokenizer.hpp"

namespace mdrl::eval {
namespace fs = std::filesystem;
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string dump(const json& j, int indent = -1) {
  return j.dump(indent, ' ', false, json::error_handler_t::replace);
}

// `text` as it reads back from our JSON files: ill-formed UTF-8 replaced by U+FFFD, so the table
// computed here is the one `mdrl score` computes from the files.
std::string as_stored(const std::string& text) {
  return json::parse(dump(json(text))).get<std::string>();
}

int comm_rank(MPI_Comm c) {
  int r = 0;
  MPI_Comm_rank(c, &r);
  return r;
}
int comm_size(MPI_Comm c) {
  int w = 1;
  MPI_Comm_size(c, &w);
  return w;
}

std::string hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// The ground truth as the reference stores it (spec §7.1): GSM8K the parsed number (null when
// none), MATH the answer string, Countdown [[numbers], target], Sudoku the solution string.
json ground_truth(const std::string& task, const tasks::Example& ex) {
  if (task == "gsm8k") {
    const auto v = tasks::gsm8k_ground_truth(ex.answer);
    return v ? json(*v) : json();
  }
  if (task == "math") return ex.answer;
  if (task == "countdown") return json::array({ex.numbers, ex.target});
  return ex.solution;
}

// A task's prompts, shared by its setups.
struct TaskPrompts {
  std::vector<std::vector<int64_t>> ids;
  std::vector<std::string> text;
  std::vector<json> truth;
  std::string hash;  // XXH64 over prompt ids and ground truths: the examples' identity
};

TaskPrompts make_prompts(const EvalConfig& ec, const tasks::Task& task, const std::vector<tasks::Example>& examples,
                         const tokenizer::Tokenizer& tok, const tokenizer::ChatTemplate& tmpl) {
  TaskPrompts p;
  uint64_t h = 0;
  for (const auto& ex : examples) {
    p.text.push_back(ec.prompt_style == EvalConfig::PromptStyle::Task
                         ? task.eval_prompt(ex, tmpl)
                         : tmpl.render_user(task.eval_question(ex), tokenizer::PromptForm::Chat));
    const auto ids = tok.encode(p.text.back());
    p.ids.emplace_back(ids.begin(), ids.end());
    p.truth.push_back(ground_truth(task.name(), ex));
    h = io::xxh64(p.ids.back().data(), p.ids.back().size() * sizeof(int64_t), h);
    const std::string gt = dump(p.truth.back()) + "\n" + task.eval_question(ex);
    h = io::xxh64(gt.data(), gt.size(), h);
  }
  p.hash = hex(h);
  return p;
}

// Whether a setup's completions depend only on their prompts (not on batches, ranks, chunks).
bool layout_free(const EvalConfig& ec, const EvalSetup& s) {
  return s.decode.attention_mask && (!s.draws_noise() || ec.item_noise);
}

// The settings that make a setup's results what they are: not batch size, ranks or sorting, unless
// the results depend on them (no attention mask, or noise shared by a batch).
json fingerprint(const EvalInputs& in, const EvalSetup& s, const TaskPrompts& p, int world) {
  const auto& d = s.decode;
  json fp{{"setup", s.name},
          {"task", s.task},
          {"model", in.model_identity},
          {"examples", p.ids.size()},
          {"examples_xxh64", p.hash},
          {"samples", in.eval.samples},
          {"skip_special", in.eval.skip_special},
          {"completion", in.eval.completion == EvalConfig::Completion::Full ? "full" : "until_eos"},
          {"seed", in.seed},
          {"decode",
           {{"schedule", decode::schedule_name(d.schedule)},
            {"gen_length", d.gen_length},
            {"steps", d.steps},
            {"remasking", d.remasking == decode::Remasking::Random ? "random" : "low_confidence"},
            {"temperature", d.temperature},
            {"cfg_scale", d.cfg_scale},
            {"eoser", d.eoser},
            {"eos_ids", d.eos_ids},
            {"sample_mask_token", d.sample_mask_token},
            {"attention_mask", d.attention_mask},
            {"confidence_precision", d.confidence_precision == decode::Precision::F64 ? "f64" : "f32"}}}};
  // Only what the schedule uses, so a setting that cannot change a setup does not refuse it.
  if (d.schedule == decode::Schedule::Ass)
    fp["decode"]["block_num"] = d.block_num;
  else
    fp["decode"]["block_length"] = d.block_length;
  if (d.eoser) {
    fp["decode"]["gamma_min"] = d.gamma_min;
    fp["decode"]["gamma_max"] = d.gamma_max;
    fp["decode"]["gamma_schedule"] = d.resolved_gamma_schedule() == decode::GammaSchedule::Power ? "power" : "linear";
    if (d.resolved_gamma_schedule() == decode::GammaSchedule::Linear)
      fp["decode"]["gamma_index"] = d.gamma_index == decode::GammaIndex::Global ? "global" : "within_block";
  }
  if (s.draws_noise()) {
    fp["item_noise"] = in.eval.item_noise;
    fp["decode"]["noise_precision"] = d.noise_precision == decode::Precision::F64 ? "f64" : "f32";
  }
  if (!layout_free(in.eval, s))
    fp["layout"] = {
        {"batch_size", in.eval.batch_size}, {"world_size", world}, {"sort_by_length", in.eval.sort_by_length}};
  return fp;
}

// One completion as rank 0 collects it.
struct Done {
  size_t item = 0;
  int64_t tokens = 0;    // completion tokens before EOS
  int64_t forwards = 0;  // model calls of the batch it was decoded in
  std::string text;
};

// Every rank's completions of a chunk on rank 0 ("item tokens forwards length\n" + text each).
std::vector<Done> gather_done(MPI_Comm comm, const std::vector<Done>& mine) {
  std::string records;
  for (const auto& d : mine)
    records += std::to_string(d.item) + " " + std::to_string(d.tokens) + " " + std::to_string(d.forwards) + " " +
               std::to_string(d.text.size()) + "\n" + d.text;
  std::vector<Done> out;
  for (const auto& rec : dist::gather_strings(comm, records, 0)) {
    size_t at = 0;
    while (at < rec.size()) {
      const size_t nl = rec.find('\n', at);
      MDRL_ASSERT(nl != std::string::npos);
      Done d;
      size_t length = 0;
      long long tokens = 0, forwards = 0;
      MDRL_ASSERT(std::sscanf(rec.c_str() + at, "%zu %lld %lld %zu", &d.item, &tokens, &forwards, &length) == 4);
      d.tokens = tokens;
      d.forwards = forwards;
      d.text = rec.substr(nl + 1, length);
      at = nl + 1 + length;
      out.push_back(std::move(d));
    }
  }
  return out;
}


// The completions of an unfinished setup: partial/<setup>.jsonl, a header line with the
// fingerprint, then one line per chunk {"begin", "end", "wall_s", "items": [[item, tokens,
// forwards, text], ...]}. Lines are appended and flushed as chunks finish; a line cut short by a
// kill does not parse and ends what is taken.
struct Partial {
  size_t done = 0;    // positions [0, done) of the decode order are in `lines`
  double wall_s = 0;  // time the earlier attempts spent on them
  std::vector<std::string> lines;
};

Partial read_partial(const fs::path& path, const json& fp, const std::vector<size_t>& order) {
  Partial p;
  std::ifstream in(path, std::ios::binary);
  std::string line;
  if (!std::getline(in, line)) return p;
  try {
    if (json::parse(line).value("fingerprint", json()) != fp) {
      core::log::warn() << path.string() << " was made with other settings; its setup starts again";
      return p;
    }
  } catch (const std::exception&) {
    return p;
  }
  p.lines.push_back(line);
  while (std::getline(in, line) && !in.eof()) {  // the last line counts only with its newline
    try {
      const json j = json::parse(line);
      const size_t begin = j.at("begin"), end = j.at("end");
      const auto& items = j.at("items");
      if (begin != p.done || end <= begin || end > order.size() || items.size() != end - begin) break;
      bool ok = true;
      for (size_t i = 0; i < items.size() && ok; ++i) ok = items[i].at(0).get<size_t>() == order[begin + i];
      if (!ok) break;
      p.done = end;
      p.wall_s = j.at("wall_s");
      p.lines.push_back(line);
    } catch (const std::exception&) {
      break;
    }
  }
  return p;
}

struct SetupRun {
  bool finished = false;  // the setup's files and marker are written
  bool stop = false;      // a stop was requested (honoured after the chunk that saw it)
};

}  // namespace

TaskExamples load_eval_examples(const EvalConfig& ec, const tasks::TasksConfig& tc, uint64_t seed) {
  TaskExamples out;
  const int64_t n = ec.subsample_count();
  for (const auto& name : ec.tasks) {
    if (out.count(name) != 0) continue;
    const auto& task = tasks::find_task(name, "eval.tasks");
    std::vector<tasks::Example> ex;
    if (ec.source == EvalConfig::Source::Test) {
      ex = tasks::eval_examples(task, tc, n);
    } else {
      // Generated puzzles even when a training file is configured (they avoid the test file's rows).
      tasks::TasksConfig gen = tc;
      gen.countdown_train.clear();
      gen.sudoku_train.clear();
      ex = tasks::training_examples(task, gen, seed);
      if (n > 0) {
        MDRL_CHECK(n <= static_cast<int64_t>(ex.size()), core::ConfigError,
                   "eval.subsample = " + std::to_string(n) +
                       " but tasks.generated_count = " + std::to_string(ex.size()) +
                       " puzzles are generated; lower eval.subsample or raise "
                       "tasks.generated_count");
        ex.resize(static_cast<size_t>(n));
      }
    }
    MDRL_CHECK(!ex.empty(), core::ConfigError, "eval.tasks: task " + name + " has no examples to evaluate");
    out.emplace(name, std::move(ex));
  }
  return out;
}

json EvalRow::to_json() const {
  json j{{"task", task},
         {"setup", setup},
         {"strategy", strategy},
         {"gen_length", gen_length},
         {"steps", steps},
         {"block", block},
         {"accuracy", accuracy},
         {"count", count},
         {"prompts", prompts},
         {"avg_effective_tokens", avg_effective_tokens},
         {"forwards_per_sample", forwards_per_sample},
         {"tokens_per_forward", tokens_per_forward},
         {"wall_s", wall_s},
         {"samples_per_s", samples_per_s},
         {"samples", samples}};
  j["pass_at_k"] = pass_at_k >= 0 ? json(pass_at_k) : json();
  return j;
}

EvalRow EvalRow::from_json(const json& j) {
  EvalRow r;
  r.task = j.at("task");
  r.setup = j.at("setup");
  r.strategy = j.at("strategy");
  r.gen_length = j.at("gen_length");
  r.steps = j.at("steps");
  r.block = j.at("block");
  r.accuracy = j.at("accuracy");
  r.count = j.at("count");
  r.prompts = j.at("prompts");
  r.avg_effective_tokens = j.at("avg_effective_tokens");
  r.forwards_per_sample = j.at("forwards_per_sample");
  r.tokens_per_forward = j.at("tokens_per_forward");
  r.wall_s = j.at("wall_s");
  r.samples_per_s = j.at("samples_per_s");
  r.samples = j.at("samples");
  r.pass_at_k = j.at("pass_at_k").is_null() ? -1.0 : j.at("pass_at_k").get<double>();
  return r;
}

std::string format_results_markdown(const std::vector<EvalRow>& rows) {
  bool pass = false;
  for (const auto& r : rows) pass = pass || r.pass_at_k >= 0;
  std::string out =
      "| task | setup | accuracy (%) | count | avg eff. tokens | forwards/sample | tokens/forward | wall (s) | "
      "samples/s |";
  out += pass ? " pass@k (%) |\n" : "\n";
  out += "|---|---|---:|---:|---:|---:|---:|---:|---:|";
  out += pass ? "---:|\n" : "\n";
  for (const auto& r : rows) {
    out += "| " + r.task + " | " + r.setup + " | " + fixed(r.accuracy, 2) + " | " + std::to_string(r.count) + " | " +
           fixed(r.avg_effective_tokens, 2) + " | " + fixed(r.forwards_per_sample, 2) + " | " +
           fixed(r.tokens_per_forward, 2) + " | " + fixed(r.wall_s, 2) + " | " + fixed(r.samples_per_s, 2) + " |";
    if (pass) out += r.pass_at_k >= 0 ? " " + fixed(r.pass_at_k, 2) + " (k=" + std::to_string(r.samples) + ") |" : " |";
    out += "\n";
  }
  return out;
}

EvalOutcome run_eval(MPI_Comm comm, const EvalInputs& in) {
  const int rank = comm_rank(comm), W = comm_size(comm);
  const EvalConfig& ec = in.eval;
  const fs::path out_dir(ec.out_dir);
  const auto tmpl = tokenizer::ChatTemplate::for_tokenizer(in.tokenizer);
  const TokenCounter count_tokens = [&](std::string_view text) { return in.tokenizer.encode(text).size(); };
  const auto device = in.denoiser.device();
  const auto k = static_cast<size_t>(ec.samples);

  // Prompts of every task and the fingerprint of every setup (every rank).
  std::map<std::string, TaskPrompts> prompts;
  for (const auto& [name, examples] : in.examples)
    prompts.emplace(name, make_prompts(ec, tasks::find_task(name, "eval.tasks"), examples, in.tokenizer, tmpl));
  std::vector<json> fps;
  for (const auto& s : in.setups) fps.push_back(fingerprint(in, s, prompts.at(s.task), W));

  // Finished setups: rank 0 reads the markers, every rank takes the decision; settings that
  // changed under a finished setup are refused before anything is decoded.
  std::vector<int> code(in.setups.size(), 0);  // 0 = to do, 1 = finished, 2 = finished with other settings
  std::vector<EvalRow> done_rows(in.setups.size());
  if (rank == 0) {
    for (size_t i = 0; i < in.setups.size(); ++i) {
      const fs::path marker = out_dir / "done" / (in.setups[i].name + ".json");
      if (!fs::exists(marker)) continue;
      try {
        std::ifstream f(marker);
        const json m = json::parse(f);
        if (m.value("fingerprint", json()) == fps[i]) {
          done_rows[i] = EvalRow::from_json(m.at("row"));
          code[i] = 1;
        } else {
          code[i] = 2;
        }
      } catch (const std::exception& e) {
        core::log::warn() << marker.string() << " is unreadable (" << e.what() << "); setup " << in.setups[i].name
                          << " is redone";
      }
    }
  }
  MPI_Bcast(code.data(), static_cast<int>(code.size()), MPI_INT, 0, comm);
  std::vector<std::string> conflicts;
  for (size_t i = 0; i < in.setups.size(); ++i)
    if (code[i] == 2) conflicts.push_back(in.setups[i].name);
  if (!conflicts.empty())
    throw core::ConfigError("eval.out_dir = " + ec.out_dir +
                            " holds finished setups made with other settings (model, "
                            "examples or decoding): " +
                            core::join(conflicts, ", ") + " (their settings are in " + (out_dir / "done").string() +
                            "/<setup>.json); use another eval.out_dir, or delete those "
                            "markers to redo them");

  if (rank == 0) {
    fs::create_directories(out_dir / "done");
    fs::create_directories(out_dir / "partial");
    if (ec.reference_files) fs::create_directories(out_dir / "reference");
  }
  MPI_Barrier(comm);

  EvalOutcome outcome;
  // complete: every setup of this run's list is in the table (false while some are left to do).
  auto write_tables = [&](bool complete) {
    if (rank != 0) return;
    json rows = json::array();
    for (const auto& r : outcome.rows) rows.push_back(r.to_json());
    io::write_text_atomically(
        (out_dir / "results.json").string(),
        dump(json{{"complete", complete}, {"setups", in.setups.size()}, {"provenance", in.provenance}, {"rows", rows}},
             2) +
            "\n");
    io::write_text_atomically((out_dir / "results.md").string(),
                              "# mdrl eval results\n\n" + format_results_markdown(outcome.rows) + "\nProvenance: git " +
                                  in.provenance.value("git_commit", std::string("?")) + ", world size " +
                                  std::to_string(W) + ", device " + in.provenance.value("device", std::string("?")) +
                                  ", dtype " + in.provenance.value("dtype", std::string("?")) + ", model " +
                                  in.model_identity + "; the resolved configuration is in results.json.\n");
  };

  const json prov_small{{"git_commit", in.provenance.value("git_commit", std::string())},
                        {"model", in.model_identity},
                        {"world_size", W},
                        {"device", in.provenance.value("device", std::string())},
                        {"dtype", in.provenance.value("dtype", std::string())}};

  // Decodes what is left of one setup and, when it is complete, writes its files (rank 0).
  auto run_setup = [&](const EvalSetup& s, const json& fp) -> SetupRun {
    SetupRun res;
    const auto& task = tasks::find_task(s.task, "eval.tasks");
    const auto& examples = in.examples.at(s.task);
    const TaskPrompts& tp = prompts.at(s.task);
    const size_t n = tp.ids.size(), items = n * k;
    const bool free_layout = layout_free(ec, s), per_item = s.draws_noise() && ec.item_noise;

    // The decode order: item = prompt * k + sample, optionally by prompt length (stable).
    std::vector<size_t> order(items);
    std::iota(order.begin(), order.end(), size_t{0});
    if (ec.sort_by_length)
      std::stable_sort(order.begin(), order.end(),
                       [&](size_t a, size_t b) { return tp.ids[a / k].size() < tp.ids[b / k].size(); });

    // What an earlier, interrupted attempt finished (rank 0 reads; everyone learns where to go on).
    const fs::path partial_path = out_dir / "partial" / (s.name + ".jsonl");
    const fs::path trace_dir = out_dir / "traces" / s.name;
    std::vector<std::string> texts(items);
    std::vector<int64_t> tokens(items, 0), forwards(items, 0);
    double wall_before = 0;
    int64_t done = 0;
    if (rank == 0) {
      Partial p;
      if (free_layout && fs::exists(partial_path)) p = read_partial(partial_path, fp, order);
      for (size_t li = 1; li < p.lines.size(); ++li) {
        const json line = json::parse(p.lines[li]);
        for (const auto& it : line.at("items")) {
          const size_t item = it.at(0);
          tokens[item] = it.at(1);
          forwards[item] = it.at(2);
          texts[item] = it.at(3);
        }
      }
      done = static_cast<int64_t>(p.done);
      wall_before = p.wall_s;
      // Rewritten without a cut-off tail (or fresh: the header alone), then appended to.
      std::string keep = p.lines.empty() ? dump(json{{"fingerprint", fp}}) + "\n" : std::string();
      for (const auto& l : p.lines) keep += l + "\n";
      io::write_text_atomically(partial_path.string(), keep);
      if (done == 0 && fs::exists(trace_dir)) fs::remove_all(trace_dir);
      if (done > 0)
        core::log::info() << "setup " << s.name << ": continuing after " << done << " of " << items
                          << " completions of an earlier run";
    }
    done = io::bcast_int(comm, done);
    MPI_Barrier(comm);

    const auto plan = decode::make_plan(s.decode);
    const DecodeJob job{s.decode, plan, ec.batch_size, ec.skip_special, {}};
    const DecodeJob single{s.decode, plan, 1, ec.skip_special, {}};
    const uint64_t setup_seed = in.seed ^ (io::xxh64(s.name.data(), s.name.size()) & 0x7fffffffffffffffULL);
    std::unique_ptr<io::TrajectoryWriter> traces;
    if (ec.traces) {
      io::TrajectoryConfig tcfg;
      tcfg.flush_every = 1;
      io::TrajectoryMeta meta{in.provenance.value("config", std::string()), {"score"}, in.denoiser.mask_id()};
      traces = std::make_unique<io::TrajectoryWriter>(comm, trace_dir.string(), meta, tcfg);
    }
    const std::string decoding_json = dump(fp["decode"]);
    std::ofstream partial_out;
    if (rank == 0) partial_out.open(partial_path, std::ios::binary | std::ios::app);

    const auto t0 = Clock::now();
    const size_t chunk = static_cast<size_t>(ec.batch_size) * static_cast<size_t>(W);
    for (size_t begin = static_cast<size_t>(done); begin < items;) {
      const size_t end = std::min(items, begin + chunk);
      std::vector<Done> mine;
      std::vector<std::pair<decode::PromptBatch, decode::DecodeResult>> parts;
      std::vector<int64_t> part_items;
      // Collects what a decode_share call returned for the items `items_of` (its input list order).
      auto run_share = [&](int r, int w, const std::vector<size_t>& items_of, const DecodeJob& j, at::Generator& gen) {
        std::vector<std::vector<int64_t>> list;
        for (size_t item : items_of) list.push_back(tp.ids[item / k]);
        std::map<size_t, int64_t> batch_forwards;  // list index -> forwards of its batch
        std::map<size_t, std::string> full_text;   // list index -> all L tokens detokenised (completion = full)
        const BatchSink sink = [&](const std::vector<size_t>& idx, const decode::PromptBatch& p,
                                   const decode::DecodeResult& dr) {
          for (size_t i : idx) batch_forwards[i] = dr.forwards;
          if (ec.completion == EvalConfig::Completion::Full) {
            const auto rows = dr.completion.to(torch::kCPU, torch::kLong).contiguous();
            const auto a = rows.accessor<int64_t, 2>();
            for (size_t row = 0; row < idx.size(); ++row) {
              std::vector<tokenizer::TokenId> ids(static_cast<size_t>(rows.size(1)));
              for (int64_t t = 0; t < rows.size(1); ++t)
                ids[static_cast<size_t>(t)] = static_cast<tokenizer::TokenId>(a[static_cast<int64_t>(row)][t]);
              full_text[idx[row]] = in.tokenizer.decode(ids, ec.skip_special);
            }
          }
          if (traces) {
            parts.emplace_back(p, dr);
            for (size_t i : idx) part_items.push_back(static_cast<int64_t>(items_of[i]));
          }
        };
        for (auto& c : decode_share(r, w, in.denoiser, in.tokenizer, list, j, gen, nullptr, sink))
          mine.push_back(Done{
              items_of[c.index], static_cast<int64_t>(c.ids.size()), batch_forwards.at(c.index),
              ec.completion == EvalConfig::Completion::Full ? std::move(full_text.at(c.index)) : std::move(c.text)});
      };
      if (per_item) {
        // Each completion alone, with the generator of (seed, setup, item).
        for (size_t j = begin + static_cast<size_t>(rank); j < end; j += static_cast<size_t>(W)) {
          core::RngStream stream(setup_seed, 0, core::RngPurpose::Sampling, static_cast<uint64_t>(order[j]));
          at::Generator gen = decode::sampling_generator(stream, device);
          run_share(0, 1, {order[j]}, single, gen);
        }
      } else {
        // Noise (if any) of (seed, setup, chunk, rank): tied to this batching.
        core::RngStream stream(setup_seed, rank, core::RngPurpose::Sampling, static_cast<uint64_t>(begin));
        at::Generator gen = decode::sampling_generator(stream, device);
        run_share(rank, W,
                  std::vector<size_t>(order.begin() + static_cast<long>(begin), order.begin() + static_cast<long>(end)),
                  job, gen);
      }
      if (traces) {
        std::map<size_t, double> score;
        for (const auto& d : mine) {
          const auto sc = task.evaluate(d.text, examples[d.item / k]);
          score[d.item] = sc.total > 0 ? sc.correct / sc.total : 0.0;
        }
        std::vector<double> rewards;
        std::vector<int64_t> group;
        for (int64_t item : part_items) {
          rewards.push_back(score.at(static_cast<size_t>(item)));
          group.push_back(item / static_cast<int64_t>(k));
        }
        traces->append(
            trace_batch(static_cast<int64_t>(begin), parts, group, rewards, in.denoiser.pad_id(), decoding_json));
        traces->flush();  // a finished segment per chunk: what the partial file lists has its traces
      }
      auto got = gather_done(comm, mine);
      if (rank == 0) {
        std::sort(got.begin(), got.end(), [](const Done& a, const Done& b) { return a.item < b.item; });
        std::map<size_t, const Done*> by_item;
        for (auto& d : got) {
          d.text = as_stored(d.text);
          texts[d.item] = d.text;
          tokens[d.item] = d.tokens;
          forwards[d.item] = d.forwards;
          by_item[d.item] = &d;
        }
        MDRL_ASSERT(by_item.size() == end - begin);
        json line_items = json::array();
        for (size_t j = begin; j < end; ++j) {
          const Done& d = *by_item.at(order[j]);
          line_items.push_back(json::array({d.item, d.tokens, d.forwards, d.text}));
        }
        const double wall = wall_before + std::chrono::duration<double>(Clock::now() - t0).count();
        partial_out << dump(json{{"begin", begin}, {"end", end}, {"wall_s", wall}, {"items", line_items}}) << "\n"
                    << std::flush;
        MDRL_CHECK(partial_out.good(), core::IoError, "cannot write " + partial_path.string());
      }
      core::log::debug() << "setup " << s.name << ": " << end << " of " << items << " completions";
      begin = end;
      if (!res.stop && in.stop_requested && in.stop_requested()) res.stop = true;
      if (res.stop && end < items) {
        if (traces) traces->close();
        core::log::info() << "setup " << s.name << ": stopped after " << end << " of " << items
                          << " completions; a rerun continues it";
        return res;
      }
    }
    if (traces) traces->close();
    if (rank == 0) partial_out.close();
    const double wall = wall_before + std::chrono::duration<double>(Clock::now() - t0).count();

    if (rank == 0) {
      GenerationSet set;
      set.task = s.task;
      set.setup = s.name;
      std::string jsonl;
      std::vector<json> per_rank(static_cast<size_t>(W), json::array());
      double tok_sum = 0, fwd_sum = 0;
      for (size_t item = 0; item < items; ++item) {
        const size_t i = item / k;
        const auto& ex = examples[i];
        Generation g{task.eval_question(ex), texts[item], tp.truth[i], s.name + ":" + std::to_string(item)};
        json row{{"task", s.task},
                 {"setup", s.name},
                 {"index", i},
                 {"sample", item % k},
                 {"question", g.question},
                 {"prompt", tp.text[i]},
                 {"generation", g.generation},
                 {"ground_truth", g.ground_truth},
                 {"provenance", prov_small}};
        jsonl += dump(row) + "\n";
        // The reference's rank striding (CustomDistributedSampler): item r, r + W, ... on rank r.
        per_rank[item % static_cast<size_t>(W)].push_back(json{{"question", g.question},
                                                               {"prompt_input", tp.text[i]},
                                                               {"generations", g.generation},
                                                               {"ground_truth", g.ground_truth}});
        tok_sum += static_cast<double>(tokens[item]);
        fwd_sum += static_cast<double>(forwards[item]);
        set.items.push_back(std::move(g));
      }
      const SetupScore score = score_set(set, count_tokens);
      EvalRow row;
      row.task = s.task;
      row.setup = s.name;
      row.strategy = s.strategy;
      row.gen_length = s.gen_length;
      row.steps = s.steps;
      row.block = s.block;
      row.accuracy = score.accuracy();
      row.count = score.count;
      row.prompts = static_cast<int64_t>(n);
      row.avg_effective_tokens = score.avg_effective_tokens();
      row.forwards_per_sample = items > 0 ? fwd_sum / static_cast<double>(items) : 0;
      row.tokens_per_forward =
          row.forwards_per_sample > 0 ? tok_sum / static_cast<double>(items) / row.forwards_per_sample : 0;
      row.wall_s = wall;
      row.samples_per_s = wall > 0 ? static_cast<double>(items) / wall : 0;
      row.samples = static_cast<int64_t>(k);
      if (k > 1) {
        // Pass@k: a prompt counts when one of its k completions is fully correct.
        int64_t solved = 0;
        for (size_t i = 0; i < n; ++i) {
          bool any = false;
          for (size_t j = 0; j < k && !any; ++j) {
            const GenerationSet one{s.name, s.task, {}, {set.items[i * k + j]}};
            const auto sc = score_set(one, count_tokens);
            any = sc.total > 0 && sc.correct == sc.total;
          }
          solved += any ? 1 : 0;
        }
        row.pass_at_k = n > 0 ? 100.0 * static_cast<double>(solved) / static_cast<double>(n) : 0;
      }
      // Files first, the marker last: a setup without its marker is not finished, whatever files exist.
      io::write_text_atomically((out_dir / (s.name + ".jsonl")).string(), jsonl);
      if (ec.reference_files) {
        // The reference's wall_time: mean seconds per batch (one batch per rank and chunk).
        const size_t chunks = std::max<size_t>(1, (items + chunk - 1) / chunk);
        // Files of other world sizes from an earlier attempt would join the setup when scored.
        for (const auto& e : fs::directory_iterator(out_dir / "reference")) {
          const std::string fname = e.path().filename().string();
          const std::string prefix = s.name + "_";
          if (setup_of_filename(fname) == s.name && fname.size() > prefix.size()) {
            const int r = std::atoi(fname.c_str() + prefix.size());
            if (r >= W) fs::remove(e.path());
          }
        }
        for (int r = 0; r < W; ++r) {
          const json ref{{"generations", per_rank[static_cast<size_t>(r)]},
                         {"metrics",
                          {{"wall_time", row.wall_s / static_cast<double>(chunks)},
                           {"total_processed", per_rank[static_cast<size_t>(r)].size()}}},
                         {"model_path", in.provenance.value("model_path", std::string())},
                         {"checkpoint_path", in.provenance.value("adapter", std::string())},
                         {"gen_length", s.gen_length},
                         {"diffusion_steps", s.steps},
                         {"block_length", s.block},
                         {"provenance", prov_small}};
          io::write_text_atomically(
              (out_dir / "reference" / (s.name + "_" + std::to_string(r) + "_generations.json")).string(),
              dump(ref, 2) + "\n");
        }
      }
      io::write_text_atomically(
          (out_dir / "done" / (s.name + ".json")).string(),
          dump(json{{"row", row.to_json()}, {"fingerprint", fp}, {"provenance", in.provenance}}, 2) + "\n");
      std::error_code err;
      fs::remove(partial_path, err);
      core::log::info() << "setup " << s.name << ": accuracy " << fixed(row.accuracy, 2) << "% over " << row.count
                        << (s.task == "sudoku" ? " completions (cells)" : " completions") << ", "
                        << fixed(row.forwards_per_sample, 1) << " forwards per sample, " << fixed(row.wall_s, 1)
                        << " s, " << fixed(row.samples_per_s, 1) << " samples/s"
                        << (k > 1 ? ", pass@" + std::to_string(k) + " " + fixed(row.pass_at_k, 2) + "%" : "");
      outcome.rows.push_back(row);
      write_tables(false);
    }
    MPI_Barrier(comm);
    res.finished = true;
    return res;
  };

  for (size_t i = 0; i < in.setups.size(); ++i) {
    const auto& s = in.setups[i];
    if (code[i] == 1) {
      core::log::info() << "setup " << s.name << ": finished in an earlier run, skipped";
      if (rank == 0) outcome.rows.push_back(done_rows[i]);
      ++outcome.skipped;
      continue;
    }
    const SetupRun r = run_setup(s, fps[i]);
    if (r.finished) ++outcome.ran;
    if (r.stop) {
      if (r.finished && i + 1 == in.setups.size()) break;  // nothing was left anyway
      write_tables(false);
      return outcome;
    }
  }
  write_tables(true);
  outcome.finished = true;
  return outcome;
}

}  // namespace mdrl::eval
