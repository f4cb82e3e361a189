// Planning of `mdrl eval`'s setups (eval_plan.hpp): examples, prompts, settings fingerprints,
// finished markers and partial files of earlier runs.
#include "eval/eval_plan.hpp"

#include <cstdio>
#include <fstream>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/text.hpp"
#include "decode/decode_plan.hpp"
#include "io/checkpoint.hpp"
#include "tasks/task.hpp"
#include "tokenizer/chat_template.hpp"
#include "tokenizer/tokenizer.hpp"

namespace mdrl::eval {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

std::string hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
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

namespace detail {

std::string dump(const json& j, int indent) { return j.dump(indent, ' ', false, json::error_handler_t::replace); }

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

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

bool layout_free(const EvalConfig& ec, const EvalSetup& s) {
  return s.decode.attention_mask && (!s.draws_noise() || ec.item_noise);
}

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
    if (d.noise_precision == decode::Precision::F64 && d.temperature != 0.0)
      fp["decode"]["f64_sampler"] = d.f64_sampler == decode::F64Sampler::Gumbel ? "gumbel" : "inverse_cdf";
  }
  if (!layout_free(in.eval, s))
    fp["layout"] = {
        {"batch_size", in.eval.batch_size}, {"world_size", world}, {"sort_by_length", in.eval.sort_by_length}};
  return fp;
}

Finished finished_setups(MPI_Comm comm, const EvalConfig& ec, const std::vector<EvalSetup>& setups,
                         const std::vector<json>& fps) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  const fs::path out_dir(ec.out_dir);
  std::vector<int> code(setups.size(), 0);  // 0 = to do, 1 = finished, 2 = finished with other settings
  Finished f;
  f.rows.resize(setups.size());
  if (rank == 0) {
    for (size_t i = 0; i < setups.size(); ++i) {
      const fs::path marker = out_dir / "done" / (setups[i].name + ".json");
      if (!fs::exists(marker)) continue;
      try {
        std::ifstream in(marker);
        const json m = json::parse(in);
        if (m.value("fingerprint", json()) == fps[i]) {
          f.rows[i] = EvalRow::from_json(m.at("row"));
          code[i] = 1;
        } else {
          code[i] = 2;
        }
      } catch (const std::exception& e) {
        core::log::warn() << marker.string() << " is unreadable (" << e.what() << "); setup " << setups[i].name
                          << " is redone";
      }
    }
  }
  MPI_Bcast(code.data(), static_cast<int>(code.size()), MPI_INT, 0, comm);
  std::vector<std::string> conflicts;
  for (size_t i = 0; i < setups.size(); ++i) {
    f.done.push_back(code[i] == 1);
    if (code[i] == 2) conflicts.push_back(setups[i].name);
  }
  if (!conflicts.empty())
    throw core::ConfigError("eval.out_dir = " + ec.out_dir +
                            " holds finished setups made with other settings (model, "
                            "examples or decoding): " +
                            core::join(conflicts, ", ") + " (their settings are in " + (out_dir / "done").string() +
                            "/<setup>.json); use another eval.out_dir, or delete those "
                            "markers to redo them");
  return f;
}

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

}  // namespace detail
}  // namespace mdrl::eval
