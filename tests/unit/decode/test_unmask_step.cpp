// The unmasking step and the generate loop with scripted denoisers (exact logits): greedy order
// and windows, EOSER's factor, Gumbel and random-remasking distributions (chi-square, fixed
// seeds), CFG, batched vs per-row top-k, the mask-id switch (Q13), and trace rebuilds.
#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <boost/test/unit_test.hpp>
#include <cmath>
#include <limits>

#include "decode/decode_plan.hpp"
#include "decode/generate.hpp"
#include "decode/unmask_step.hpp"
#include "scripted_denoiser.hpp"

using namespace mdrl;
using namespace mdrl::decode;

namespace {
constexpr int64_t kV = 8, kMask = 6, kEos = 7;

at::Generator gen_of(uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

// Pearson chi-square of observed counts against expected probabilities.
double chi_square(const torch::Tensor& counts, const std::vector<double>& p) {
  const double n = counts.sum().item<double>();
  double x2 = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    const double e = n * p[i];
    const double o = counts[static_cast<int64_t>(i)].item<double>();
    x2 += (o - e) * (o - e) / e;
  }
  return x2;
}

// Logits whose argmax at completion position j is token (j % 5) with confidence rising in `rank`.
torch::Tensor ordered_table(int64_t T, const std::vector<double>& strength) {
  auto t = torch::zeros({T, kV});
  for (int64_t p = 0; p < T; ++p) t[p][p % 5] = strength[static_cast<size_t>(p)];
  return t;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(unmasking)

BOOST_AUTO_TEST_CASE(greedy_order_respects_windows) {
  // P = 2 prompt tokens, L = 8, blocks of 4, 4 steps (2 per block, 2 tokens per step). Confidence
  // rises with position in block 0 and falls in block 1; the highest confidence overall is in
  // block 1, which must still wait for block 0.
  const int64_t P = 2, L = 8;
  const std::vector<double> s = {0, 0, 1, 2, 3, 4, 9, 8, 7, 6};
  auto den = test::static_denoiser(ordered_table(P + L, s), kMask, kEos);
  DecodeConfig cfg;
  cfg.gen_length = L, cfg.block_length = 4, cfg.steps = 4;
  const auto plan = make_plan(cfg);
  auto gen = gen_of(1);
  const auto prompts = left_pad({{1, 2}}, kEos);
  const auto r = generate(den, prompts, cfg, plan, gen);
  const std::vector<int64_t> want_step = {1, 1, 0, 0, 2, 2, 3, 3};
  for (int64_t j = 0; j < L; ++j) {
    BOOST_TEST(r.trace.step_map[0][j].item<int64_t>() == want_step[static_cast<size_t>(j)]);
    BOOST_TEST(r.completion[0][j].item<int64_t>() == (P + j) % 5);
  }
  BOOST_TEST(r.forwards == 4);
  BOOST_TEST(r.trace.step_counts.sum().item<int64_t>() == L);
  // Logits were asked for only from the first masked position to the window end.
  BOOST_TEST(den.calls.size() == 4u);
}

BOOST_AUTO_TEST_CASE(eoser_scales_eos_confidence_exactly) {
  // Two masked positions: a = EOS with probability pa, b = token 1 with probability pb < pa.
  // With gamma, a's confidence is exactly gamma * pa; b goes first iff pb > gamma * pa.
  const double gamma = 0.5;
  for (const double margin : {+1e-3, -1e-3}) {
    auto logits = torch::full({1, 2, kV}, -10.0, torch::kDouble);
    logits[0][0][kEos] = 3.0;
    // The mask id is excluded from sampling (and so from the softmax): 6 other tokens at -10.
    const double others = (kV - 2) * std::exp(-10.0);
    const double pa = std::exp(3.0) / (std::exp(3.0) + others);
    // Choose b's top logit so pb = gamma * pa + margin.
    const double pb = gamma * pa + margin;
    logits[0][1][1] = std::log(pb * others / (1 - pb));
    auto x = torch::full({1, 2}, kMask, torch::kLong);
    StepSettings st;
    st.gamma = gamma;
    st.eos_ids = torch::tensor({kEos}, torch::kLong);
    st.mask_id = kMask;
    st.confidence_precision = Precision::F64;
    auto gen = gen_of(3);
    const auto r = unmask_step(x, logits.clone(), 0, 2, torch::tensor({1}, torch::kLong), st, gen);
    BOOST_TEST(r.confidence[0][0].item<double>() == gamma * pa, boost::test_tools::tolerance(1e-6));
    BOOST_TEST(r.confidence[0][1].item<double>() == pb, boost::test_tools::tolerance(1e-6));
    BOOST_TEST(r.selected[0][1].item<bool>() == (margin > 0));
    // Without EOSER the EOS position always wins.
    auto x2 = torch::full({1, 2}, kMask, torch::kLong);
    st.gamma = 1.0;
    const auto r2 = unmask_step(x2, logits.clone(), 0, 2, torch::tensor({1}, torch::kLong), st, gen);
    BOOST_TEST(r2.selected[0][0].item<bool>());
    BOOST_TEST(x2[0][0].item<int64_t>() == kEos);
  }
}

BOOST_AUTO_TEST_CASE(eoser_delays_eos_in_generate) {
  // Position 0 is EOS with the highest confidence (p ~ 0.9993); without EOSER it goes first. With
  // gamma_min 0.01 over 8 steps, gamma(i) = 0.01 + 0.99 i / 7, and the other positions have
  // p_j = e^(2 + 0.1 j) / (e^(2 + 0.1 j) + 6), taken from j = 7 down: EOS first wins at step 5,
  // where 0.7171 * 0.9993 > p_2 = 0.6007 (at step 4, 0.5757 * 0.9993 < p_3 = 0.6244).
  const int64_t L = 8;
  auto table = torch::zeros({L, kV});
  table[0][kEos] = 9.0;
  for (int64_t p = 1; p < L; ++p) table[p][1] = 2.0 + 0.1 * static_cast<double>(p);
  for (const bool eoser : {false, true}) {
    auto den = test::static_denoiser(table, kMask, kEos);
    DecodeConfig cfg;
    cfg.schedule = Schedule::Diffusion;
    cfg.gen_length = L, cfg.steps = L, cfg.eoser = eoser, cfg.gamma_min = 0.01, cfg.eos_stats = true;
    auto gen = gen_of(4);
    const auto r = generate(den, left_pad({{}}, kEos), cfg, make_plan(cfg), gen);
    BOOST_TEST(r.trace.step_map[0][0].item<int64_t>() == (eoser ? 5 : 0));
    BOOST_TEST(r.trace.eos_counts.sum().item<int64_t>() == 1);
    BOOST_TEST(r.trace.eos_counts[0][eoser ? 5 : 0].item<int64_t>() == 1);
  }
}

BOOST_AUTO_TEST_CASE(low_confidence_is_the_float32_softmax_of_the_sampled_token) {
  // Near p = 1, exp(l[x0] - logsumexp(l)) in f32 rounds on the scale of the logits (ulp(30) ~ 2e-6)
  // while the reference's softmax(l)[x0] rounds on the scale of p (ulp ~ 6e-8), so near-ties can
  // resolve differently. Among random rows with a dominant logit near 30, find two that the two
  // formulas order oppositely; the step must pick the one float32 torch::softmax ranks first.
  const int64_t V = 64, N = 256;
  auto rows = torch::randn({N, V}, gen_of(31)).mul_(0.5).add_(18.0);
  rows.select(1, 0).copy_(torch::rand({N}, gen_of(32)).mul_(0.01).add_(30.0));
  const auto x0 = rows.argmax(-1, true);  // [N, 1]
  const auto soft = torch::softmax(rows, -1).gather(-1, x0).squeeze(-1);
  const auto old = (rows.gather(-1, x0) - rows.logsumexp(-1, true)).exp().squeeze(-1);
  const auto s = soft.accessor<float, 1>(), o = old.accessor<float, 1>();
  int64_t hi = -1, lo = -1;
  for (int64_t i = 0; i < N && hi < 0; ++i)
    for (int64_t j = 0; j < N; ++j)
      if (s[i] > s[j] && o[i] < o[j]) {
        hi = i, lo = j;
        break;
      }
  BOOST_REQUIRE_MESSAGE(hi >= 0, "no pair of rows that the two formulas order differently");
  for (const bool hi_first : {true, false}) {
    const auto logits = torch::stack(hi_first ? std::vector{rows[hi], rows[lo]} : std::vector{rows[lo], rows[hi]})
                            .unsqueeze(0);          // [1, 2, V]
    auto x = torch::full({1, 2}, V, torch::kLong);  // mask id V: outside the logits, no column is cut
    StepSettings st;
    st.mask_id = V;
    auto gen = gen_of(33);
    const auto r = unmask_step(x, logits.clone(), 0, 2, torch::tensor({1}, torch::kLong), st, gen);
    const auto want = torch::softmax(logits, -1).gather(-1, logits.argmax(-1, true)).squeeze(-1);  // [1, 2]
    BOOST_TEST(r.selected[0][hi_first ? 0 : 1].item<bool>(), "the step picked the row exp(l - logsumexp) ranks first");
    BOOST_TEST(r.selected[0].eq(want[0].eq(want[0].max())).all().item<bool>());
    BOOST_TEST(torch::equal(r.confidence, want));
  }
  // Chunks of rows (here 3 rows of V per softmax call) give the same numbers, in f32 and f64.
  const auto many = rows.view({16, 16, V});
  const auto idx = many.argmax(-1);
  for (const auto prec : {Precision::F32, Precision::F64}) {
    const auto dtype = prec == Precision::F64 ? torch::kDouble : torch::kFloat;
    const auto whole = torch::softmax(many.to(dtype), -1).gather(-1, idx.unsqueeze(-1)).squeeze(-1);
    BOOST_TEST(torch::equal(sampled_probability(many, idx, prec, 3 * V), whole));
    BOOST_TEST(torch::equal(sampled_probability(many, idx, prec), whole));
  }
}

BOOST_AUTO_TEST_CASE(prompt_masks_are_filled_as_in_the_reference) {
  // Spec §1.1: the mask covers the whole sequence and only positions right of the window are cut,
  // so a mask token in the prompt is eligible at every step; the quota (§1.2) counts the window's
  // masks only. A confident prompt mask therefore takes a slot, and one completion position stays
  // masked; an unconfident one stays masked itself. P = 3 with a mask at 1, L = 4.
  const int64_t P = 3, L = 4;
  for (const bool diffusion : {true, false}) {
    for (const bool confident : {true, false}) {
      auto table = torch::zeros({P + L, kV});
      table[1][3] = confident ? 9.0 : 0.5;  // the prompt mask's candidate, token 3
      for (int64_t j = 0; j < L; ++j) table[P + j][j] = 2.0 + static_cast<double>(j);  // rising with j
      auto den = test::static_denoiser(table, kMask, kEos);
      DecodeConfig cfg;
      cfg.gen_length = L, cfg.steps = 2;
      cfg.schedule = diffusion ? Schedule::Diffusion : Schedule::SemiAr;
      cfg.block_length = 2;  // semi-AR: 2 blocks of 2, one step each
      auto gen = gen_of(1);
      const auto r = generate(den, left_pad({{1, kMask, 2}}, kEos), cfg, make_plan(cfg), gen);
      BOOST_TEST(r.sequences[0][1].item<int64_t>() == (confident ? 3 : kMask));
      // Diffusion, counts [2, 2]: step 0 takes the prompt mask and j = 3, step 1 j = 2 and 1.
      // Semi-AR, count 2 per block: block 0 the prompt mask and j = 1, block 1 j = 3 and 2 (j = 0,
      // left of the window now, is still eligible but less confident).
      const std::vector<int64_t> want =
          diffusion ? (confident ? std::vector<int64_t>{-1, 1, 1, 0} : std::vector<int64_t>{1, 1, 0, 0})
                    : (confident ? std::vector<int64_t>{-1, 0, 1, 1} : std::vector<int64_t>{0, 0, 1, 1});
      for (int64_t j = 0; j < L; ++j) {
        BOOST_TEST(r.trace.step_map[0][j].item<int64_t>() == want[static_cast<size_t>(j)]);
        BOOST_TEST(r.completion[0][j].item<int64_t>() == (want[static_cast<size_t>(j)] < 0 ? kMask : j));
      }
      BOOST_TEST(r.trace.step_counts.sum().item<int64_t>() == (confident ? L - 1 : L));
    }
  }
}

BOOST_AUTO_TEST_CASE(gumbel_sampling_distribution) {
  // x0 ~ softmax(l / T): chi-square over 40000 draws, 4 degrees of freedom (p = 0.001: 18.47).
  const std::vector<double> l = {1.0, 0.5, 0.0, -0.5, 2.0};
  for (const double T : {1.0, 0.6}) {
    for (const auto prec : {Precision::F32, Precision::F64}) {
      auto logits = torch::tensor(l).to(torch::kFloat).view({1, 1, 5}).expand({1, 40000, 5}).contiguous();
      auto gen = gen_of(11);
      const auto x0 = gumbel_argmax(logits, T, prec, gen);
      const auto counts = torch::bincount(x0.flatten(), {}, 5);
      std::vector<double> p(5);
      double z = 0;
      for (size_t i = 0; i < 5; ++i) z += p[i] = std::exp(l[i] / T);
      for (auto& v : p) v /= z;
      BOOST_TEST(chi_square(counts, p) < 18.47);
    }
  }
  auto logits = torch::tensor({0.0, 3.0, 1.0}).view({1, 1, 3});
  auto gen = gen_of(1);
  BOOST_TEST(gumbel_argmax(logits, 0.0, Precision::F32, gen).item<int64_t>() == 1);
}

BOOST_AUTO_TEST_CASE(inverse_cdf_sampling_distribution) {
  // x0 ~ softmax(l / T) from one f64 uniform per position: chi-square over 40000 draws (4 dof,
  // p = 0.001: 18.47); a -inf logit (the excluded mask id) is never drawn; the draws do not depend
  // on the chunking; sample_tokens routes f64 noise here unless f64_sampler = gumbel.
  const std::vector<double> l = {1.0, 0.5, 0.0, -0.5, 2.0};
  for (const double T : {1.0, 0.6}) {
    auto logits = torch::tensor(l).to(torch::kFloat).view({1, 1, 5}).expand({2, 20000, 5}).contiguous();
    auto gen = gen_of(11);
    const auto x0 = inverse_cdf_sample(logits, T, gen);
    BOOST_TEST((x0.sizes() == torch::IntArrayRef{2, 20000}));
    const auto counts = torch::bincount(x0.flatten(), {}, 5);
    std::vector<double> p(5);
    double z = 0;
    for (size_t i = 0; i < 5; ++i) z += p[i] = std::exp(l[i] / T);
    for (auto& v : p) v /= z;
    BOOST_TEST(chi_square(counts, p) < 18.47);
    auto g1 = gen_of(5), g2 = gen_of(5);
    BOOST_TEST(torch::equal(inverse_cdf_sample(logits, T, g1, 5), inverse_cdf_sample(logits, T, g2)));
  }
  // A -inf column anywhere (first, middle, last) is never chosen, even with most of the mass next to it.
  for (const int64_t hole : {0, 2, 4}) {
    auto logits = torch::tensor(l).to(torch::kFloat).view({1, 1, 5}).expand({1, 5000, 5}).contiguous();
    logits.select(-1, hole).fill_(-std::numeric_limits<float>::infinity());
    auto gen = gen_of(3);
    BOOST_TEST(inverse_cdf_sample(logits, 1.0, gen).ne(hole).all().item<bool>());
  }
  // Routing: f64 noise draws one uniform per position (inverse CDF) unless gumbel is asked for.
  auto logits = torch::randn({2, 3, 7});
  auto a = gen_of(9), b = gen_of(9), c = gen_of(9), d = gen_of(9);
  BOOST_TEST(torch::equal(sample_tokens(logits, 1.0, Precision::F64, F64Sampler::InverseCdf, a),
                          inverse_cdf_sample(logits, 1.0, b)));
  BOOST_TEST(torch::equal(sample_tokens(logits, 1.0, Precision::F64, F64Sampler::Gumbel, c),
                          gumbel_argmax(logits, 1.0, Precision::F64, d)));
  BOOST_TEST(torch::equal(sample_tokens(logits, 0.0, Precision::F64, F64Sampler::InverseCdf, a), logits.argmax(-1)));
}

BOOST_AUTO_TEST_CASE(random_remasking_is_uniform) {
  // k = 1 among 10 masked positions with random confidence: uniform choice (9 dof, p = 0.001: 27.88),
  // whatever the logits say.
  const int64_t B = 20000, W = 10;
  auto logits = torch::randn({B, W, kV}, gen_of(2));
  auto x = torch::full({B, W}, kMask, torch::kLong);
  StepSettings st;
  st.remasking = Remasking::Random;
  st.mask_id = kMask;
  auto gen = gen_of(5);
  const auto r = unmask_step(x, logits, 0, W, torch::ones({B}, torch::kLong), st, gen);
  BOOST_TEST(r.selected.sum().item<int64_t>() == B);
  const auto counts = r.selected.sum(0);
  BOOST_TEST(chi_square(counts, std::vector<double>(W, 1.0 / W)) < 27.88);
}

BOOST_AUTO_TEST_CASE(batched_top_k_equals_per_row) {
  torch::manual_seed(0);
  const int64_t B = 32, W = 50;
  auto conf = torch::rand({B, W});
  conf.masked_fill_(torch::rand({B, W}).lt(0.3), -std::numeric_limits<float>::infinity());
  const auto k = torch::randint(0, W + 1, {B}, torch::kLong);
  const auto got = select_top_k(conf, k);
  for (int64_t b = 0; b < B; ++b) {
    auto want = torch::zeros({W}, torch::kBool);
    const int64_t finite = conf[b].isfinite().sum().item<int64_t>();
    const int64_t kb = std::min(k[b].item<int64_t>(), finite);
    if (kb > 0) want.index_fill_(0, std::get<1>(conf[b].topk(kb)), true);
    BOOST_TEST(torch::equal(got[b], want));
  }
  BOOST_TEST(select_top_k(conf, torch::zeros({B}, torch::kLong)).sum().item<int64_t>() == 0);
}

BOOST_AUTO_TEST_CASE(cfg_formula_and_unconditional_rows) {
  BOOST_TEST(torch::allclose(cfg_combine(torch::tensor({2.0}), torch::tensor({1.0}), 0.5), torch::tensor({2.5})));
  // Conditional rows see the prompt; unconditional ones see only masks there. Logits: C when the
  // first token is a prompt token, U otherwise; the result is greedy on U + (s + 1)(C - U).
  const int64_t P = 2, L = 4;
  auto C = torch::randn({P + L, kV}, gen_of(7)), U = torch::randn({P + L, kV}, gen_of(8));
  test::ScriptedDenoiser den(kV, kMask, kEos, [&](const torch::Tensor& tokens) {
    const auto cond = tokens.select(1, 0).ne(kMask).view({-1, 1, 1}).to(torch::kFloat);
    return cond * C.unsqueeze(0) + (1 - cond) * U.unsqueeze(0);
  });
  DecodeConfig cfg;
  cfg.schedule = Schedule::Diffusion;
  cfg.gen_length = L, cfg.steps = 1, cfg.cfg_scale = 1.5;
  auto gen = gen_of(9);
  const auto r = generate(den, left_pad({{1, 2}}, kEos), cfg, make_plan(cfg), gen);
  BOOST_REQUIRE(!den.calls.empty());
  BOOST_TEST(den.calls[0].size(0) == 2);
  BOOST_TEST(den.calls[0][1].narrow(0, 0, P).eq(kMask).all().item<bool>());
  auto comb = cfg_combine(C, U, 1.5).narrow(0, P, L);
  comb.select(1, kMask).fill_(-1e30);
  BOOST_TEST(torch::equal(r.completion[0], comb.argmax(-1)));
}

BOOST_AUTO_TEST_CASE(mask_token_switch) {
  // The mask id is the argmax at position 1. Default: excluded, the next best is taken. The
  // reference mode samples it: the position stays masked and is not counted as unmasked.
  const int64_t L = 3;
  auto table = torch::zeros({1 + L, kV});  // the prompt is one token
  table[1][1] = 5, table[2][kMask] = 6, table[2][2] = 4, table[3][3] = 3;
  for (const bool sample_mask : {false, true}) {
    auto den = test::static_denoiser(table, kMask, kEos);
    DecodeConfig cfg;
    cfg.schedule = Schedule::Diffusion;
    cfg.gen_length = L, cfg.steps = 1, cfg.sample_mask_token = sample_mask;
    auto gen = gen_of(1);
    const auto r = generate(den, left_pad({{4}}, kEos), cfg, make_plan(cfg), gen);
    BOOST_TEST(r.completion[0][1].item<int64_t>() == (sample_mask ? kMask : 2));
    BOOST_TEST(r.trace.step_map[0][1].item<int64_t>() == (sample_mask ? -1 : 0));
    BOOST_TEST(r.trace.step_counts[0][0].item<int64_t>() == (sample_mask ? 2 : 3));
  }
}

BOOST_AUTO_TEST_CASE(trace_rebuilds_every_state) {
  // Sampled decoding (T = 1, random logits per token state) with an observer that keeps every x_i.
  const int64_t L = 16;
  for (const auto schedule : {Schedule::SemiAr, Schedule::Ass}) {
    test::ScriptedDenoiser den(kV, kMask, kEos, [](const torch::Tensor& tokens) {
      auto g = gen_of(static_cast<uint64_t>(tokens.sum().item<int64_t>()));
      return torch::randn({tokens.size(0), tokens.size(1), kV}, g);
    });
    DecodeConfig cfg;
    cfg.gen_length = L, cfg.schedule = schedule, cfg.temperature = 1.0;
    cfg.block_length = 8, cfg.steps = schedule == Schedule::Ass ? 4 : 6, cfg.block_num = 2;
    const auto plan = make_plan(cfg);
    std::vector<torch::Tensor> states;
    auto gen = gen_of(21);
    const auto prompts = left_pad({{1, 2, 3}, {4}, {5, 1}}, kEos);
    const auto r = generate(den, prompts, cfg, plan, gen, [&](const PlanStep&, const torch::Tensor& x) {
      states.push_back(x.clone());
    });
    BOOST_REQUIRE(static_cast<int64_t>(states.size()) == plan.num_steps());
    BOOST_TEST(torch::equal(rebuild_state(prompts.ids, r.completion, r.trace.step_map, 0, kMask).narrow(1, 3, L),
                            torch::full({3, L}, kMask, torch::kLong)));
    for (int64_t i = 0; i < plan.num_steps(); ++i) {
      const auto x = rebuild_state(prompts.ids, r.completion, r.trace.step_map, i + 1, kMask);
      BOOST_TEST(torch::equal(x, states[static_cast<size_t>(i)]));
      BOOST_TEST(torch::equal(unmasked_at(r.trace.step_map, i).sum(1), r.trace.step_counts.select(1, i)));
    }
    BOOST_TEST(r.trace.step_counts.sum(1).eq(L).all().item<bool>());
    if (schedule == Schedule::Ass)  // every row unmasks 1, 2, 4, 9
      BOOST_TEST(torch::equal(r.trace.step_counts[1], torch::tensor({1, 2, 4, 9}, torch::kLong)));
  }
}

BOOST_AUTO_TEST_CASE(left_padding_and_attention_mask) {
  const auto p = left_pad({{1, 2, 3}, {4}}, kEos);
  BOOST_TEST(torch::equal(p.ids, torch::tensor(std::vector<int64_t>{1, 2, 3, kEos, kEos, 4}).view({2, 3})));
  BOOST_TEST(torch::equal(p.mask, torch::tensor({true, true, true, false, false, true}).view({2, 3})));
  auto table = torch::zeros({3 + 4, kV});
  for (const bool masked : {true, false}) {
    auto den = test::static_denoiser(table, kMask, kEos);
    DecodeConfig cfg;
    cfg.schedule = Schedule::Diffusion;
    cfg.gen_length = 4, cfg.steps = 2, cfg.attention_mask = masked;
    auto gen = gen_of(1);
    generate(den, p, cfg, make_plan(cfg), gen);
    BOOST_TEST(den.masks[0].defined() == masked);
    if (masked) BOOST_TEST(den.masks[0][1].sum().item<int64_t>() == 1 + 4);
  }
}

BOOST_AUTO_TEST_SUITE_END()
