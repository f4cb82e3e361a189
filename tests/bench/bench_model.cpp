// Benchmark (label bench): forward throughput and peak memory of LLaDA presets on this device.
// CPU: "tiny" and "llada-100m" for a few (batch, length) pairs, full logits vs logits at 16
// positions per row. GPU (when present): random-initialised "llada-8b" in bf16, batch 1-8 at
// length 256-1024, tokens/s and the fraction of the bf16 peak (FLOPs per spec model.md §7.1;
// peak from MDRL_PEAK_TFLOPS, default 989.4 for H100/H200 SXM). CPU, issue 19: llada-100m at the
// decode benchmark's shape (batch 8 x 173 tokens, LM head on 32 positions per row): f32 with the
// fused RMSNorm/RoPE/SwiGLU kernels on and off, and bf16 ("kernels": seconds per forward, ratios). One JSON object on stdout.
#include <sys/resource.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "model/fused_ops.hpp"
#include "model/llada.hpp"

using namespace mdrl;

namespace {
double seconds_of(const std::function<void()>& fn, const torch::Device& dev, int reps) {
  fn();  // warm-up
  if (dev.is_cuda()) torch::cuda::synchronize();
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < reps; ++i) fn();
  if (dev.is_cuda()) torch::cuda::synchronize();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / reps;
}
double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}
}  // namespace

int main() {
  torch::NoGradGuard no_grad;
  const bool gpu = torch::cuda::is_available();
  std::string rows, kernels;
  auto add = [&](const std::string& r) { rows += (rows.empty() ? "" : ", ") + r; };
  if (!gpu) {
    for (const std::string preset : {"tiny", "llada-100m"}) {
      model::LladaModel m(model::preset(preset), 0);
      m->eval();
      for (auto [B, T] : {std::pair<int64_t, int64_t>{1, 128}, {8, 128}, {8, 256}}) {
        const auto ids = torch::randint(0, 256, {B, T}, torch::kLong);
        const auto pos = torch::randint(0, T, {B, 16}, torch::kLong);
        const int reps = preset == "tiny" ? 20 : 2;
        const double full = seconds_of([&] { m->forward(ids); }, torch::kCPU, reps);
        const double at = seconds_of([&] { m->logits(m->hidden(ids), pos); }, torch::kCPU, reps);
        char buf[320];
        std::snprintf(buf, sizeof buf,
                      "{\"device\": \"cpu\", \"preset\": \"%s\", \"batch\": %ld, \"length\": %ld, "
                      "\"tokens_per_s_full_logits\": %.0f, \"tokens_per_s_logits_at_16\": %.0f, \"peak_rss_mb\": %.0f}",
                      preset.c_str(), static_cast<long>(B), static_cast<long>(T), B * T / full, B * T / at, peak_rss_mb());
        add(buf);
      }
    }
    // At the decode shape.
    {
      model::LladaModel m(model::preset("llada-100m"), 0);
      m->eval();
      const int64_t B = 8, T = 173;
      const auto ids = torch::randint(0, 256, {B, T}, torch::kLong);
      const auto pos = torch::randint(0, T, {B, 32}, torch::kLong);
      // Fused on/off in f32; bf16 (always the composite: the kernels are f32 only) for the dtype ratio.
      model::fused::set_enabled(false);
      const double f32_composite = seconds_of([&] { m->logits(m->hidden(ids), pos); }, torch::kCPU, 3);
      model::fused::set_enabled(true);
      const double f32_fused = seconds_of([&] { m->logits(m->hidden(ids), pos); }, torch::kCPU, 3);
      m->to(torch::kBFloat16);
      const double bf16 = seconds_of([&] { m->logits(m->hidden(ids), pos); }, torch::kCPU, 3);
      char buf[640];
      std::snprintf(buf, sizeof buf,
                    "{\"preset\": \"llada-100m\", \"batch\": %ld, \"length\": %ld, \"logit_positions\": 32, "
                    "\"seconds_per_forward\": {\"f32_composite\": %.4f, \"f32_fused\": %.4f, \"bf16\": %.4f}, "
                    "\"speedup_fused_f32\": %.3f, \"speedup_bf16_over_f32_fused\": %.3f}",
                    static_cast<long>(B), static_cast<long>(T), f32_composite, f32_fused, bf16,
                    f32_composite / f32_fused, f32_fused / bf16);
      kernels = buf;
      std::fprintf(stderr, "%s\n", buf);
    }
  } else {
    const torch::Device dev(torch::kCUDA, 0);
    const double peak = std::getenv("MDRL_PEAK_TFLOPS") ? std::atof(std::getenv("MDRL_PEAK_TFLOPS")) : 989.4;
    const auto cfg = model::preset("llada-8b");
    model::LladaModel m(cfg, 0);
    m->to(dev, torch::kBFloat16);
    m->eval();
    for (int64_t T : {256, 512, 1024}) {
      for (int64_t B : {1, 8}) {
        const auto ids = torch::randint(0, cfg.vocab_size, {B, T}, torch::TensorOptions().dtype(torch::kLong).device(dev));
        torch::cuda::synchronize();
        const double s = seconds_of([&] { m->forward(ids); }, dev, 5);
        // F(N) = 2 * (block params) * N + 2 * d * V * N (LM head) + 4 * d * N^2 * layers (attention).
        const double n = static_cast<double>(T);
        const double flops = B * (2.0 * 6979584000.0 * n + 2.0 * 4096.0 * 126464.0 * n + 4.0 * 4096.0 * 32.0 * n * n);
        char buf[320];
        std::snprintf(buf, sizeof buf,
                      "{\"device\": \"cuda\", \"preset\": \"llada-8b\", \"dtype\": \"bf16\", \"batch\": %ld, "
                      "\"length\": %ld, \"ms\": %.2f, \"tokens_per_s\": %.0f, \"tflops\": %.1f, \"fraction_of_peak\": %.3f}",
                      static_cast<long>(B), static_cast<long>(T), s * 1e3, B * T / s, flops / s / 1e12,
                      flops / s / 1e12 / peak);
        add(buf);
      }
    }
  }
  std::printf("{\"bench\": \"model_forward\", \"torch_threads\": %d, \"results\": [%s]%s}\n", at::get_num_threads(),
              rows.c_str(), kernels.empty() ? "" : (", \"kernels\": " + kernels).c_str());
  return 0;
}
