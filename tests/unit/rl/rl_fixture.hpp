// The golden values of tests/data/rl/grpo_objective.json (tools/gen_rl_fixtures.py) as tensors.
#pragma once

#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace mdrl::test {

inline const nlohmann::json& rl_fixture() {
  static const nlohmann::json doc = [] {
    const char* src = std::getenv("MDRL_SOURCE_DIR");
    const auto path = std::filesystem::path(src != nullptr ? src : ".") / "tests" / "data" / "rl" / "grpo_objective.json";
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open " + path.string() + " (run tools/gen_rl_fixtures.py)");
    return nlohmann::json::parse(in);
  }();
  return doc;
}

// A JSON list (of lists) of numbers as an f64 tensor.
inline torch::Tensor json_tensor(const nlohmann::json& j) {
  if (!j.is_array()) return torch::tensor(j.get<double>(), torch::kDouble);
  if (!j.empty() && j[0].is_array()) {
    std::vector<torch::Tensor> rows;
    for (const auto& row : j) rows.push_back(json_tensor(row));
    return torch::stack(rows);
  }
  return torch::tensor(j.get<std::vector<double>>(), torch::kDouble);
}

// 0 for empty tensors.
inline double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.numel() == 0 && b.numel() == 0) return 0.0;
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

}  // namespace mdrl::test
