// RNG streams: Philox4x32-10 against Random123's known-answer vectors and against ATen's own
// Philox engine (at::philox_engine, which no one here wrote), reproducibility, independence of
// streams, distribution sanity, and exact save/restore of the state.
#include <ATen/core/PhiloxRNGEngine.h>

#include <boost/test/unit_test.hpp>
#include <cmath>
#include <vector>

#include "core/error.hpp"
#include "core/rng.hpp"

using namespace mdrl::core;

BOOST_AUTO_TEST_SUITE(rng)

BOOST_AUTO_TEST_CASE(philox_known_answers) {
  // kat_vectors of Random123 1.09 (philox4x32, 10 rounds).
  using A4 = std::array<uint32_t, 4>;
  BOOST_TEST((philox4x32_10({0, 0, 0, 0}, {0, 0}) == A4{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}));
  BOOST_TEST((philox4x32_10({~0u, ~0u, ~0u, ~0u}, {~0u, ~0u}) == A4{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}));
  BOOST_TEST((philox4x32_10({0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}, {0xa4093822u, 0x299f31d0u}) ==
              A4{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}));
}

BOOST_AUTO_TEST_CASE(matches_aten_philox_engine) {
  for (uint64_t seed : {uint64_t{0}, uint64_t{42}, (uint64_t{1} << 40) + 7}) {
    for (int rank : {0, 1, 63}) {
      for (auto purpose : {RngPurpose::Sampling, RngPurpose::DataOrder}) {
        RngStream ours(seed, rank, purpose);
        at::philox_engine theirs(seed, RngStream::stream_id(rank, purpose), 0);
        for (int i = 0; i < 1000; ++i) BOOST_REQUIRE_EQUAL(ours.next_u32(), theirs());
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(same_parameters_same_sequence) {
  RngStream a(7, 3, RngPurpose::Masking), b(7, 3, RngPurpose::Masking);
  for (int i = 0; i < 100; ++i) BOOST_REQUIRE_EQUAL(a.next_u64(), b.next_u64());
}

BOOST_AUTO_TEST_CASE(streams_are_independent) {
  // Different rank, purpose or seed: different sequences, and uncorrelated uniforms.
  const int n = 100000;
  RngStream base(42, 0, RngPurpose::Sampling);
  std::vector<RngStream> others = {RngStream(42, 1, RngPurpose::Sampling), RngStream(42, 0, RngPurpose::Masking),
                                   RngStream(43, 0, RngPurpose::Sampling)};
  std::vector<double> x(n);
  for (auto& v : x) v = base.uniform();
  for (auto& o : others) {
    double sxy = 0, sx = 0, sy = 0, sxx = 0, syy = 0;
    int equal = 0;
    for (int i = 0; i < n; ++i) {
      const double y = o.uniform();
      equal += (y == x[i]);
      sxy += x[i] * y, sx += x[i], sy += y, sxx += x[i] * x[i], syy += y * y;
    }
    const double cov = sxy / n - (sx / n) * (sy / n);
    const double r = cov / std::sqrt((sxx / n - (sx / n) * (sx / n)) * (syy / n - (sy / n) * (sy / n)));
    BOOST_TEST(equal == 0);
    BOOST_TEST(std::abs(r) < 0.02);  // ~6 standard errors at n = 1e5
  }
}

BOOST_AUTO_TEST_CASE(distributions) {
  RngStream s(1, 0, RngPurpose::Test);
  const int n = 200000;
  double sum = 0, sum_n = 0, sum_n2 = 0, lo = 1, hi = 0;
  std::vector<int> counts(10, 0);
  for (int i = 0; i < n; ++i) {
    const double u = s.uniform();
    lo = std::min(lo, u), hi = std::max(hi, u);
    sum += u;
    const double z = s.normal();
    sum_n += z, sum_n2 += z * z;
    ++counts[s.uniform_int(10)];
  }
  BOOST_TEST(lo >= 0.0);
  BOOST_TEST(hi < 1.0);
  BOOST_TEST(std::abs(sum / n - 0.5) < 0.005);
  BOOST_TEST(std::abs(sum_n / n) < 0.01);
  BOOST_TEST(std::abs(sum_n2 / n - 1.0) < 0.02);
  double chi2 = 0;
  for (int c : counts) chi2 += (c - n / 10.0) * (c - n / 10.0) / (n / 10.0);
  BOOST_TEST(chi2 < 30.0);  // 9 degrees of freedom: p ~ 4e-4
}

BOOST_AUTO_TEST_CASE(state_round_trip_mid_block) {
  RngStream s(99, 2, RngPurpose::DataOrder);
  for (int i = 0; i < 3; ++i) s.next_u32();  // leave one word of the block buffered
  const RngStream::State st = s.state();
  BOOST_TEST(st.used == 3u);
  std::vector<uint32_t> expected;
  for (int i = 0; i < 101; ++i) expected.push_back(s.next_u32());
  RngStream restored(st);
  BOOST_TEST((restored.state() == st));
  for (int i = 0; i < 101; ++i) BOOST_REQUIRE_EQUAL(restored.next_u32(), expected[static_cast<size_t>(i)]);
  RngStream::State bad = st;
  bad.used = 9;
  BOOST_CHECK_THROW(RngStream{bad}, FormatError);
}

BOOST_AUTO_TEST_SUITE_END()
