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

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/rng.hpp"
#include "decode/decode_plan.hpp"
#include "decode/denoiser.hpp"
#include "decode/generate.hpp"
#include "dist/collectives_mpi.hpp"
#include "eval/eval_plan.hpp"
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
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using namespace detail;

namespace {

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

// `text` as it reads back from our JSON files: ill-formed UTF-8 replaced by U+FFFD, so the table
// computed here is the one `mdrl score` computes from the files.
std::string as_stored(const std::string& text) {
  return json::parse(dump(json(text))).get<std::string>();
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

struct SetupRun {
  bool finished = false;  // the setup's files and marker are written
  bool stop = false;      // a stop was requested (honoured after the chunk that saw it)
};

}  // namespace

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

  // Setups finished by an earlier run; settings that changed under one are refused here.
  const Finished finished = finished_setups(comm, ec, in.setups, fps);

  if (rank == 0) {
    fs::create_directories(out_dir / "done");
    fs::create_directories(out_dir / "partial");
    if (ec.reference_files) fs::create_directories(out_dir / "reference");
  }
  MPI_Barrier(comm);

  EvalOutcome outcome;
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
      outcome.rows.push_back(write_setup_files(in, s, fp, tp, SetupCompletions{texts, tokens, forwards, wall, chunk}, W,
                                               count_tokens));
      std::error_code err;
      fs::remove(partial_path, err);
      write_tables(in, outcome.rows, W, false);
    }
    MPI_Barrier(comm);
    res.finished = true;
    return res;
  };

  for (size_t i = 0; i < in.setups.size(); ++i) {
    const auto& s = in.setups[i];
    if (finished.done[i]) {
      core::log::info() << "setup " << s.name << ": finished in an earlier run, skipped";
      if (rank == 0) outcome.rows.push_back(finished.rows[i]);
      ++outcome.skipped;
      continue;
    }
    const SetupRun r = run_setup(s, fps[i]);
    if (r.finished) ++outcome.ran;
    if (r.stop) {
      if (r.finished && i + 1 == in.setups.size()) break;  // nothing was left anyway
      if (rank == 0) write_tables(in, outcome.rows, W, false);
      return outcome;
    }
  }
  if (rank == 0) write_tables(in, outcome.rows, W, true);
  outcome.finished = true;
  return outcome;
}

}  // namespace mdrl::eval
