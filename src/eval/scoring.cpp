// Scoring of generation sets and reward breakdowns (scoring.hpp; spec algorithms.md §5, §7.2).
#include "eval/scoring.hpp"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "tasks/data_files.hpp"
#include "tasks/py_regex.hpp"
#include "tasks/py_text.hpp"

namespace mdrl::eval {
namespace {

std::vector<long long> int_list(const nlohmann::json& j, const std::string& where) {
  MDRL_CHECK(j.is_array(), core::FormatError, where + ": expected a list of integers");
  std::vector<long long> v;
  for (const auto& x : j) {
    MDRL_CHECK(x.is_number_integer(), core::FormatError, where + ": expected a list of integers");
    v.push_back(x.get<long long>());
  }
  return v;
}

}  // namespace

double SetupScore::avg_effective_tokens() const {
  if (task == "sudoku") return total > 0 ? tokens * 8 / total : 0.0;
  return count > 0 ? tokens / static_cast<double>(count) : 0.0;
}

tasks::Example example_from_ground_truth(const std::string& task, const Generation& g) {
  tasks::Example ex;
  const auto& gt = g.ground_truth;
  if (task == "gsm8k") {
    // The reference stores the parsed float; keep it in the "####" form our GSM8K parser reads.
    if (gt.is_number()) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.17g", gt.get<double>());
      ex.answer = std::string("#### ") + buf;
    } else if (gt.is_string()) {
      ex.answer = gt.get<std::string>();
      if (!tasks::py::contains(ex.answer, "####")) ex.answer = "#### " + ex.answer;
    }
  } else if (task == "math") {
    MDRL_CHECK(gt.is_string() || gt.is_null(), core::FormatError, g.origin + ": MATH ground_truth must be a string");
    if (gt.is_string()) ex.answer = gt.get<std::string>();
  } else if (task == "countdown") {
    if (gt.is_array() && gt.size() == 2) {
      MDRL_CHECK(gt[1].is_number_integer(), core::FormatError,
                 g.origin + ": Countdown ground_truth must be [[numbers...], target]");
      ex.numbers = int_list(gt[0], g.origin);
      ex.target = gt[1].get<long long>();
    } else {
      // As the reference: numbers and target from the question text ("Numbers: [..]\nTarget: t").
      static const tasks::PyRegex numbers_re(R"((?i)Numbers: \[([\d, ]+)\])"), target_re(R"((?i)Target: (\d+))");
      const auto nm = numbers_re.search(g.question);
      const auto tm = target_re.search(g.question);
      MDRL_CHECK(nm && tm, core::FormatError,
                 g.origin + ": Countdown ground_truth must be [[numbers...], target] (or the question must hold them)");
      // \d matches more than ASCII digits and the list may hold empty items ("[ ,35]"): each must be
      // an ASCII integer that fits, else the file is refused (found by fuzz_generation_file).
      const auto integer = [&](const std::string& text) {
        MDRL_CHECK(!text.empty() && text.size() <= 18 && text.find_first_not_of("0123456789") == std::string::npos,
                   core::FormatError,
                   g.origin + ": Countdown question holds '" + text + "' where a number of 'Numbers: [...]' or "
                              "'Target: ...' must be; give ground_truth as [[numbers...], target]");
        return std::stoll(text);
      };
      for (const auto& n : tasks::py::split(nm->group(1), ",")) ex.numbers.push_back(integer(tasks::py::strip(n)));
      ex.target = integer(std::string(tm->group(1)));
    }
  } else if (task == "sudoku") {
    MDRL_CHECK(gt.is_string(), core::FormatError, g.origin + ": Sudoku ground_truth must be the solution string");
    ex.solution = gt.get<std::string>();
  }
  ex.question = g.question;
  return ex;
}

