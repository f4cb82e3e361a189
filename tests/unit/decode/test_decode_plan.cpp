// Decode plans against every worked example of spec algorithms.md §1.2 (linear counts), §1.3
// (semi-AR blocks), §1.5 (the whole ASS table and the non-power-of-two lengths) and the gamma
// tables of §1.4 and §1.6; invalid configurations fail up front with the documented messages.
#include <boost/test/unit_test.hpp>
#include <cmath>

#include "core/error.hpp"
#include "decode/decode_plan.hpp"

using namespace mdrl;
using namespace mdrl::decode;
using V = std::vector<int64_t>;

namespace {
DecodeConfig semi_ar(int64_t L, int64_t block, int64_t steps) {
  DecodeConfig c;
  c.gen_length = L, c.block_length = block, c.steps = steps;
  return c;
}
DecodeConfig ass(int64_t L, int64_t steps, int64_t block_num) {
  DecodeConfig c;
  c.schedule = Schedule::Ass;
  c.gen_length = L, c.steps = steps, c.block_num = block_num;
  return c;
}
std::string error_of(const DecodeConfig& c) {
  try {
    c.validate();
  } catch (const core::ConfigError& e) {
    return e.what();
  }
  return "";
}
bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }
}  // namespace

BOOST_AUTO_TEST_SUITE(decode_plan)

