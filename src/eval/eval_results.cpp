// A finished setup's files and row, and the results tables of `mdrl eval` (eval_plan.hpp).
#include "eval/eval_plan.hpp"

#include <cstdlib>

#include "core/log.hpp"
#include "eval/generation_file.hpp"
#include "io/file_util.hpp"
#include "tasks/task.hpp"

namespace mdrl::eval {
namespace fs = std::filesystem;
using json = nlohmann::json;
using detail::dump;
using detail::fixed;

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

namespace detail {

EvalRow write_setup_files(const EvalInputs& in, const EvalSetup& s, const json& fp, const TaskPrompts& tp,
                          const SetupCompletions& c, int world, const TokenCounter& count_tokens) {
  const auto& task = tasks::find_task(s.task, "eval.tasks");
  const auto& examples = in.examples.at(s.task);
  const auto k = static_cast<size_t>(in.eval.samples);
  const size_t n = tp.ids.size(), items = n * k;
  const fs::path out_dir(in.eval.out_dir);
  const json prov_small{{"git_commit", in.provenance.value("git_commit", std::string())},
                        {"model", in.model_identity},
                        {"world_size", world},
                        {"device", in.provenance.value("device", std::string())},
                        {"dtype", in.provenance.value("dtype", std::string())}};
  GenerationSet set;
  set.task = s.task;
  set.setup = s.name;
  std::string jsonl;
  std::vector<json> per_rank(static_cast<size_t>(world), json::array());
  double tok_sum = 0, fwd_sum = 0;
  for (size_t item = 0; item < items; ++item) {
    const size_t i = item / k;
    const auto& ex = examples[i];
    Generation g{task.eval_question(ex), c.texts[item], tp.truth[i], s.name + ":" + std::to_string(item)};
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
    per_rank[item % static_cast<size_t>(world)].push_back(json{{"question", g.question},
                                                           {"prompt_input", tp.text[i]},
                                                           {"generations", g.generation},
                                                           {"ground_truth", g.ground_truth}});
    tok_sum += static_cast<double>(c.tokens[item]);
    fwd_sum += static_cast<double>(c.forwards[item]);
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
  row.wall_s = c.wall_s;
  row.samples_per_s = c.wall_s > 0 ? static_cast<double>(items) / c.wall_s : 0;
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
  if (in.eval.reference_files) {
    // The reference's wall_time: mean seconds per batch (one batch per rank and chunk).
    const size_t chunks = std::max<size_t>(1, (items + c.chunk - 1) / c.chunk);
    // Files of other world sizes from an earlier attempt would join the setup when scored.
    for (const auto& e : fs::directory_iterator(out_dir / "reference")) {
      const std::string fname = e.path().filename().string();
      const std::string prefix = s.name + "_";
      if (setup_of_filename(fname) == s.name && fname.size() > prefix.size()) {
        const int r = std::atoi(fname.c_str() + prefix.size());
        if (r >= world) fs::remove(e.path());
      }
    }
    for (int r = 0; r < world; ++r) {
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
  core::log::info() << "setup " << s.name << ": accuracy " << fixed(row.accuracy, 2) << "% over " << row.count
                    << (s.task == "sudoku" ? " completions (cells)" : " completions") << ", "
                    << fixed(row.forwards_per_sample, 1) << " forwards per sample, " << fixed(row.wall_s, 1)
                    << " s, " << fixed(row.samples_per_s, 1) << " samples/s"
                    << (k > 1 ? ", pass@" + std::to_string(k) + " " + fixed(row.pass_at_k, 2) + "%" : "");
  return row;
}

void write_tables(const EvalInputs& in, const std::vector<EvalRow>& rows, int world, bool complete) {
  const fs::path out_dir(in.eval.out_dir);
  json table = json::array();
  for (const auto& r : rows) table.push_back(r.to_json());
  io::write_text_atomically(
      (out_dir / "results.json").string(),
      dump(json{{"complete", complete}, {"setups", in.setups.size()}, {"provenance", in.provenance}, {"rows", table}},
           2) +
          "\n");
  io::write_text_atomically((out_dir / "results.md").string(),
                            "# mdrl eval results\n\n" + format_results_markdown(rows) + "\nProvenance: git " +
                                in.provenance.value("git_commit", std::string("?")) + ", world size " +
                                std::to_string(world) + ", device " + in.provenance.value("device", std::string("?")) +
                                ", dtype " + in.provenance.value("dtype", std::string("?")) + ", model " +
                                in.model_identity + "; the resolved configuration is in results.json.\n");
}

}  // namespace detail
}  // namespace mdrl::eval