SetupScore score_set(const GenerationSet& set, const TokenCounter& count_tokens) {
  SetupScore s;
  s.task = set.task;
  s.setup = set.setup;
  const auto& task = tasks::find_task(set.task, "the task of setup '" + set.setup + "'");
  for (const auto& g : set.items) {
    const tasks::Example ex = example_from_ground_truth(set.task, g);
    tasks::EvalScore r;
    if (set.task == "sudoku") {
      try {  // the reference reads the puzzle from the stored question text
        r = tasks::score_sudoku(g.generation, g.question, ex.solution);
      } catch (const core::FormatError& e) {
        throw core::FormatError(g.origin + ": " + e.what());
      }
    } else if (set.task == "gsm8k") {
      r = tasks::score_gsm8k(g.generation, g.ground_truth.is_number()
                                               ? std::optional<double>(g.ground_truth.get<double>())
                                               : tasks::gsm8k_ground_truth(ex.answer));
    } else {
      r = task.evaluate(g.generation, ex);
    }
    s.correct += r.correct;
    s.total += r.total;
    s.count += 1;
    s.tokens += static_cast<double>(count_tokens(tasks::py::replace(g.generation, "<|endoftext|>", "")));
  }
  return s;
}

std::string format_table(const std::vector<SetupScore>& scores) {
  size_t w = 5;
  for (const auto& s : scores) w = std::max(w, s.setup.size());
  std::string out;
  char buf[512];
  std::snprintf(buf, sizeof buf, "%-10s %-*s %9s %7s %14s\n", "task", static_cast<int>(w), "setup", "accuracy", "count",
                "avg_eff_tokens");
  out += buf;
  for (const auto& s : scores) {
    std::snprintf(buf, sizeof buf, "%-10s %-*s %8.2f%% %7lld %14.2f\n", s.task.c_str(), static_cast<int>(w),
                  s.setup.c_str(), s.accuracy(), static_cast<long long>(s.count), s.avg_effective_tokens());
    out += buf;
  }
  return out;
}

std::vector<std::string> reward_breakdown(const std::string& path, const tasks::TasksConfig& cfg) {
  std::vector<std::string> out;
  for (const auto& row : tasks::read_jsonl(path)) {
    const std::string task_name = tasks::json_string(row, "task", path);
    const auto& task = tasks::find_task(task_name, path + ":" + std::to_string(row.line) + ": task");
    const std::string completion = tasks::json_string(row, "completion", path);
    const std::string where = path + ":" + std::to_string(row.line);
    tasks::Example ex;
    const auto& v = row.value;
    if (v.contains("ground_truth")) {
      // The field of `mdrl score`'s JSONL, read the same way (a Sudoku or Countdown question text
      // may come as "question" or "puzzle").
      Generation g;
      g.ground_truth = v["ground_truth"];
      g.question = v.contains("question") ? tasks::json_string(row, "question", path)
                   : v.contains("puzzle") ? tasks::json_string(row, "puzzle", path)
                                          : "";
      g.origin = where;
      ex = example_from_ground_truth(task_name, g);
      if (task_name == "math") ex.solution = "\\boxed{" + ex.answer + "}";
    } else if (task_name == "gsm8k") {
      ex.answer = tasks::json_string(row, "answer", path);
      if (!tasks::py::contains(ex.answer, "####")) ex.answer = "#### " + ex.answer;
    } else if (task_name == "math") {
      ex.solution = v.contains("solution") ? tasks::json_string(row, "solution", path)
                                           : "\\boxed{" + tasks::json_string(row, "answer", path) + "}";
    } else if (task_name == "countdown") {
      MDRL_CHECK(v.contains("numbers") && v.contains("target") && v["target"].is_number_integer(), core::FormatError,
                 where + ": countdown rows need \"numbers\" and \"target\"");
      ex.numbers = int_list(v["numbers"], where);
      ex.target = v["target"].get<long long>();
    } else {
      ex.question = tasks::json_string(row, "puzzle", path);
      ex.solution = tasks::json_string(row, "solution", path);
    }
    nlohmann::json r;
    r["line"] = row.line;
    r["task"] = task_name;
    const auto comps = task.rewards(cfg);
    for (const auto& c : comps) r["rewards"][c.name] = c.fn(completion, ex);
    r["total"] = tasks::total_reward(comps, completion, ex);
    out.push_back(r.dump());
  }
  return out;
}

}  // namespace mdrl::eval
