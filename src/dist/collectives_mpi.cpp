#include "dist/collectives_mpi.hpp"

#include <numeric>

#include "core/check_mpi.hpp"

namespace mdrl::dist {
namespace {
std::vector<std::string> split_by_counts(const std::vector<char>& buf, const std::vector<int>& counts) {
  std::vector<std::string> out;
  size_t pos = 0;
  for (int c : counts) {
    out.emplace_back(buf.data() + pos, static_cast<size_t>(c));
    pos += static_cast<size_t>(c);
  }
  return out;
}

std::vector<int> displacements(const std::vector<int>& counts) {
  std::vector<int> d(counts.size(), 0);
  for (size_t i = 1; i < counts.size(); ++i) d[i] = d[i - 1] + counts[i - 1];
  return d;
}
}  // namespace

std::vector<std::string> gather_strings(MPI_Comm comm, const std::string& text, int root) {
  int rank = 0, size = 1;
  MDRL_CHECK_MPI(MPI_Comm_rank(comm, &rank));
  MDRL_CHECK_MPI(MPI_Comm_size(comm, &size));
  const int len = static_cast<int>(text.size());
  std::vector<int> counts(rank == root ? size : 0);
  MDRL_CHECK_MPI(MPI_Gather(&len, 1, MPI_INT, counts.data(), 1, MPI_INT, root, comm));
  std::vector<int> displs = displacements(counts);
  std::vector<char> buf(rank == root ? static_cast<size_t>(std::accumulate(counts.begin(), counts.end(), 0)) : 0);
  MDRL_CHECK_MPI(MPI_Gatherv(text.data(), len, MPI_CHAR, buf.data(), counts.data(), displs.data(), MPI_CHAR, root, comm));
  if (rank != root) return {};
  return split_by_counts(buf, counts);
}

std::vector<std::string> allgather_strings(MPI_Comm comm, const std::string& text) {
  int size = 1;
  MDRL_CHECK_MPI(MPI_Comm_size(comm, &size));
  const int len = static_cast<int>(text.size());
  std::vector<int> counts(static_cast<size_t>(size));
  MDRL_CHECK_MPI(MPI_Allgather(&len, 1, MPI_INT, counts.data(), 1, MPI_INT, comm));
  std::vector<int> displs = displacements(counts);
  std::vector<char> buf(static_cast<size_t>(std::accumulate(counts.begin(), counts.end(), 0)));
  MDRL_CHECK_MPI(MPI_Allgatherv(text.data(), len, MPI_CHAR, buf.data(), counts.data(), displs.data(), MPI_CHAR, comm));
  return split_by_counts(buf, counts);
}

int allreduce_min(MPI_Comm comm, int value) {
  int out = 0;
  MDRL_CHECK_MPI(MPI_Allreduce(&value, &out, 1, MPI_INT, MPI_MIN, comm));
  return out;
}

int allreduce_max(MPI_Comm comm, int value) {
  int out = 0;
  MDRL_CHECK_MPI(MPI_Allreduce(&value, &out, 1, MPI_INT, MPI_MAX, comm));
  return out;
}

}  // namespace mdrl::dist
