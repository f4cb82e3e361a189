// Rank-strided sampler: W ranks with batch b cover exactly the global batches of one rank with
// batch W*b; permutations per epoch; drop of the incomplete tail; exact resume from a saved state.
#include <boost/test/unit_test.hpp>
#include <set>

#include "core/error.hpp"
#include "dist/metrics.hpp"
#include "dist/sampler.hpp"

using namespace mdrl;
using dist::ShardedSampler;

BOOST_AUTO_TEST_SUITE(sampler)

BOOST_AUTO_TEST_CASE(permutation_is_a_permutation_and_changes_per_epoch) {
  ShardedSampler s(1000, 1, 0, 42);
  const auto p0 = s.permutation(0), p1 = s.permutation(1);
  BOOST_TEST(std::set<int64_t>(p0.begin(), p0.end()).size() == 1000u);
  BOOST_TEST(*std::min_element(p0.begin(), p0.end()) == 0);
  BOOST_TEST(*std::max_element(p0.begin(), p0.end()) == 999);
  BOOST_TEST((p0 != p1));
  BOOST_TEST((ShardedSampler(1000, 4, 3, 42).permutation(0) == p0));  // same on every rank
  BOOST_TEST((ShardedSampler(1000, 1, 0, 43).permutation(0) != p0));  // depends on the seed
  const auto plain = ShardedSampler(5, 1, 0, 42, false).permutation(7);
  BOOST_TEST((plain == std::vector<int64_t>{0, 1, 2, 3, 4}));
}

BOOST_AUTO_TEST_CASE(ranks_with_batch_b_match_one_rank_with_batch_wb) {
  const int64_t n = 103, b = 4;
  const int world = 3;
  ShardedSampler single(n, 1, 0, 7);
  std::vector<ShardedSampler> ranks;
  for (int r = 0; r < world; ++r) ranks.emplace_back(n, world, r, 7);
  for (int step = 0; step < 40; ++step) {  // crosses several epoch boundaries
    const auto global = single.next(b * world);
    std::multiset<int64_t> expect(global.begin(), global.end()), got;
    for (auto& s : ranks) {
      const auto part = s.next(b);
      BOOST_REQUIRE_EQUAL(part.size(), static_cast<size_t>(b));
      got.insert(part.begin(), part.end());
    }
    BOOST_REQUIRE((expect == got));
    BOOST_TEST(single.state().epoch == ranks[0].state().epoch);
  }
  // 103 samples, 12 per global batch: 8 batches per epoch, the tail of 7 is dropped.
  BOOST_TEST(single.state().epoch == 4);
}

BOOST_AUTO_TEST_CASE(resume_continues_without_replay) {
  ShardedSampler a(50, 2, 1, 11);
  for (int i = 0; i < 9; ++i) a.next(3);
  const auto st = a.state();
  std::vector<std::vector<int64_t>> expected;
  for (int i = 0; i < 12; ++i) expected.push_back(a.next(3));
  ShardedSampler b(50, 2, 1, 11);
  b.restore(st);
  for (int i = 0; i < 12; ++i) BOOST_REQUIRE((b.next(3) == expected[static_cast<size_t>(i)]));
  BOOST_CHECK_THROW(b.restore({0, 51}), core::FormatError);
}

BOOST_AUTO_TEST_CASE(batch_larger_than_data_is_a_config_error) {
  ShardedSampler s(10, 2, 0, 1);
  BOOST_CHECK_THROW(s.next(6), core::ConfigError);
}

BOOST_AUTO_TEST_SUITE_END()
