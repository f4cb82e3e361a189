// Prompt groups, rollouts and trajectory records (spec algorithms.md §2.0 steps 3, 5-8):
// G consecutive copies, U prompts per step, each chunk used mu times, epochs that wrap, whole groups
// per rank and micro-batch, 2 ranks = 1 rank with a 2x batch, resume mid-mu-cycle; on the tiny
// LLaDA and the byte-level tokenizer: left truncation, left padding, the completion mask, rewards
// equal to the task's functions on the texts, chunked generation equal to one call; the trajectory
// record through a real HDF5 file.
#include <torch/torch.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <limits>
#include <set>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "decode/generate.hpp"
#include "model/llada.hpp"
#include "rl/group_advantage.hpp"
#include "rl/prompt_groups.hpp"
#include "rl/rollout.hpp"
#include "rl/trajectory_record.hpp"
#include "tasks/puzzle_generator.hpp"
#include "tasks/rewards.hpp"
#include "tasks/task.hpp"
#include "test_support.hpp"
#include "tokenizer/chat_template.hpp"
#include "tokenizer/tokenizer.hpp"
#include "unit/decode/scripted_denoiser.hpp"

using namespace mdrl;
using namespace mdrl::rl;

namespace {

GrpoConfig grpo(int64_t G, int64_t mu) {
  GrpoConfig c;
  c.num_generations = G;
  c.num_iterations = mu;
  return c;
}

// Rows of a micro-batch are whole groups: G consecutive equal rows, one group id each, new ids
// between groups.
void check_whole_groups(const std::vector<PromptRow>& mb, int64_t G) {
  BOOST_REQUIRE(mb.size() % static_cast<size_t>(G) == 0);
  std::set<int64_t> ids;
  for (size_t g = 0; g < mb.size(); g += static_cast<size_t>(G)) {
    for (size_t i = 1; i < static_cast<size_t>(G); ++i) BOOST_TEST((mb[g + i] == mb[g]));
    BOOST_TEST(ids.insert(mb[g].group).second);
  }
}

std::vector<PromptRow> flatten(const PromptStep& s) {
  std::vector<PromptRow> out;
  for (const auto& mb : s.micro_batches) out.insert(out.end(), mb.begin(), mb.end());
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(rl_prompt_groups)

BOOST_AUTO_TEST_CASE(chunks_repeats_reuse_and_epochs) {
  // N = 22, U = 4 * 1 * 2 / 2 = 4: 5 chunks per epoch (2 examples dropped), each used mu = 3 times.
  const int64_t N = 22, G = 2, mu = 3, b = 4, GA = 2;
  PromptGroups pg(N, grpo(G, mu), b, GA, 1, 0, 42);
  BOOST_TEST(pg.unique_prompts() == 4);
  BOOST_TEST(pg.rows_per_step() == 8);
  BOOST_TEST(pg.chunks_per_epoch() == 5);
  BOOST_TEST(pg.steps_per_epoch() == 15);
  for (int64_t epoch = 0; epoch < 3; ++epoch) {
    const auto perm = pg.permutation(epoch);
    std::vector<int64_t> sorted = perm;
    std::sort(sorted.begin(), sorted.end());
    for (int64_t i = 0; i < N; ++i) BOOST_TEST(sorted[static_cast<size_t>(i)] == i);
    std::vector<int64_t> seen;
    for (int64_t c = 0; c < 5; ++c) {
      std::vector<PromptRow> first;
      for (int64_t r = 0; r < mu; ++r) {
        const auto s = pg.next_step();
        BOOST_TEST(s.epoch == epoch);
        BOOST_TEST(s.chunk == c);
        BOOST_TEST(s.reuse == r);
        BOOST_TEST(s.fresh == (r == 0));
        BOOST_TEST(s.rollout == epoch * 5 + c);
        BOOST_REQUIRE(s.micro_batches.size() == static_cast<size_t>(GA));
        for (const auto& mb : s.micro_batches) {
          BOOST_REQUIRE(mb.size() == static_cast<size_t>(b));
          check_whole_groups(mb, G);
        }
        const auto rows = flatten(s);
        if (r == 0) {
          first = rows;
          // The chunk's U prompts in permutation order, G copies each; group ids rollout * U + j.
          for (size_t q = 0; q < rows.size(); ++q) {
            const auto j = static_cast<int64_t>(q) / G;
            BOOST_TEST(rows[q].example == perm[static_cast<size_t>(c * 4 + j)]);
            BOOST_TEST(rows[q].group == (epoch * 5 + c) * 4 + j);
          }
          for (size_t q = 0; q < rows.size(); q += static_cast<size_t>(G)) seen.push_back(rows[q].example);
        } else {
          BOOST_TEST((rows == first));  // reuse: the same rows, the same group ids
        }
      }
    }
    // 20 distinct examples per epoch: the last permutation entries (incomplete chunk) are dropped.
    BOOST_TEST(std::set<int64_t>(seen.begin(), seen.end()).size() == 20u);
    BOOST_TEST((std::find(seen.begin(), seen.end(), perm[20]) == seen.end()));
  }
  BOOST_TEST((pg.permutation(0) != pg.permutation(1)));
  // Every rank draws the same permutation (rank 0's stream), whatever the seed of the others.
  PromptGroups other(N, grpo(G, mu), 2, GA, 2, 1, 42);
  BOOST_TEST((other.permutation(4) == pg.permutation(4)));
}

BOOST_AUTO_TEST_CASE(two_ranks_equal_one_rank_with_twice_the_batch) {
  const int64_t N = 37, G = 3, mu = 2, GA = 2;
  PromptGroups one(N, grpo(G, mu), 12, GA, 1, 0, 7);
  PromptGroups r0(N, grpo(G, mu), 6, GA, 2, 0, 7), r1(N, grpo(G, mu), 6, GA, 2, 1, 7);
  BOOST_TEST(one.unique_prompts() == 8);
  BOOST_TEST(r0.unique_prompts() == 8);
  for (int step = 0; step < 30; ++step) {
    const auto a = one.next_step(), s0 = r0.next_step(), s1 = r1.next_step();
    BOOST_TEST(s0.fresh == a.fresh);
    BOOST_TEST(s1.reuse == a.reuse);
    for (size_t k = 0; k < static_cast<size_t>(GA); ++k) {
      check_whole_groups(s0.micro_batches[k], G);
      check_whole_groups(s1.micro_batches[k], G);
      auto both = s0.micro_batches[k];
      both.insert(both.end(), s1.micro_batches[k].begin(), s1.micro_batches[k].end());
      BOOST_TEST((both == a.micro_batches[k]), "step " << step << " micro-batch " << k);
      // No group spans the two ranks.
      for (const auto& x : s0.micro_batches[k])
        for (const auto& y : s1.micro_batches[k]) BOOST_TEST(x.group != y.group);
    }
  }
}

BOOST_AUTO_TEST_CASE(state_restores_mid_mu_cycle_and_across_epochs) {
  const int64_t N = 13, G = 2, mu = 4, b = 2, GA = 3;  // U = 3: 4 chunks, 16 steps per epoch
  PromptGroups ref(N, grpo(G, mu), b, GA, 1, 0, 5);
  std::vector<PromptStep> steps;
  for (int i = 0; i < 40; ++i) steps.push_back(ref.next_step());
  for (int stop : {0, 1, 6, 15, 16, 17, 30}) {
    PromptGroups run(N, grpo(G, mu), b, GA, 1, 0, 5);
    for (int i = 0; i < stop; ++i) run.next_step();
    const auto saved = run.state();
    PromptGroups resumed(N, grpo(G, mu), b, GA, 1, 0, 5);
    resumed.restore(saved);
    BOOST_TEST((resumed.state() == saved));
    for (int i = stop; i < 40; ++i) {
      const auto s = resumed.next_step();
      const auto& e = steps[static_cast<size_t>(i)];
      BOOST_TEST((s.micro_batches == e.micro_batches), "stop " << stop << " step " << i);
      BOOST_TEST(s.fresh == e.fresh);
      BOOST_TEST(s.reuse == e.reuse);
      BOOST_TEST(s.rollout == e.rollout);
      BOOST_TEST(s.epoch == e.epoch);
    }
  }
  // The state after 6 steps: epoch 0, 6 steps x 6 rows; reuse 2 of chunk 1.
  PromptGroups run(N, grpo(G, mu), b, GA, 1, 0, 5);
  for (int i = 0; i < 6; ++i) run.next_step();
  BOOST_TEST(run.state().epoch == 0);
  BOOST_TEST(run.state().cursor == 36);
  // States that do not fit this layout.
  BOOST_CHECK_THROW(run.restore({0, 35}), core::FormatError);
  BOOST_CHECK_THROW(run.restore({0, 17 * 6}), core::FormatError);
  BOOST_CHECK_THROW(run.restore({-1, 0}), core::FormatError);
}

BOOST_AUTO_TEST_CASE(errors) {
  // U = 8 unique prompts per step but 5 examples.
  BOOST_CHECK_THROW(PromptGroups(5, grpo(2, 1), 4, 2, 2, 0, 1), core::ConfigError);
  // G does not divide the per-device batch.
  BOOST_CHECK_THROW(PromptGroups(50, grpo(4, 1), 6, 2, 1, 0, 1), core::ConfigError);
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------------------------

namespace {

struct Fixture {
  tokenizer::Tokenizer tok = tokenizer::Tokenizer::load(tokenizer::Tokenizer::kBuiltinByteLevel);
  tokenizer::ChatTemplate chat = tokenizer::ChatTemplate::for_tokenizer(tok);
  tasks::TasksConfig tasks_cfg;
  decode::DecodeConfig dcfg;
  decode::DecodePlan plan;
  GrpoConfig gcfg = grpo(2, 2);
  core::RngStream stream{42, 0, core::RngPurpose::Sampling};
  at::Generator gen = decode::sampling_generator(stream, torch::kCPU);

  Fixture() {
    dcfg.gen_length = 16, dcfg.steps = 8, dcfg.block_length = 8;
    plan = decode::make_plan(dcfg);
  }
  RolloutInputs inputs(decode::Denoiser& den, const tasks::Task& task, const std::vector<tasks::Example>& ex) {
    return RolloutInputs{.denoiser = den,
                         .tokenizer = tok,
                         .chat = chat,
                         .task = task,
                         .examples = ex,
                         .tasks_cfg = tasks_cfg,
                         .decode_cfg = dcfg,
                         .plan = plan,
                         .grpo = gcfg,
                         .gen = gen};
  }
};

decode::LladaDenoiser tiny_denoiser() {
  model::LladaModel m(model::preset("tiny"), 13);
  m->eval();
  return decode::LladaDenoiser(m);
}

// Rows 0,0 / 2,2 / 1,1 (groups 10, 11, 12).
std::vector<PromptRow> three_groups() {
  return {{0, 10}, {0, 10}, {2, 11}, {2, 11}, {1, 12}, {1, 12}};
}

std::vector<tasks::Example> sudoku_examples() {
  tasks::SudokuGenOptions o;
  o.count = 3;
  o.seed = 11;
  return tasks::generate_sudoku(o);
}

std::vector<tasks::Example> countdown_examples() {
  tasks::CountdownGenOptions o;
  o.count = 3;
  o.seed = 3;
  return tasks::generate_countdown(o);
}

// A task with two reward components: length of the text (weight 2) and NaN for even example
// lines, 3 otherwise (weight 0.5): NaN must count as 0 in the total.
class TwoRewardTask final : public tasks::Task {
 public:
  std::string name() const override { return "two_reward"; }
  std::vector<tasks::Example> read(const std::string&) const override { return {}; }
  std::string train_content(const tasks::Example& ex) const override { return ex.question; }
  std::string eval_content(const tasks::Example& ex) const override { return ex.question; }
  std::string eval_question(const tasks::Example& ex) const override { return ex.question; }
  std::vector<tasks::RewardComponent> rewards(const tasks::TasksConfig&) const override {
    return {{"length", 2.0, [](std::string_view r, const tasks::Example&) { return static_cast<double>(r.size()); }},
            {"maybe", 0.5, [](std::string_view, const tasks::Example& ex) {
               return ex.line % 2 == 0 ? std::numeric_limits<double>::quiet_NaN() : 3.0;
             }}};
  }
  tasks::EvalScore evaluate(std::string_view, const tasks::Example&) const override { return {}; }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(rl_rollout)

BOOST_AUTO_TEST_CASE(left_truncate_and_completion_mask_by_hand) {
  BOOST_TEST((left_truncate({1, 2, 3, 4, 5, 6}, 4) == std::vector<int64_t>{3, 4, 5, 6}));
  BOOST_TEST((left_truncate({1, 2, 3}, 0) == std::vector<int64_t>{1, 2, 3}));
  BOOST_TEST((left_truncate({1, 2, 3}, 5) == std::vector<int64_t>{1, 2, 3}));
  const int64_t E = 257;
  const auto c =
      torch::tensor(std::vector<int64_t>{5, E, 6, E, 1, 2, 3, 4, E, 1, 1, 1, 7, 7, 7, E}, torch::kLong).reshape({4, 4});
  const auto expect =
      torch::tensor(std::vector<float>{1, 1, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1}, torch::kFloat).reshape({4, 4});
  const auto m = completion_mask(c, E);
  BOOST_TEST(m.scalar_type() == torch::kFloat);
  BOOST_TEST(torch::equal(m, expect));
  BOOST_TEST(torch::equal(completion_mask(c.to(torch::kInt), E), expect));
}

BOOST_AUTO_TEST_CASE(left_truncation_keeps_the_last_tokens) {
  Fixture f;
  auto den = tiny_denoiser();
  const auto& task = tasks::find_task("sudoku");
  const auto ex = sudoku_examples();
  f.gcfg.max_prompt_length = 48;
  const auto in = f.inputs(den, task, ex);
  const auto rows = three_groups();
  const auto r = rollout(in, rows);
  BOOST_REQUIRE(r.rows() == 6);
  BOOST_TEST(r.prompt_ids.size(1) == 48);
  BOOST_TEST(r.prompt_mask.all().item<bool>());
  for (int64_t b = 0; b < 6; ++b) {
    const auto full = encode_train_prompt(in, ex[static_cast<size_t>(rows[static_cast<size_t>(b)].example)]);
    BOOST_REQUIRE(full.size() > 48u);
    // The prompt ends with the assistant header: the truncation kept the end, not the start.
    const std::vector<tokenizer::TokenId> kept(full.end() - 48, full.end());
    const std::string text = f.tok.decode(kept);
    BOOST_TEST(text.substr(text.size() - 28) == "assistant<|end_header_id|>\n\n");
    for (int64_t j = 0; j < 48; ++j) BOOST_TEST(r.prompt_ids[b][j].item<int64_t>() == full[full.size() - 48 + j]);
  }
  BOOST_TEST(r.completion.sizes() == torch::IntArrayRef({6, 16}));
  BOOST_TEST(r.completion.device().is_cpu());
  BOOST_TEST(r.decode_steps == f.plan.num_steps());
  BOOST_TEST(r.forwards == f.plan.num_steps());
  BOOST_TEST(r.seconds > 0);
  BOOST_TEST((r.example == std::vector<int64_t>{0, 0, 2, 2, 1, 1}));
  BOOST_TEST((r.group == std::vector<int64_t>{10, 10, 11, 11, 12, 12}));
  BOOST_TEST(r.trace.step_map.ge(0).all().item<bool>());
  BOOST_TEST(torch::equal(r.completion_mask, completion_mask(r.completion, den.eos_id())));
  // Rewards: the task's function on the texts; texts: the whole completion without special tokens.
  const auto comps = task.rewards(f.tasks_cfg);
  BOOST_REQUIRE(r.rewards.sizes() == torch::IntArrayRef({6, 1}));
  for (int64_t b = 0; b < 6; ++b) {
    std::vector<tokenizer::TokenId> ids;
    for (int64_t j = 0; j < 16; ++j) ids.push_back(static_cast<tokenizer::TokenId>(r.completion[b][j].item<int64_t>()));
    BOOST_TEST(r.texts[static_cast<size_t>(b)] == f.tok.decode(ids, true));
    const auto& e = ex[static_cast<size_t>(rows[static_cast<size_t>(b)].example)];
    const double want = tasks::sudoku_reward(r.texts[static_cast<size_t>(b)], e.question, e.solution);
    BOOST_TEST(r.rewards[b][0].item<float>() == static_cast<float>(want));
    BOOST_TEST(r.reward[b].item<float>() == static_cast<float>(want));
  }
}

BOOST_AUTO_TEST_CASE(prompts_of_different_lengths_are_left_padded) {
  Fixture f;
  auto den = tiny_denoiser();
  const auto& task = tasks::find_task("countdown");
  const auto ex = countdown_examples();
  f.gcfg.max_prompt_length = 0;
  const auto in = f.inputs(den, task, ex);
  std::vector<size_t> lengths;
  for (const auto& e : ex) lengths.push_back(encode_train_prompt(in, e).size());
  BOOST_TEST_MESSAGE("countdown prompt lengths " << lengths[0] << " " << lengths[1] << " " << lengths[2]);
  const auto rows = three_groups();
  const auto r = rollout(in, rows);
  const int64_t P = r.prompt_ids.size(1);
  BOOST_TEST(P == static_cast<int64_t>(*std::max_element(lengths.begin(), lengths.end())));
  for (int64_t b = 0; b < 6; ++b) {
    const auto full = encode_train_prompt(in, ex[static_cast<size_t>(rows[static_cast<size_t>(b)].example)]);
    const int64_t pad = P - static_cast<int64_t>(full.size());
    for (int64_t j = 0; j < P; ++j) {
      BOOST_TEST(r.prompt_mask[b][j].item<bool>() == (j >= pad));
      BOOST_TEST(r.prompt_ids[b][j].item<int64_t>() == (j < pad ? den.pad_id() : full[static_cast<size_t>(j - pad)]));
    }
    const auto& e = ex[static_cast<size_t>(rows[static_cast<size_t>(b)].example)];
    BOOST_TEST(r.rewards[b][0].item<float>() ==
               static_cast<float>(tasks::countdown_reward(r.texts[static_cast<size_t>(b)], e.numbers, e.target)));
  }
}

BOOST_AUTO_TEST_CASE(generation_chunks_equal_one_call_at_temperature_zero) {
  auto den = tiny_denoiser();
  const auto& task = tasks::find_task("countdown");
  const auto ex = countdown_examples();
  auto run = [&](int64_t chunk) {
    Fixture f;
    f.gcfg.max_prompt_length = 0;
    f.gcfg.generation_batch_size = chunk;
    return rollout(f.inputs(den, task, ex), three_groups());
  };
  const auto one = run(0);
  for (int64_t chunk : {2, 4}) {
    const auto r = run(chunk);
    BOOST_TEST(r.forwards == one.forwards * (chunk == 2 ? 3 : 2));
    BOOST_TEST(torch::equal(r.prompt_ids, one.prompt_ids));
    BOOST_TEST(torch::equal(r.prompt_mask, one.prompt_mask));
    BOOST_TEST(torch::equal(r.completion, one.completion));
    BOOST_TEST(torch::equal(r.completion_mask, one.completion_mask));
    BOOST_TEST(torch::equal(r.trace.step_map, one.trace.step_map));
    BOOST_TEST(torch::allclose(r.trace.confidence, one.trace.confidence));
    BOOST_TEST(torch::equal(r.trace.step_counts, one.trace.step_counts));
    BOOST_TEST((r.texts == one.texts));
    BOOST_TEST(torch::equal(r.rewards, one.rewards));
  }
}

BOOST_AUTO_TEST_CASE(scripted_completion_texts_keep_text_after_eos_and_score) {
  // A denoiser that writes "<answer>\n<solution of example 0>\n</answer>", EOS, "xy", EOS... in
  // every row: rows of example 0 score 1, the others their share of matching cells.
  Fixture f;
  const auto ex = sudoku_examples();
  const auto& task = tasks::find_task("sudoku");
  const int64_t E = 257, M = 258, V = 264, L = 48;
  const auto body = f.tok.encode("<answer>\n" + ex[0].solution + "\n</answer>");
  const auto tail = f.tok.encode("xy");
  std::vector<int64_t> target(body.begin(), body.end());
  target.push_back(E);
  target.insert(target.end(), tail.begin(), tail.end());
  while (static_cast<int64_t>(target.size()) < L) target.push_back(E);
  const int64_t first_eos = static_cast<int64_t>(body.size());
  const auto tgt = torch::tensor(target, torch::kLong);
  test::ScriptedDenoiser den(V, M, E, [&](const torch::Tensor& tokens) {
    const int64_t B = tokens.size(0), T = tokens.size(1);
    auto logits = torch::zeros({B, T, V});
    auto want = torch::cat({torch::zeros({T - L}, torch::kLong), tgt});  // prompt positions: anything
    logits.scatter_(2, want.view({1, T, 1}).expand({B, T, 1}), 20.0);
    return logits;
  });
  f.dcfg.gen_length = L, f.dcfg.steps = 6, f.dcfg.block_length = 48;
  f.plan = decode::make_plan(f.dcfg);
  f.gcfg.max_prompt_length = 20;
  const auto rows = three_groups();
  const auto r = rollout(f.inputs(den, task, ex), rows);
  BOOST_TEST(torch::equal(r.completion, tgt.unsqueeze(0).expand({6, L})));
  const std::string text = "<answer>\n" + ex[0].solution + "\n</answer>xy";
  for (int64_t b = 0; b < 6; ++b) {
    BOOST_TEST(r.texts[static_cast<size_t>(b)] == text);
    for (int64_t j = 0; j < L; ++j) BOOST_TEST(r.completion_mask[b][j].item<float>() == (j <= first_eos ? 1.f : 0.f));
    const auto& e = ex[static_cast<size_t>(rows[static_cast<size_t>(b)].example)];
    BOOST_TEST(r.reward[b].item<float>() == static_cast<float>(tasks::sudoku_reward(text, e.question, e.solution)));
  }
  BOOST_TEST(r.reward[0].item<float>() == 1.f);
  BOOST_TEST(r.reward[2].item<float>() < 1.f);
}

BOOST_AUTO_TEST_CASE(weighted_total_counts_nan_components_as_zero) {
  Fixture f;
  auto den = tiny_denoiser();
  TwoRewardTask task;
  std::vector<tasks::Example> ex(3);
  for (size_t i = 0; i < ex.size(); ++i) {
    ex[i].question = "Question number " + std::to_string(i * 7);
    ex[i].line = static_cast<int64_t>(i);
  }
  const auto rows = three_groups();
  const auto r = rollout(f.inputs(den, task, ex), rows);
  BOOST_REQUIRE(r.rewards.sizes() == torch::IntArrayRef({6, 2}));
  for (int64_t b = 0; b < 6; ++b) {
    const auto& e = ex[static_cast<size_t>(rows[static_cast<size_t>(b)].example)];
    const auto len = static_cast<float>(r.texts[static_cast<size_t>(b)].size());
    BOOST_TEST(r.rewards[b][0].item<float>() == len);
    const bool nan = e.line % 2 == 0;
    BOOST_TEST(std::isnan(r.rewards[b][1].item<float>()) == nan);
    BOOST_TEST(r.reward[b].item<float>() == 2 * len + (nan ? 0.f : 1.5f));
  }
  BOOST_TEST((reward_names(task, f.tasks_cfg) == std::vector<std::string>{"length", "maybe"}));
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(rl_trajectory_record)

BOOST_AUTO_TEST_CASE(round_trips_through_the_trajectory_file) {
  Fixture f;
  auto den = tiny_denoiser();
  const auto& task = tasks::find_task("countdown");
  const auto ex = countdown_examples();
  f.gcfg.max_prompt_length = 0;
  auto batch = rollout(f.inputs(den, task, ex), three_groups());
  const int64_t B = batch.rows(), L = batch.completion.size(1);
  // Distinct rewards so the advantages are not all 0.
  batch.reward = batch.reward + torch::arange(B, torch::kFloat) * 0.25;
  batch.advantages = group_advantages(batch.reward, 2, AdvantageScaling::None).advantages;

  // No advantages: refused.
  RolloutBatch no_adv = batch;
  no_adv.advantages = torch::Tensor();
  BOOST_CHECK_THROW(to_trajectory(no_adv, 3, "{}"), core::InternalError);
  // One-step / CJ-GRPO [B, L] old log-probs are stored as is; diffu-GRPO's [mu, B, L] as old_logp[0].
  RolloutBatch one_step = batch;
  one_step.old_logp = -torch::rand({B, L});
  BOOST_TEST(torch::equal(to_trajectory(one_step, 3, "{}").old_logprob, one_step.old_logp));
  RolloutBatch bad = batch;
  bad.old_logp = torch::zeros({B, L + 1});
  BOOST_CHECK_THROW(to_trajectory(bad, 3, "{}"), core::InternalError);
  BOOST_TEST(!to_trajectory(batch, 3, "{}").old_logprob.defined());
  BOOST_TEST(!to_trajectory(RolloutBatch{}, 3, "{}").completion_ids.defined());

  batch.old_logp = -torch::rand({2, B, L});
  const std::string decoding = R"({"steps": 8})";
  const auto t = to_trajectory(batch, 5, decoding);
  BOOST_TEST(t.step == 5);
  BOOST_TEST(t.decoding == decoding);
  BOOST_TEST(torch::equal(t.old_logprob, batch.old_logp[0]));
  BOOST_TEST(torch::equal(t.group_id, torch::tensor(batch.group, torch::kLong)));

  test::TempDir dir;
  const auto tdir = (dir.path() / "trajectories").string();
  io::TrajectoryMeta meta;
  meta.reward_names = reward_names(task, f.tasks_cfg);
  meta.mask_token_id = den.mask_id();
  {
    io::TrajectoryWriter w(MPI_COMM_SELF, tdir, meta, io::TrajectoryConfig{});
    w.append(t);
    w.close();
  }
  const auto files = io::TrajectoryReader::run_files(tdir);
  BOOST_REQUIRE(files.size() == 1u);
  io::TrajectoryReader rd(files[0]);
  BOOST_TEST((rd.reward_names() == std::vector<std::string>{"countdown"}));
  BOOST_TEST(rd.has_old_logprob());
  BOOST_TEST(rd.completion_length() == L);
  BOOST_REQUIRE(rd.steps().size() == 1u);
  BOOST_TEST(rd.steps()[0].decoding == decoding);
  const auto samples = rd.step_samples(0);
  BOOST_REQUIRE(samples.size() == static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) {
    const auto& s = samples[static_cast<size_t>(b)];
    BOOST_TEST(s.step == 5);
    BOOST_TEST(s.group_id == batch.group[static_cast<size_t>(b)]);
    std::vector<int32_t> prompt;
    for (int64_t j = 0; j < batch.prompt_ids.size(1); ++j)
      if (batch.prompt_mask[b][j].item<bool>())
        prompt.push_back(static_cast<int32_t>(batch.prompt_ids[b][j].item<int64_t>()));
    BOOST_TEST((s.prompt_ids == prompt));
    for (int64_t j = 0; j < L; ++j) {
      const auto u = static_cast<size_t>(j);
      BOOST_TEST(s.completion_ids[u] == batch.completion[b][j].item<int64_t>());
      BOOST_TEST(s.step_map[u] == batch.trace.step_map[b][j].item<int64_t>());
      BOOST_TEST(s.confidence[u] == batch.trace.confidence[b][j].item<float>());
      BOOST_TEST(s.old_logprob[u] == batch.old_logp[0][b][j].item<float>());
    }
    BOOST_TEST(s.rewards.at(0) == static_cast<double>(batch.rewards[b][0].item<float>()));
    BOOST_TEST(s.reward == static_cast<double>(batch.reward[b].item<float>()));
    BOOST_TEST(s.advantage == static_cast<double>(batch.advantages[b].item<float>()));
    // The final state from the step map is the completion.
    const auto last = s.state_after(s.num_decoding_steps(), static_cast<int32_t>(den.mask_id()));
    BOOST_TEST((last == s.completion_ids));
  }
}

BOOST_AUTO_TEST_SUITE_END()
