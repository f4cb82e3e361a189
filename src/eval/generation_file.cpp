// Readers of generation files for `mdrl score` (generation_file.hpp; spec algorithms.md §7.2).
#include "eval/generation_file.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "core/error.hpp"
#include "core/log.hpp"
#include "tasks/data_files.hpp"
#include "tasks/task.hpp"

namespace mdrl::eval {
namespace fs = std::filesystem;
namespace {

// `where` (file, or file:line) names the generation that would join the setup, for the message.
GenerationSet& set_for(std::vector<GenerationSet>& sets, const std::string& setup, const std::string& task,
                       const std::string& where) {
  for (auto& s : sets)
    if (s.setup == setup) {
      MDRL_CHECK(s.task == task, core::FormatError,
                 where + ": setup '" + setup + "' appears with two tasks ('" + s.task + "' and '" + task +
                     "'); give each task its own \"setup\"");
      return s;
    }
  sets.push_back({setup, task, {}, {}});
  return sets.back();
}

std::string field_string(const nlohmann::json& j, const char* key, const std::string& where) {
  const auto it = j.find(key);
  MDRL_CHECK(it != j.end() && it->is_string(), core::FormatError, where + ": missing string field \"" + key + "\"");
  return it->get<std::string>();
}

void read_reference_json(const fs::path& p, std::vector<GenerationSet>& sets) {
  std::ifstream in(p);
  MDRL_CHECK(in.good(), core::InputError, "cannot open generation file '" + p.string() + "'");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for a number like 1e400
    throw core::FormatError(p.string() + ": not valid JSON (" + e.what() + ")");
  }
  MDRL_CHECK(j.is_object() && j.contains("generations") && j["generations"].is_array(), core::FormatError,
             p.string() + ": expected the reference's {\"generations\": [...]} layout");
  const std::string setup = setup_of_filename(p.filename().string());
  if (setup.empty()) {  // the reference skips files without the _{rank}_generations.json suffix
    core::log::warn() << "skipping " << p.string() << ": not named <setup>_<rank>_generations.json";
    return;
  }
  GenerationSet& s = set_for(sets, setup, task_of_setup(setup, p.string()), p.string());
  s.files.push_back(p.string());
  size_t idx = 0;
  for (const auto& g : j["generations"]) {
    const std::string where = p.string() + ": generations[" + std::to_string(idx++) + "]";
    MDRL_CHECK(g.is_object(), core::FormatError, where + " is not an object");
    s.items.push_back({field_string(g, "question", where), field_string(g, "generations", where),
                       g.value("ground_truth", nlohmann::json()), where});
  }
}

void read_own_jsonl(const fs::path& p, std::vector<GenerationSet>& sets) {
  for (const auto& row : tasks::read_jsonl(p.string())) {
    const std::string where = p.string() + ":" + std::to_string(row.line);
    const std::string task = tasks::json_string(row, "task", p.string());
    const auto names = tasks::task_names();
    MDRL_CHECK(std::find(names.begin(), names.end(), task) != names.end(), core::FormatError,
               where + ": \"task\" = '" + task + "' is not a task; use one of gsm8k, math, countdown, sudoku");
    const std::string setup =
        row.value.contains("setup") ? tasks::json_string(row, "setup", p.string()) : p.stem().string();
    GenerationSet& s = set_for(sets, setup, task, where);
    if (s.files.empty() || s.files.back() != p.string()) s.files.push_back(p.string());
    s.items.push_back({field_string(row.value, "question", where), field_string(row.value, "generation", where),
                       row.value.value("ground_truth", nlohmann::json()), where});
  }
}

}  // namespace

std::string setup_of_filename(const std::string& filename) {
  static const std::regex pattern(R"((.+)_\d+_generations\.json)");
  std::smatch m;
  return std::regex_match(filename, m, pattern) ? m[1].str() : std::string();
}

std::string task_of_setup(const std::string& setup, const std::string& file) {
  for (const auto& [key, task] : std::vector<std::pair<std::string, std::string>>{
           {"gsm", "gsm8k"}, {"math", "math"}, {"countdown", "countdown"}, {"sudoku", "sudoku"}})
    if (setup.find(key) != std::string::npos) return task;
  throw core::FormatError(file + ": cannot tell the task from the setup name '" + setup +
                          "' (the reference routes by the substrings gsm, math, countdown, sudoku); rename the file");
}

std::vector<GenerationSet> read_generation_sets(const std::vector<std::string>& paths) {
  std::vector<GenerationSet> sets;
  for (const auto& arg : paths) {
    std::vector<fs::path> files;
    if (fs::is_directory(arg)) {
      for (const auto& e : fs::directory_iterator(arg)) {
        const std::string name = e.path().filename().string();
        if (name.ends_with("_generations.json") || name.ends_with(".jsonl")) files.push_back(e.path());
      }
      std::sort(files.begin(), files.end());
      MDRL_CHECK(!files.empty(), core::InputError,
                 "folder '" + arg + "' holds no *_generations.json or *.jsonl generation files");
    } else {
      MDRL_CHECK(fs::exists(arg), core::InputError, "generation file '" + arg + "' does not exist");
      files.emplace_back(arg);
    }
    for (const auto& f : files) {
      if (f.extension() == ".jsonl")
        read_own_jsonl(f, sets);
      else
        read_reference_json(f, sets);
    }
  }
  // The reference prints its setups sorted by name.
  std::stable_sort(sets.begin(), sets.end(), [](const auto& a, const auto& b) { return a.setup < b.setup; });
  return sets;
}

}  // namespace mdrl::eval
