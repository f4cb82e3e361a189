// Shared by the tokenizer tests: fixture paths and JSONL reading.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace mdrl::test {

inline std::filesystem::path tokenizer_data(const std::string& name) {
  return std::filesystem::path(env_or_throw("MDRL_SOURCE_DIR")) / "tests" / "data" / "tokenizer" / name;
}

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + p.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::vector<nlohmann::json> read_jsonl(const std::filesystem::path& p) {
  std::vector<nlohmann::json> rows;
  std::ifstream in(p);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) rows.push_back(nlohmann::json::parse(line));
  if (rows.empty()) throw std::runtime_error("no rows in " + p.string());
  return rows;
}

}  // namespace mdrl::test
