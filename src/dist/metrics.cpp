#include "dist/metrics.hpp"

#include "core/check_mpi.hpp"

namespace mdrl::dist {

void MetricReducer::add(const std::string& name, double value, MetricKind kind) {
  entries_.push_back({name, value, kind});
}

std::vector<std::pair<std::string, double>> MetricReducer::reduce(MPI_Comm comm) {
  int size = 1;
  MDRL_CHECK_MPI(MPI_Comm_size(comm, &size));
  // Gather values per MPI operation (mean and sum both reduce with MPI_SUM).
  std::vector<double> sums, mins, maxs;
  for (const auto& e : entries_) {
    if (e.kind == MetricKind::Min) mins.push_back(e.value);
    else if (e.kind == MetricKind::Max) maxs.push_back(e.value);
    else sums.push_back(e.value);
  }
  auto reduce_in_place = [&](std::vector<double>& v, MPI_Op op) {
    if (!v.empty() && size > 1)
      MDRL_CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, v.data(), static_cast<int>(v.size()), MPI_DOUBLE, op, comm));
  };
  reduce_in_place(sums, MPI_SUM);
  reduce_in_place(mins, MPI_MIN);
  reduce_in_place(maxs, MPI_MAX);
  std::vector<std::pair<std::string, double>> out;
  size_t is = 0, imin = 0, imax = 0;
  for (const auto& e : entries_) {
    switch (e.kind) {
      case MetricKind::Mean: out.emplace_back(e.name, sums[is++] / size); break;
      case MetricKind::Sum: out.emplace_back(e.name, sums[is++]); break;
      case MetricKind::Min: out.emplace_back(e.name, mins[imin++]); break;
      case MetricKind::Max: out.emplace_back(e.name, maxs[imax++]); break;
    }
  }
  entries_.clear();
  return out;
}

}  // namespace mdrl::dist
