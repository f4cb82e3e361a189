// Under `mpirun -np 2`: tensor all-reduce and broadcast (f32, f64, bf16, f16, i64; odd sizes across
// bucket boundaries), gradient averaging with gradients missing on one rank, checksum-based
// parameter verification, config-text agreement, and metric reduction.
#include <torch/torch.h>

#include <boost/test/unit_test.hpp>

#include "core/error.hpp"
#include "dist/consistency.hpp"
#include "dist/grad_sync.hpp"
#include "dist/metrics.hpp"
#include "dist/mpi_env.hpp"
#include "dist/tensor_collectives.hpp"
#include "test_support.hpp"

using namespace mdrl;
using test::world_rank;

namespace {
// Tensors of odd sizes whose values depend on the rank: v = (rank + 1) * (i + 1) for element i.
std::vector<torch::Tensor> make_tensors(torch::ScalarType dtype, int rank) {
  std::vector<torch::Tensor> ts;
  for (int64_t n : {1, 7, 1000, 33, 4097, 5}) {
    ts.push_back((torch::arange(1, n + 1, torch::kDouble) * (rank + 1)).remainder(97).to(dtype).reshape({n}));
  }
  ts.push_back(torch::ones({3, 5, 7}, torch::kDouble).mul(rank + 1).to(dtype));  // non-flat shape
  return ts;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(collectives)

BOOST_AUTO_TEST_CASE(bucket_plan) {
  std::vector<torch::Tensor> ts = {torch::zeros({10}), torch::zeros({10}), torch::zeros({30}),
                                   torch::zeros({10}, torch::kBFloat16), torch::zeros({100})};
  // 80 bytes per bucket: [0,1] (80 bytes), [2] alone (120 > 80), [3] dtype change, [4].
  const auto plan = dist::TensorCollectives::plan_buckets(ts, 80);
  BOOST_REQUIRE_EQUAL(plan.size(), 4u);
  BOOST_TEST((plan[0] == std::vector<size_t>{0, 1}));
  BOOST_TEST((plan[1] == std::vector<size_t>{2}));
  BOOST_TEST((plan[2] == std::vector<size_t>{3}));
  BOOST_TEST((plan[3] == std::vector<size_t>{4}));
}

BOOST_AUTO_TEST_CASE(all_reduce_sum_and_mean_all_dtypes) {
  const int rank = world_rank();
  for (auto dtype : {torch::kFloat, torch::kDouble, torch::kBFloat16, torch::kHalf}) {
    for (int64_t bucket : {int64_t{64}, int64_t{4096}, int64_t{1} << 24}) {
      dist::TensorCollectives coll(MPI_COMM_WORLD, bucket);
      auto sum = make_tensors(dtype, rank);
      auto mean = make_tensors(dtype, rank);
      coll.all_reduce(sum, dist::ReduceOp::Sum);
      coll.all_reduce(mean, dist::ReduceOp::Mean);
      const auto r0 = make_tensors(dtype, 0), r1 = make_tensors(dtype, 1);
      for (size_t i = 0; i < sum.size(); ++i) {
        const auto expect_sum = r0[i].to(torch::kDouble) + r1[i].to(torch::kDouble);
        // bf16/f16 inputs are exact small integers here; the f32 accumulation then rounds once.
        const auto want_sum = expect_sum.to(dtype).to(torch::kDouble);
        const auto want_mean = (expect_sum / 2).to(dtype).to(torch::kDouble);
        BOOST_REQUIRE_MESSAGE(torch::equal(sum[i].to(torch::kDouble), want_sum),
                              "sum mismatch dtype " << dtype << " bucket " << bucket << " tensor " << i);
        BOOST_REQUIRE_MESSAGE(torch::equal(mean[i].to(torch::kDouble), want_mean),
                              "mean mismatch dtype " << dtype << " bucket " << bucket << " tensor " << i);
        BOOST_REQUIRE(sum[i].scalar_type() == dtype);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(all_reduce_integers_and_non_contiguous) {
  const int rank = world_rank();
  dist::TensorCollectives coll(MPI_COMM_WORLD, 256);
  auto ints = torch::full({11}, int64_t{1} << 40, torch::kLong) + rank;
  auto base = torch::arange(20, torch::kFloat).reshape({4, 5}) * (rank + 1);
  auto strided = base.t();  // non-contiguous view: reduced through a packed copy, written back
  coll.all_reduce({ints, strided}, dist::ReduceOp::Sum);
  BOOST_TEST(torch::equal(ints, torch::full({11}, (int64_t{1} << 41) + 1, torch::kLong)));
  BOOST_TEST(torch::equal(base, torch::arange(20, torch::kFloat).reshape({4, 5}) * 3));
  BOOST_CHECK_THROW(coll.all_reduce({ints}, dist::ReduceOp::Mean), core::InternalError);
}

BOOST_AUTO_TEST_CASE(broadcast_from_either_root) {
  const int rank = world_rank();
  for (int root : {0, 1}) {
    for (auto dtype : {torch::kFloat, torch::kBFloat16, torch::kHalf, torch::kLong}) {
      dist::TensorCollectives coll(MPI_COMM_WORLD, 100);
      auto ts = make_tensors(dtype, rank);
      coll.broadcast(ts, root);
      const auto want = make_tensors(dtype, root);
      for (size_t i = 0; i < ts.size(); ++i) BOOST_REQUIRE(torch::equal(ts[i], want[i]));
    }
  }
}

BOOST_AUTO_TEST_CASE(gradient_mean_with_missing_gradients) {
  const int rank = world_rank();
  auto a = torch::zeros({5}, torch::requires_grad());
  auto b = torch::zeros({3}, torch::requires_grad());
  auto c = torch::zeros({2}, torch::requires_grad());  // no gradient on any rank
  // Rank 0's loss touches a and b, rank 1's only a.
  auto loss = (a * (rank + 1.0)).sum();
  if (rank == 0) loss = loss + (b * 4.0).sum();
  loss.backward();
  dist::TensorCollectives coll(MPI_COMM_WORLD, 1 << 20);
  dist::GradientSync sync(coll, {a, b, c});
  BOOST_TEST(sync.average() == 2u);
  BOOST_TEST(torch::allclose(a.grad(), torch::full({5}, 1.5)));
  BOOST_TEST(torch::allclose(b.grad(), torch::full({3}, 2.0)));  // (4 + 0) / 2 on both ranks
  BOOST_TEST(!c.grad().defined());
}

BOOST_AUTO_TEST_CASE(checksums_detect_mismatch) {
  const int rank = world_rank();
  torch::manual_seed(3);  // same seed: same values on both ranks
  dist::NamedTensors params = {{"layer.0.w", torch::randn({4, 6})}, {"layer.0.b", torch::randn({6}).to(torch::kBFloat16)}};
  BOOST_CHECK_NO_THROW(dist::verify_parameters_identical(MPI_COMM_WORLD, params));
  // Checksums see a swap of two elements and a one-ulp change.
  const auto w = params[0].second;
  const uint64_t c0 = dist::tensor_checksum(w);
  auto swapped = w.clone();
  swapped.view(-1)[0] = w.view(-1)[1];
  swapped.view(-1)[1] = w.view(-1)[0];
  BOOST_TEST(dist::tensor_checksum(swapped) != c0);
  auto ulp = w.clone();
  ulp.view(-1)[5] = std::nextafter(w.view(-1)[5].item<float>(), 1e9f);
  BOOST_TEST(dist::tensor_checksum(ulp) != c0);

  if (rank == 1) params[1].second.view(-1)[2] += 1;
  try {
    dist::verify_parameters_identical(MPI_COMM_WORLD, params);
    BOOST_FAIL("mismatch not detected");
  } catch (const core::MismatchError& e) {
    BOOST_TEST(std::string(e.what()).find("parameter 'layer.0.b' differs between rank 0 and rank(s) 1") !=
               std::string::npos, e.what());
  }
  // Broadcasting from rank 0 repairs it.
  dist::TensorCollectives coll(MPI_COMM_WORLD, 1 << 20);
  dist::broadcast_parameters(coll, params);
  BOOST_CHECK_NO_THROW(dist::verify_parameters_identical(MPI_COMM_WORLD, params));
}

BOOST_AUTO_TEST_CASE(config_text_agreement) {
  const int rank = world_rank();
  BOOST_CHECK_NO_THROW(dist::verify_same_text(MPI_COMM_WORLD, "[run]\nseed = 1\n", "config"));
  try {
    dist::verify_same_text(MPI_COMM_WORLD, rank == 0 ? "[run]\nseed = 1\n" : "[run]\nseed = 2\n", "the config");
    BOOST_FAIL("mismatch not detected");
  } catch (const core::MismatchError& e) {
    BOOST_TEST(std::string(e.what()).find("the config differs between rank 0 and rank 1 at line 2: 'seed = 1' vs "
                                          "'seed = 2'") != std::string::npos, e.what());
  }
}

BOOST_AUTO_TEST_CASE(metric_reduction) {
  const int rank = world_rank();
  dist::MetricReducer m;
  m.add("loss", rank == 0 ? 1.0 : 3.0);
  m.add("tokens", 100.0 + rank, dist::MetricKind::Sum);
  m.add("min_len", 10.0 - rank, dist::MetricKind::Min);
  m.add("max_len", 10.0 + rank, dist::MetricKind::Max);
  const auto out = m.reduce(MPI_COMM_WORLD);
  BOOST_REQUIRE_EQUAL(out.size(), 4u);
  BOOST_TEST(out[0].first == "loss");
  BOOST_TEST(out[0].second == 2.0);
  BOOST_TEST(out[1].second == 201.0);
  BOOST_TEST(out[2].second == 9.0);
  BOOST_TEST(out[3].second == 11.0);
  BOOST_TEST(m.reduce(MPI_COMM_WORLD).empty());
}

BOOST_AUTO_TEST_SUITE_END()