BOOST_AUTO_TEST_CASE(linear_counts_examples) {
  BOOST_TEST(linear_counts(32, 10) == (V{4, 4, 3, 3, 3, 3, 3, 3, 3, 3}), boost::test_tools::per_element());
  BOOST_TEST(linear_counts(3, 5) == (V{1, 1, 1, 0, 0}), boost::test_tools::per_element());  // steps > m
  BOOST_TEST(linear_counts(8, 1) == (V{8}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(semi_ar_worked_examples) {
  struct Row {
    int64_t L, block, steps, blocks, spb, tokens;
  };
  for (const Row r : {Row{256, 32, 128, 8, 16, 2}, Row{128, 32, 32, 4, 8, 4}, Row{256, 128, 128, 2, 64, 2},
                      Row{128, 64, 32, 2, 16, 4}, Row{256, 256, 8, 1, 8, 32}}) {
    const auto plan = make_plan(semi_ar(r.L, r.block, r.steps));
    BOOST_TEST_CONTEXT("L " << r.L << " block " << r.block << " steps " << r.steps) {
      BOOST_TEST(plan.blocks.size() == static_cast<size_t>(r.blocks));
      BOOST_TEST(plan.num_steps() == r.blocks * r.spb);
      for (const auto& s : plan.steps) BOOST_TEST(s.count == r.tokens);
      for (size_t k = 0; k < plan.blocks.size(); ++k) {
        BOOST_TEST(plan.blocks[k].begin == static_cast<int64_t>(k) * r.block);
        BOOST_TEST(plan.blocks[k].end == static_cast<int64_t>(k + 1) * r.block);
        BOOST_TEST(plan.blocks[k].steps.size() == static_cast<size_t>(r.spb));
      }
    }
  }
  // steps < blocks: one step per block, more forwards than steps (spec §1.3).
  BOOST_TEST(make_plan(semi_ar(256, 32, 4)).num_steps() == 8);
  // Not a multiple: 10 / 4 = 2 per block, 8 forwards; counts of 32 over 2 steps.
  const auto p = make_plan(semi_ar(128, 32, 10));
  BOOST_TEST(p.num_steps() == 8);
  BOOST_TEST(p.steps[0].count == 16);
  // Diffusion = one block of gen_length whatever block_length says.
  auto d = semi_ar(128, 32, 64);
  d.schedule = Schedule::Diffusion;
  BOOST_TEST(make_plan(d).blocks.size() == 1u);
  BOOST_TEST(make_plan(d).steps[0].count == 2);
  BOOST_TEST(!make_plan(d).describe().empty());
}

BOOST_AUTO_TEST_CASE(ass_table_every_row) {
  struct Row {
    int64_t L, S, n;
    V sizes;
    std::vector<V> steps;
    V counts;
  };
  const V c64{1, 2, 4, 8, 16, 33}, c128{1, 2, 4, 8, 16, 32, 65}, c256{1, 2, 4, 8, 16, 32, 64, 129};
  const std::vector<Row> rows = {
      {64, 6, 1, {64}, {{0, 1, 2, 3, 4, 5}}, c64},
      {64, 6, 2, {31, 33}, {{0, 1, 2, 3, 4}, {5}}, c64},
      {64, 6, 3, {15, 16, 33}, {{0, 1, 2, 3}, {4}, {5}}, c64},
      {64, 6, 4, {7, 8, 16, 33}, {{0, 1, 2}, {3}, {4}, {5}}, c64},
      {128, 7, 1, {128}, {{0, 1, 2, 3, 4, 5, 6}}, c128},
      {128, 7, 2, {63, 65}, {{0, 1, 2, 3, 4, 5}, {6}}, c128},
      {128, 7, 3, {31, 32, 65}, {{0, 1, 2, 3, 4}, {5}, {6}}, c128},
      {128, 7, 4, {15, 16, 32, 65}, {{0, 1, 2, 3}, {4}, {5}, {6}}, c128},
      {256, 8, 1, {256}, {{0, 1, 2, 3, 4, 5, 6, 7}}, c256},
      {256, 8, 2, {127, 129}, {{0, 1, 2, 3, 4, 5, 6}, {7}}, c256},
      {256, 8, 3, {63, 64, 129}, {{0, 1, 2, 3, 4, 5}, {6}, {7}}, c256},
      {256, 8, 4, {31, 32, 64, 129}, {{0, 1, 2, 3, 4}, {5}, {6}, {7}}, c256},
      // Non-powers of two: the remainder goes to the last block and step.
      {200, 7, 4, {15, 16, 32, 137}, {{0, 1, 2, 3}, {4}, {5}, {6}}, {1, 2, 4, 8, 16, 32, 137}},
      {96, 6, 3, {15, 16, 65}, {{0, 1, 2, 3}, {4}, {5}}, {1, 2, 4, 8, 16, 65}},
      {127, 6, 4, {7, 8, 16, 96}, {{0, 1, 2}, {3}, {4}, {5}}, {1, 2, 4, 8, 16, 96}},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT("L " << r.L << " block_num " << r.n) {
      BOOST_TEST(floor_log2(r.L) == r.S);
      const auto plan = make_plan(ass(r.L, r.S, r.n));
      BOOST_TEST(plan.num_steps() == r.S);
      BOOST_REQUIRE(plan.blocks.size() == r.sizes.size());
      int64_t at = 0;
      for (size_t k = 0; k < r.sizes.size(); ++k) {
        BOOST_TEST(plan.blocks[k].begin == at);
        BOOST_TEST(plan.blocks[k].end - plan.blocks[k].begin == r.sizes[k]);
        BOOST_TEST(plan.blocks[k].steps == r.steps[k], boost::test_tools::per_element());
        at = plan.blocks[k].end;
        // Each block is exactly filled by its steps.
        int64_t filled = 0;
        for (const int64_t i : plan.blocks[k].steps) filled += plan.steps[static_cast<size_t>(i)].count;
        BOOST_TEST(filled == r.sizes[k]);
      }
      BOOST_TEST(at == r.L);
      for (size_t i = 0; i < plan.steps.size(); ++i) {
        BOOST_TEST(plan.steps[i].index == static_cast<int64_t>(i));  // steps run in global order
        BOOST_TEST(plan.steps[i].count == r.counts[i]);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(gamma_linear_table) {
  // §1.4: single block, T = 8, gamma_min 0.4.
  const std::vector<double> want{0.4, 0.4857, 0.5714, 0.6571, 0.7429, 0.8286, 0.9143, 1.0};
  for (int64_t i = 0; i < 8; ++i) BOOST_TEST(gamma_linear(i, 8, 0.4, 1.0) == want[static_cast<size_t>(i)], boost::test_tools::tolerance(1e-4));
  BOOST_TEST(gamma_linear(20, 8, 0.4, 1.0) == 1.0);  // clamped
  BOOST_TEST(gamma_linear(0, 1, 0.4, 1.0) == 1.0);   // T_tot = 1 -> gamma_max
  BOOST_TEST(gamma_linear(5, 128, 0.01, 1.0) == 0.01 + 0.99 * 5 / 127, boost::test_tools::tolerance(1e-12));

  // Through the plan: L 256, block 32, steps 128, gamma_min 0.4.
  auto c = semi_ar(256, 32, 128);
  c.eoser = true;
  c.gamma_min = 0.4;
  c.gamma_index = GammaIndex::WithinBlock;  // the reference (Q3): gamma in [0.4, 0.4 + 0.6 * 15/127]
  const auto ref = make_plan(c);
  for (const auto& s : ref.steps) {
    BOOST_TEST(s.gamma >= 0.4 - 1e-12);
    BOOST_TEST(s.gamma <= 0.4 + 0.6 * 15.0 / 127.0 + 1e-12);
  }
  BOOST_TEST(ref.steps[15].gamma == 0.4 + 0.6 * 15.0 / 127.0, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(ref.steps[16].gamma == 0.4, boost::test_tools::tolerance(1e-12));
  c.gamma_index = GammaIndex::Global;
  const auto glob = make_plan(c);
  BOOST_TEST(glob.steps.front().gamma == 0.4, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(glob.steps.back().gamma == 1.0, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(glob.steps[64].gamma == 0.4 + 0.6 * 64.0 / 127.0, boost::test_tools::tolerance(1e-12));
  c.eoser = false;
  for (const auto& s : make_plan(c).steps) BOOST_TEST(s.gamma == 1.0);
}

BOOST_AUTO_TEST_CASE(gamma_power_tables) {
  const std::vector<std::vector<double>> tables = {
      {0.0255, 0.0564, 0.1183, 0.2420, 0.4895, 0.9845},
      {0.0177, 0.0332, 0.0641, 0.1260, 0.2498, 0.4973, 0.9923},
      {0.0139, 0.0216, 0.0371, 0.0680, 0.1299, 0.2536, 0.5011, 0.9961},
  };
  for (const auto& t : tables) {
    const auto S = static_cast<int64_t>(t.size());
    for (int64_t i = 0; i < S; ++i)
      BOOST_TEST(std::abs(gamma_power(i, S, 0.01, 1.0) - t[static_cast<size_t>(i)]) < 6e-5);  // table has 4 decimals
    // Through an EOSER + ASS plan (auto = power schedule, global index).
    auto c = ass(int64_t{1} << S, S, 2);
    c.eoser = true;
    const auto plan = make_plan(c);
    for (int64_t i = 0; i < S; ++i)
      BOOST_TEST(plan.steps[static_cast<size_t>(i)].gamma == gamma_power(i, S, 0.01, 1.0));
  }
  BOOST_TEST(gamma_power(3, 1, 0.01, 1.0) == 1.0);
}

BOOST_AUTO_TEST_CASE(invalid_configurations) {
  // ASS with steps != floor(log2 L): names the valid steps.
  auto e = error_of(ass(256, 7, 1));
  BOOST_TEST(contains(e, "decode.steps = 7"));
  BOOST_TEST(contains(e, "= 8"));
  BOOST_TEST(contains(error_of(ass(128, 32, 1)), "= 7"));  // the shipped CJ scripts' steps (Q6)
  // block_num > steps.
  e = error_of(ass(128, 7, 64));
  BOOST_TEST(contains(e, "decode.block_num = 64"));
  BOOST_TEST(contains(e, "1 to 7"));
  BOOST_TEST(contains(error_of(ass(128, 7, 0)), "decode.block_num = 0"));
  // L not divisible by block_length: lists the divisors.
  e = error_of(semi_ar(256, 30, 64));
  BOOST_TEST(contains(e, "decode.block_length = 30"));
  BOOST_TEST(contains(e, "1, 2, 4, 8, 16, 32, 64, 128, 256"));
  BOOST_TEST(contains(error_of(semi_ar(0, 32, 64)), "decode.gen_length"));
  BOOST_TEST(contains(error_of(semi_ar(256, 32, 0)), "decode.steps"));
  auto t = semi_ar(256, 32, 64);
  t.temperature = -1;
  BOOST_TEST(contains(error_of(t), "decode.temperature"));
  t = semi_ar(256, 32, 64);
  t.gamma_min = 2;
  BOOST_TEST(contains(error_of(t), "decode.gamma_min"));
  t = semi_ar(256, 32, 64);
  t.eos_ids = {"126081", "eot"};
  BOOST_TEST(contains(error_of(t), "decode.eos_ids: 'eot'"));
  t.eos_ids = {"126081", "126348"};
  BOOST_TEST(error_of(t).empty());
  BOOST_TEST(t.eos_set(5) == (V{126081, 126348}), boost::test_tools::per_element());
  t.eos_ids.clear();
  BOOST_TEST(t.eos_set(5) == (V{5}), boost::test_tools::per_element());
  BOOST_TEST(error_of(DecodeConfig{}).empty());
}

BOOST_AUTO_TEST_SUITE_END()
