// Under `mpirun -np 2`: a tiny model trained for a few AdamW steps on 2 ranks with batch b per rank
// (rank-strided sampler, gradients averaged by GradientSync) ends with the same weights as one rank
// training on batch 2b with the same data in the same order. Tolerance: 1e-5 absolute on weights of
// order 0.1-1 (the two differ only by float32 rounding of the batch-mean order).
#include <torch/torch.h>

#include <boost/test/unit_test.hpp>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "dist/consistency.hpp"
#include "dist/grad_sync.hpp"
#include "dist/mpi_env.hpp"
#include "dist/sampler.hpp"
#include "dist/tensor_collectives.hpp"

using namespace mdrl;

namespace {
torch::nn::Sequential make_model(int64_t seed) {
  torch::manual_seed(seed);
  return torch::nn::Sequential(torch::nn::Linear(8, 16), torch::nn::Tanh(), torch::nn::Linear(16, 2));
}

dist::NamedTensors named(torch::nn::Sequential& m) {
  dist::NamedTensors out;
  for (const auto& p : m->named_parameters()) out.emplace_back(p.key(), p.value());
  return out;
}

// Trains `model` for `steps` steps; gradients averaged over `comm` when it has several ranks.
void train(torch::nn::Sequential& model, MPI_Comm comm, int64_t batch, int steps, const torch::Tensor& x,
           const torch::Tensor& y) {
  int rank = 0, world = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &world);
  dist::TensorCollectives coll(comm, 256);  // small buckets: several per step
  dist::GradientSync sync(coll, model->parameters());
  dist::ShardedSampler sampler(x.size(0), world, rank, 5);
  torch::optim::AdamW opt(model->parameters(), torch::optim::AdamWOptions(1e-2).weight_decay(0.1));
  for (int s = 0; s < steps; ++s) {
    const auto idx = sampler.next(batch);
    const auto ids = torch::tensor(idx, torch::kLong);
    opt.zero_grad();
    const auto loss = torch::mse_loss(model->forward(x.index_select(0, ids)), y.index_select(0, ids));
    loss.backward();
    sync.average();
    opt.step();
  }
}
}  // namespace

BOOST_AUTO_TEST_CASE(two_ranks_match_one_rank_with_double_batch) {
  dist::MpiEnv env(nullptr, nullptr);
  BOOST_REQUIRE_EQUAL(env.size(), 2);
  // The same synthetic data on every rank, from a Philox stream.
  core::RngStream rng(9, 0, core::RngPurpose::Test);
  std::vector<float> xs(64 * 8), ys(64 * 2);
  for (auto& v : xs) v = static_cast<float>(rng.normal());
  for (auto& v : ys) v = static_cast<float>(rng.normal());
  const auto x = torch::tensor(xs).reshape({64, 8}), y = torch::tensor(ys).reshape({64, 2});

  // Different initial weights per rank; the broadcast from rank 0 makes them equal.
  auto model = make_model(100 + env.rank());
  dist::TensorCollectives coll(env.world(), 1 << 20);
  BOOST_CHECK_THROW(dist::verify_parameters_identical(env.world(), named(model)), core::MismatchError);
  dist::broadcast_parameters(coll, named(model));
  BOOST_REQUIRE_NO_THROW(dist::verify_parameters_identical(env.world(), named(model)));

  // Reference: one rank (MPI_COMM_SELF), batch 2b, starting from the same weights.
  auto reference = make_model(0);
  {
    torch::NoGradGuard g;
    for (size_t i = 0; i < reference->parameters().size(); ++i) reference->parameters()[i].copy_(model->parameters()[i]);
  }
  const int64_t b = 6;
  const int steps = 12;  // 12 global batches of 12 from 64 samples: crosses two epoch boundaries
  train(reference, MPI_COMM_SELF, 2 * b, steps, x, y);
  train(model, env.world(), b, steps, x, y);

  // Both ranks hold identical weights, equal to the reference within rounding.
  BOOST_CHECK_NO_THROW(dist::verify_parameters_identical(env.world(), named(model)));
  double max_diff = 0, max_change = 0;
  auto start = make_model(100);  // rank 0's initial weights, to show training moved them
  for (size_t i = 0; i < model->parameters().size(); ++i) {
    max_diff = std::max(max_diff, (model->parameters()[i] - reference->parameters()[i]).abs().max().item<double>());
    max_change = std::max(max_change, (model->parameters()[i] - start->parameters()[i]).abs().max().item<double>());
  }
  BOOST_TEST_MESSAGE("max |w_2ranks - w_1rank| = " << max_diff << ", max |w - w_init| = " << max_change);
  BOOST_TEST(max_diff < 1e-5);
  BOOST_TEST(max_change > 0.05);
}
