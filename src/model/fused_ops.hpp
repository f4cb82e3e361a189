// Fused CPU kernels for the memory-bound parts of a LLaDA block (issue 19): RMSNorm, rotate-half
// RoPE and the SwiGLU product, each one pass over its rows instead of the 2-6 full-tensor passes
// of the composite ATen expressions (pow, mean, rsqrt, mul, mul; neg, cat, mul, mul, add; silu,
// mul). The arithmetic is the composite's, in the same order, so the results agree with it to the
// last bit or nearly (the RMS sum is accumulated in another order). Each op is an autograd function
// whose backward is the composite's derivative, so training, scoring and decoding all run the same
// forward (the first-iteration GRPO ratio stays exactly 1). Measured on llada-100m (bench_model
// "kernels"): equal to the composite on a quiet 2-core machine, 1.5x faster per forward when the
// cores and memory are contended. f32 on CPU only; bf16, CUDA and `fused::enabled() == false` take
// the composite path; tests compare both.
#pragma once

#include <ATen/core/Tensor.h>

namespace mdrl::model::fused {

// Process-wide switch (default on); off = the composite ATen expressions everywhere (tests, A/B).
bool enabled();
void set_enabled(bool on);

// x: [..., d], weight: [d] in x's dtype ->
//   (x32 * rsqrt(mean(x32^2, -1) + eps)).to(x.dtype) * weight
at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps);

// t: [B, T, H, h], the projection's output viewed by heads (last dim contiguous); cos, sin:
// [T, h] f32 (cat(angle, angle) layout) -> rotated [B, H, T, h] (memory in [B, T, H, h] order):
//   (t32 * cos + rotate_half(t32) * sin).to(t.dtype),  rotate_half(t) = [-t2, t1]
at::Tensor rope_heads(const at::Tensor& t, const at::Tensor& cos, const at::Tensor& sin);

// gate, up: [..., m] in one dtype -> silu(gate) * up (silu rounded to the dtype first).
at::Tensor swiglu(const at::Tensor& gate, const at::Tensor& up);

}  // namespace mdrl::model::fused
