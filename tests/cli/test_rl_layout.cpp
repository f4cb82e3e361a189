// Rank layout invariance of one-step GRPO and CJ-GRPO (spec algorithms.md §2.0 step 3, §2.2, §2.3): `mpirun -np 2 mdrl
// one-step-grpo --train.batch_size=4` and a single process with --train.batch_size=8 see the same
// optimizer steps (global micro-batch k of the 1-rank run = the two ranks' micro-batches k side by
// side, rl/prompt_groups.hpp), so per step reward, reward_std, loss, kl and grad_norm and the final
// weights agree up to float reduction order (1e-5 relative).
//
// Why these settings:
// - Greedy rollouts (decode.temperature = 0, no rollout dropout): the completions depend only on the
//   weights and the prompts, not on the per-rank sampling streams. (So the G copies of a prompt
//   decode alike, every group's rewards are equal and the advantages are 0: what moves the weights
//   is the KL term against the frozen reference (beta 0.04) and weight decay. The test pins prompt
//   placement, the old/ref log-probs, the gradient average over ranks and the optimizer, not the
//   advantage path.) diffu-GRPO is not layout-invariant by design: its prompt masks come from a
//   per-rank stream.
// - grpo.loss_norm = sequences: the reference's token normalisation (tokens) divides by the valid
//   tokens of each rank's micro-batch, so a 1 x 8 micro-batch and two 4-row halves weight tokens
//   differently whenever completion lengths differ; only the per-sequence mean averaged over
//   sequences (then over ranks, with equal rows per rank) is the same for both layouts.
// - The kl and clip_ratio metrics are token means over every token of the step (token sums
//   reduced over ranks), so they are layout-invariant whatever the completion lengths.
// - dist.threads = 1 in both runs: no intra-op oversubscription on a small machine.
#include <boost/test/unit_test.hpp>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "io/safetensors.hpp"
#include "process_support.hpp"

using namespace mdrl::test;
namespace fs = std::filesystem;

namespace {
constexpr double kRelTol = 1e-5;
constexpr int kSteps = 6;  // three rollouts, each used mu = 2 times

// Tiny random-init model on generated Sudoku (bare prompts): G 2, mu 2, GA 2, global batch 8.
// No warmup, so weight decay moves the policy off the reference from step 1 and the KL term has
// a gradient from step 2 on.
const std::string kArgs =
    " --model.preset=tiny --rl.task=sudoku --rl.prompt_style=bare --tasks.generated_count=64"
    " --grpo.num_generations=2 --grpo.num_iterations=2 --grpo.beta=0.04 --grpo.loss_norm=sequences"
    " --train.grad_accum=2 --train.lr=1e-3 --train.warmup_ratio=0 --train.max_steps=" +
    std::to_string(kSteps) +
    " --decode.temperature=0 --decode.gen_length=16 --decode.block_length=16 --decode.steps=8"
    " --checkpoint.every=0 --dist.threads=1 --log.level=warn";

std::vector<nlohmann::json> metric_rows(const fs::path& run) {
  std::vector<nlohmann::json> rows;
  std::ifstream in(run / "metrics.jsonl");
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) rows.push_back(nlohmann::json::parse(line));
  return rows;
}

bool close(double a, double b) {
  return std::abs(a - b) <= kRelTol * std::max({std::abs(a), std::abs(b), 1e-7});
}

// `mode` with kArgs + extra: 2 ranks x batch 4 against 1 process x batch 8.
void check_layout(const std::string& mode, const std::string& extra) {
  TempDir dir;
  const auto two = dir.path() / "np2_b4", one = dir.path() / "np1_b8";
  const auto r2 = run_command(env_or_throw("MPIEXEC") + " -np 2 --oversubscribe --bind-to none " +
                              env_or_throw("MDRL_EXE") + " " + mode + " --run.dir=" + two.string() + kArgs + extra +
                              " --train.batch_size=4");
  BOOST_REQUIRE_MESSAGE(r2.status == 0, r2.output);
  const auto r1 = run_mdrl(mode + " --run.dir=" + one.string() + kArgs + extra + " --train.batch_size=8");
  BOOST_REQUIRE_MESSAGE(r1.status == 0, r1.output);

  const auto a = metric_rows(one), b = metric_rows(two);
  BOOST_REQUIRE_EQUAL(a.size(), static_cast<size_t>(kSteps));
  BOOST_REQUIRE_EQUAL(b.size(), static_cast<size_t>(kSteps));
  double max_kl = 0, max_grad = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const auto& x = a[i];
    const auto& y = b[i];
    BOOST_TEST(x["step"] == y["step"]);
    BOOST_TEST(x["rollout_reuse"] == y["rollout_reuse"]);
    BOOST_TEST(x["tokens"] == y["tokens"], "step " << i + 1);
    for (const char* k : {"reward", "reward_std", "loss", "grad_norm", "completion_length"})
      BOOST_TEST(close(x[k].get<double>(), y[k].get<double>()),
                 "step " << i + 1 << " " << k << ": 1 rank x 8 " << x[k].get<double>() << ", 2 ranks x 4 "
                         << y[k].get<double>());
    for (const char* k : {"kl", "clip_ratio"})
      BOOST_TEST(close(x[k].get<double>(), y[k].get<double>()),
                 "step " << i + 1 << " " << k << ": 1 rank x 8 " << x[k].get<double>() << ", 2 ranks x 4 "
                         << y[k].get<double>());
    max_kl = std::max(max_kl, x["kl"].get<double>());
    max_grad = std::max(max_grad, x["grad_norm"].get<double>());
  }
  // Not a vacuous comparison: the policy left the reference and the KL term had a gradient.
  BOOST_TEST(max_kl > 1e-3);
  BOOST_TEST(max_grad > 1e-3);

  // Final weights, tensor by tensor: |a - b| <= 1e-5 * max(1, max |a|).
  const mdrl::io::SafetensorsFile wa((one / "final" / "model.safetensors").string());
  const mdrl::io::SafetensorsFile wb((two / "final" / "model.safetensors").string());
  BOOST_REQUIRE((wa.names() == wb.names()));
  double worst = 0;
  for (const auto& name : wa.names()) {
    const auto ta = wa.tensor(name).to(torch::kDouble), tb = wb.tensor(name).to(torch::kDouble);
    BOOST_REQUIRE_MESSAGE(ta.sizes() == tb.sizes(), name);
    const double diff = (ta - tb).abs().max().item<double>();
    const double scale = std::max(1.0, ta.abs().max().item<double>());
    worst = std::max(worst, diff / scale);
    BOOST_TEST(diff <= kRelTol * scale, name << ": max |1 rank - 2 ranks| = " << diff);
  }
  BOOST_TEST_MESSAGE(mode << ": largest weight difference (relative to max(1, max |w|)): " << worst);
}
}  // namespace

BOOST_AUTO_TEST_SUITE(rl_layout)

BOOST_AUTO_TEST_CASE(two_ranks_of_b_equal_one_rank_of_2b) { check_layout("one-step-grpo", ""); }

// CJ-GRPO with EOSER+ASS rollouts: every row unmasks the same number of tokens at each step, so the
// per-step sequence means (grpo.loss_norm = sequences) average over ranks exactly as over one batch.
BOOST_AUTO_TEST_CASE(cj_grpo_two_ranks_of_b_equal_one_rank_of_2b) {
  check_layout("cj-grpo", " --decode.schedule=ass --decode.steps=4 --decode.block_num=1 --decode.eoser=true");
}

BOOST_AUTO_TEST_SUITE_END()
