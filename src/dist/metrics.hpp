// Scalar metrics reduced over ranks for the step log line and metrics.jsonl: each value is added
// with how it combines (mean, sum, min, max); reduce() is one small collective per kind used.
#pragma once

#include <mpi.h>

#include <string>
#include <utility>
#include <vector>

namespace mdrl::dist {

enum class MetricKind { Mean, Sum, Min, Max };

class MetricReducer {
 public:
  void add(const std::string& name, double value, MetricKind kind = MetricKind::Mean);
  // Every rank must have added the same names with the same kinds, in the same order. Returns
  // (name, reduced value) in that order on every rank and clears the reducer.
  std::vector<std::pair<std::string, double>> reduce(MPI_Comm comm);

 private:
  struct Entry {
    std::string name;
    double value;
    MetricKind kind;
  };
  std::vector<Entry> entries_;
};

}  // namespace mdrl::dist
