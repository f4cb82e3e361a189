// SFT on a CUDA device (label gpu): the loss on the GPU equals the CPU's, AdamW with bf16
// parameters and f32 master weights on the GPU follows the CPU's f32 run, and `mdrl sft` trains
// the tiny model in bf16 on cuda:0 end to end. Without a CUDA device every case reports
// "no CUDA device: skipped", which CTest counts as a skip (SKIP_REGULAR_EXPRESSION).
#include <torch/torch.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>

#include "model/llada.hpp"
#include "model/llada_config.hpp"
#include "process_support.hpp"
#include "sft/sft_objective.hpp"
#include "train/optimizer.hpp"

using namespace mdrl;

namespace {
bool have_cuda() {
  if (torch::cuda::is_available()) return true;
  BOOST_TEST_MESSAGE("no CUDA device: skipped");
  std::cout << "no CUDA device: skipped" << std::endl;
  return false;
}

sft::SftBatch make_batch() {
  std::vector<sft::SftSequence> seqs(4);
  for (size_t i = 0; i < seqs.size(); ++i) {
    for (int j = 0; j < 50 + static_cast<int>(i) * 7; ++j) seqs[i].ids.push_back(32 + (j * 7 + static_cast<int>(i)) % 90);
    seqs[i].prompt_len = 20;
  }
  std::vector<const sft::SftSequence*> ptrs;
  for (const auto& s : seqs) ptrs.push_back(&s);
  return sft::collate(ptrs, 257, 96);
}
}  // namespace

BOOST_AUTO_TEST_CASE(loss_on_the_gpu_equals_the_cpu) {
  if (!have_cuda()) return;
  model::LladaModel cpu(model::preset("tiny"), 4);
  model::LladaModel gpu(model::preset("tiny"), 4);
  gpu->to(torch::Device("cuda:0"));
  const auto batch = make_batch();
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(9);
  const auto noised = sft::forward_process(batch, 258, 1e-3, gen);
  const auto a = sft::sft_loss(*cpu, batch, noised, sft::LossNorm::Reference, torch::kCPU);
  const auto b = sft::sft_loss(*gpu, batch, noised, sft::LossNorm::Reference, torch::Device("cuda:0"));
  BOOST_TEST(a.masked == b.masked);
  const double la = a.loss.item<double>(), lb = b.loss.item<double>();
  BOOST_TEST(std::abs(la - lb) < 1e-4 * la, la << " vs " << lb);
  gpu->to(torch::kBFloat16);
  const auto c = sft::sft_loss(*gpu, batch, noised, sft::LossNorm::Reference, torch::Device("cuda:0"));
  BOOST_TEST(std::abs(la - c.loss.item<double>()) < 3e-2 * la);
}

BOOST_AUTO_TEST_CASE(bf16_adamw_on_the_gpu_follows_f32_on_the_cpu) {
  if (!have_cuda()) return;
  torch::manual_seed(1);
  const auto init = torch::randn({16, 8});
  auto p32 = init.clone().set_requires_grad(true);
  auto p16 = init.to(torch::Device("cuda:0"), torch::kBFloat16).set_requires_grad(true);
  train::AdamW o32({{"w", p32}}, {0.9, 0.999, 1e-8, 0.1, false});
  train::AdamW o16({{"w", p16}}, {0.9, 0.999, 1e-8, 0.1, false});
  for (int s = 0; s < 30; ++s) {
    torch::manual_seed(10 + s);
    const auto target = torch::randn({16, 8});
    (p32 - target).pow(2).sum().backward();
    (p16.to(torch::kFloat) - target.to(p16.device())).pow(2).sum().backward();
    o32.step(1e-2);
    o16.step(1e-2);
    o32.zero_grad();
    o16.zero_grad();
  }
  BOOST_TEST((p16.to(torch::kCPU, torch::kFloat) - p32).abs().max().item<double>() < 2e-2);
  BOOST_TEST((p32 - init).abs().max().item<double>() > 0.1);
}

BOOST_AUTO_TEST_CASE(mdrl_sft_trains_in_bf16_on_cuda) {
  if (!have_cuda()) return;
  test::TempDir dir;
  const auto run = dir.path() / "run";
  const auto r = test::run_mdrl(
      "sft --dist.device=cuda --model.preset=tiny --model.dtype=bf16 --sft.task=sudoku --sft.prompt_style=bare"
      " --sft.response_style=answer --tasks.generated_count=500 --sft.max_length=112 --train.lr=3e-3"
      " --train.batch_size=16 --train.grad_accum=1 --train.max_steps=40 --train.eval_every=40 --sft.eval_decode=16"
      " --decode.gen_length=40 --decode.block_length=40 --decode.steps=40 --run.dir=" + run.string());
  BOOST_REQUIRE_MESSAGE(r.status == 0, r.output);
  BOOST_TEST(std::filesystem::exists(run / "final" / "model.safetensors"));
  std::ifstream in(run / "metrics.jsonl");
  std::string first, line, last_step;
  std::getline(in, first);
  while (std::getline(in, line))
    if (line.find("\"loss\"") != std::string::npos) last_step = line;
  auto loss_of = [](const std::string& row) {
    const auto at = row.find("\"loss\":");
    return std::stod(row.substr(at + 7));
  };
  BOOST_TEST(loss_of(last_step) < 0.7 * loss_of(first), first << " / " << last_step);
}
