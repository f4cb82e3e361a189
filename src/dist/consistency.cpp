#include "dist/consistency.hpp"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>  // at::NoGradGuard (not only through the PCH)

#include <algorithm>
#include <climits>
#include <sstream>

#include "core/check_mpi.hpp"
#include "core/error.hpp"
#include "dist/collectives_mpi.hpp"

namespace mdrl::dist {

uint64_t tensor_checksum(const at::Tensor& t) {
  at::NoGradGuard no_grad;
  at::Tensor bytes = t.contiguous().view(-1);
  // Reinterpret the raw bytes as int32 words where the size allows (fewer, wider terms), else uint8.
  const int64_t nbytes = bytes.numel() * static_cast<int64_t>(bytes.element_size());
  at::Tensor words = (nbytes % 4 == 0 && nbytes > 0) ? bytes.view(at::kByte).view(at::kInt) : bytes.view(at::kByte);
  if (words.numel() == 0) return 0x9E3779B97F4A7C15ull;
  // Position-dependent odd weights make permutations and swaps visible; sums wrap modulo 2^64.
  // Chunks bound the temporary memory (an 8B model's weights are billions of words).
  constexpr int64_t kChunk = int64_t{1} << 22;
  uint64_t s1 = 0, s2 = 0;
  for (int64_t start = 0; start < words.numel(); start += kChunk) {
    const int64_t len = std::min(kChunk, words.numel() - start);
    at::Tensor w = words.narrow(0, start, len).to(at::kLong);
    at::Tensor pos = at::arange(start, start + len, w.options());
    at::Tensor weights = (pos * 0x9E3779B1LL + 0x7F4A7C15LL).bitwise_or(1);
    s1 += static_cast<uint64_t>((w * weights).sum().item<int64_t>());
    s2 += static_cast<uint64_t>(w.sum().item<int64_t>());
  }
  uint64_t h = s1 ^ (s2 * 0xBF58476D1CE4E5B9ull);
  h ^= static_cast<uint64_t>(nbytes) * 0x94D049BB133111EBull;
  return h;
}

void broadcast_parameters(TensorCollectives& coll, const NamedTensors& params, int root) {
  std::vector<at::Tensor> ts;
  ts.reserve(params.size());
  for (const auto& [name, t] : params) ts.push_back(t);
  coll.broadcast(ts, root);
}

void verify_parameters_identical(MPI_Comm comm, const NamedTensors& params) {
  int rank = 0, size = 1;
  MDRL_CHECK_MPI(MPI_Comm_rank(comm, &rank));
  MDRL_CHECK_MPI(MPI_Comm_size(comm, &size));
  std::vector<uint64_t> mine(params.size() + 1), root(params.size() + 1);
  mine[0] = params.size();
  for (size_t i = 0; i < params.size(); ++i) mine[i + 1] = tensor_checksum(params[i].second);
  root = mine;
  MDRL_CHECK_MPI(MPI_Bcast(root.data(), static_cast<int>(root.size()), MPI_UINT64_T, 0, comm));
  // Index of the first parameter differing from rank 0 (0 = the count itself), or -1.
  int first = -1;
  for (size_t i = 0; i < mine.size(); ++i) {
    if (mine[i] != root[i]) {
      first = static_cast<int>(i);
      break;
    }
  }
  const int any = allreduce_max(comm, first >= 0 ? 1 : 0);
  if (!any) return;
  const int idx = allreduce_min(comm, first >= 0 ? first : INT32_MAX);
  std::vector<std::string> bad = allgather_strings(comm, first == idx ? std::to_string(rank) : std::string());
  std::string ranks;
  for (const auto& r : bad)
    if (!r.empty()) ranks += (ranks.empty() ? "" : ",") + r;
  std::string what = idx == 0 ? std::string("the number of parameters")
                              : "parameter '" + params[static_cast<size_t>(idx - 1)].first + "'";
  throw core::MismatchError(what + " differs between rank 0 and rank(s) " + ranks +
                            "; every rank must start from the same weights (same checkpoint files and seed), or "
                            "broadcast them from rank 0");
}

void verify_same_text(MPI_Comm comm, const std::string& text, const std::string& what) {
  const auto all = allgather_strings(comm, text);
  size_t other = 0;
  for (size_t r = 1; r < all.size() && other == 0; ++r)
    if (all[r] != all[0]) other = r;
  if (other == 0) return;
  std::istringstream a(all[0]), b(all[other]);
  std::string la, lb;
  int line = 0;
  while (true) {
    ++line;
    const bool ga = static_cast<bool>(std::getline(a, la));
    const bool gb = static_cast<bool>(std::getline(b, lb));
    if (!ga) la = "<end>";
    if (!gb) lb = "<end>";
    if (la != lb || (!ga && !gb)) break;
  }
  throw core::MismatchError(what + " differs between rank 0 and rank " + std::to_string(other) + " at line " +
                            std::to_string(line) + ": '" + la + "' vs '" + lb +
                            "'; all ranks must read the same files and arguments");
}

}  // namespace mdrl::dist
