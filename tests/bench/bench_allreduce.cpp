// Benchmark (label bench, `mpirun -np 2`): all-reduce of a LoRA-sized gradient set through
// TensorCollectives, swept over bucket sizes, against one plain MPI_Allreduce of the same bytes in
// one contiguous buffer. The set: LoRA rank 16 on q, k, v, up of LLaDA-8B's 32 layers (256 tensors,
// 20,971,520 f32 values). Prints one JSON object on rank 0.
#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "dist/mpi_env.hpp"
#include "dist/tensor_collectives.hpp"

using namespace mdrl;

namespace {
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}
}  // namespace

int main(int argc, char** argv) {
  dist::MpiEnv env(&argc, &argv);
  const int reps = argc > 1 ? std::atoi(argv[1]) : 7;
  std::vector<torch::Tensor> grads;
  const int64_t d = 4096, mlp = 12288, r = 16;
  for (int layer = 0; layer < 32; ++layer) {
    for (int64_t out : {d, d, d, mlp}) {  // q, k, v, up
      grads.push_back(torch::randn({r, d}));
      grads.push_back(torch::randn({out, r}));
    }
  }
  int64_t values = 0;
  for (const auto& g : grads) values += g.numel();

  auto timed = [&](auto&& fn) {
    std::vector<double> t;
    fn();  // warm-up
    for (int i = 0; i < reps; ++i) {
      MPI_Barrier(env.world());
      const double t0 = MPI_Wtime();
      fn();
      t.push_back(MPI_Wtime() - t0);
    }
    double m = median(t);
    MPI_Allreduce(MPI_IN_PLACE, &m, 1, MPI_DOUBLE, MPI_MAX, env.world());  // the slowest rank counts
    return m;
  };

  std::vector<float> plain(static_cast<size_t>(values), 1.0f);
  const double t_plain = timed([&] {
    MPI_Allreduce(MPI_IN_PLACE, plain.data(), static_cast<int>(values), MPI_FLOAT, MPI_SUM, env.world());
  });

  std::string rows;
  for (double mb : {0.25, 1.0, 4.0, 25.0, 100.0, 1024.0}) {
    dist::TensorCollectives coll(env.world(), static_cast<int64_t>(mb * 1024 * 1024));
    const double t = timed([&] { coll.all_reduce(grads, dist::ReduceOp::Mean); });
    const size_t buckets = dist::TensorCollectives::plan_buckets(grads, coll.bucket_bytes()).size();
    char row[256];
    std::snprintf(row, sizeof row, "%s{\"bucket_mb\": %g, \"buckets\": %zu, \"ms\": %.2f, \"time_vs_plain\": %.3f}",
                  rows.empty() ? "" : ", ", mb, buckets, t * 1e3, t / t_plain);
    rows += row;
  }
  if (env.rank() == 0)
    std::printf("{\"bench\": \"allreduce_lora_grads\", \"world\": %d, \"tensors\": %zu, \"values\": %lld, "
                "\"bytes\": %lld, \"reps\": %d, \"torch_threads\": %d, \"plain_mpi_allreduce_ms\": %.2f, "
                "\"bucketed\": [%s]}\n",
                env.size(), grads.size(), static_cast<long long>(values), static_cast<long long>(values * 4), reps,
                at::get_num_threads(), t_plain * 1e3, rows.c_str());
  return 0;
}
