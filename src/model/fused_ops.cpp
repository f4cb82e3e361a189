#include "model/fused_ops.hpp"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>

namespace mdrl::model::fused {
namespace {

std::atomic<bool> g_enabled{true};

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// f32 only: bf16 versions of these loops measured 0.85-0.93x the composite on a quiet machine
// (ATen's AVX-512 bf16 conversions beat them), so bf16 keeps the composite.
bool fusable_dtype(const at::Tensor& t) {
  return t.scalar_type() == at::kFloat;
}

// ---- RMSNorm -------------------------------------------------------------------------------------

// The row loops are compiled for AVX-512, AVX2 and baseline x86-64, picked at load time.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define MDRL_VEC_CLONES __attribute__((target_clones("arch=skylake-avx512", "arch=haswell", "default")))
#else
#define MDRL_VEC_CLONES
#endif

MDRL_VEC_CLONES void rms_row(const float* xi, const float* w, float* yi, float* rinv, int64_t d, float eps) {
  float acc[16] = {};
  int64_t j = 0;
  for (; j + 16 <= d; j += 16)
    for (int k = 0; k < 16; ++k) acc[k] += xi[j + k] * xi[j + k];
  float s = 0;
  for (float a : acc) s += a;
  for (; j < d; ++j) s += xi[j] * xi[j];
  const float r = 1.0f / std::sqrt(s / static_cast<float>(d) + eps);
  *rinv = r;
  for (j = 0; j < d; ++j) {
    const float normed = xi[j] * r;  // rounded before the weight multiply, as the composite
    yi[j] = normed * w[j];
  }
}

void rms_rows(const float* x, const float* w, float* y, float* rinv, int64_t n, int64_t d, float eps) {
  at::parallel_for(0, n, 16, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) rms_row(x + i * d, w, y + i * d, rinv + i, d, eps);
  });
}

class RmsNormFn : public torch::autograd::Function<RmsNormFn> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x_in, const at::Tensor& w, double eps) {
    const at::Tensor x = x_in.contiguous();
    const int64_t d = x.size(-1), n = x.numel() / d;
    at::Tensor y = at::empty_like(x);
    at::Tensor r = at::empty({n}, x.options().dtype(at::kFloat));
    const at::Tensor wc = w.contiguous();
    rms_rows(x.data_ptr<float>(), wc.data_ptr<float>(), y.data_ptr<float>(), r.data_ptr<float>(), n, d,
             static_cast<float>(eps));
    ctx->save_for_backward({x, wc, r});
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor &x = saved[0], &w = saved[1];
    auto shape = x.sizes().vec();
    shape.back() = 1;
    const at::Tensor r = saved[2].view(shape);                        // [..., 1]
    const at::Tensor n = x * r;                                       // normalised
    const at::Tensor gy = grad[0];                                    // [..., d]
    const at::Tensor gw = (gy * n).reshape({-1, x.size(-1)}).sum(0);  // [d]
    const at::Tensor gn = gy * w;
    const at::Tensor gx = r * (gn - n * (gn * n).mean(-1, true));
    return {gx, gw, at::Tensor()};
  }
};

// ---- RoPE ----------------------------------------------------------------------------------------

MDRL_VEC_CLONES void rope_head(const float* src, const float* c, const float* s, float* dst, int64_t half) {
  for (int64_t j = 0; j < half; ++j) {
    const float a = src[j], z = src[j + half];
    const float lo = a * c[j], lo_rot = -z * s[j];
    const float hi = z * c[j + half], hi_rot = a * s[j + half];
    dst[j] = lo + lo_rot;
    dst[j + half] = hi + hi_rot;
  }
}

void rope_rows(const float* t, std::array<int64_t, 3> stride, const float* cos, const float* sin, float* out,
               int64_t B, int64_t T_len, int64_t H, int64_t h) {
  const int64_t half = h / 2;
  at::parallel_for(0, B * T_len, 4, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int64_t b = row / T_len, p = row % T_len;
      const float* c = cos + p * h;
      const float* s = sin + p * h;
      for (int64_t head = 0; head < H; ++head) {
        const float* src = t + b * stride[0] + p * stride[1] + head * stride[2];
        rope_head(src, c, s, out + (row * H + head) * h, half);
      }
    }
  });
}

class RopeFn : public torch::autograd::Function<RopeFn> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& t, const at::Tensor& cos, const at::Tensor& sin) {
    const int64_t B = t.size(0), T_len = t.size(1), H = t.size(2), h = t.size(3);
    at::Tensor out = at::empty({B, T_len, H, h}, t.options());
    const at::Tensor c = cos.contiguous(), s = sin.contiguous();
    const std::array<int64_t, 3> stride = {t.stride(0), t.stride(1), t.stride(2)};
    rope_rows(t.data_ptr<float>(), stride, c.data_ptr<float>(), s.data_ptr<float>(), out.data_ptr<float>(), B, T_len,
              H, h);
    ctx->save_for_backward({c, s});
    return out.transpose(1, 2);  // [B, H, T, h]
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor &cos = saved[0], &sin = saved[1];  // [T, h]
    const at::Tensor& g = grad[0];                      // [B, H, T, h]
    const int64_t half = g.size(-1) / 2;
    const at::Tensor gs = g * sin;
    // rotate_half^T(v) = [v2, -v1]
    const at::Tensor rot_t = at::cat({gs.narrow(-1, half, half), -gs.narrow(-1, 0, half)}, -1);
    const at::Tensor gt = (g * cos + rot_t).transpose(1, 2);  // [B, T, H, h]
    return {gt, at::Tensor(), at::Tensor()};
  }
};

// ---- SwiGLU --------------------------------------------------------------------------------------

class SwigluFn : public torch::autograd::Function<SwigluFn> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& gate_in, const at::Tensor& up_in) {
    const at::Tensor gate = gate_in.contiguous(), up = up_in.contiguous();
    const int64_t n = gate.numel();
    at::Tensor out = at::empty_like(gate);
    const at::Tensor g1 = gate.view({n}), u1 = up.view({n}), o1 = out.view({n});
    // Chunks of 16384 elements that stay in L1/L2 between the two ATen kernels (each vectorised):
    // one pass over memory for the pair instead of two, the composite's roundings. The chunk is a
    // multiple of every vector width, so an element takes the vector path (not a scalar tail)
    // wherever its row sits in the batch: a batch split over ranks gives the same bits.
    constexpr int64_t kChunk = 16384;
    at::parallel_for(0, (n + kChunk - 1) / kChunk, 1, [&](int64_t begin, int64_t end) {
      for (int64_t c = begin; c < end; ++c) {
        const int64_t e0 = c * kChunk, len = std::min(kChunk, n - e0);
        at::Tensor o = o1.narrow(0, e0, len);
        at::silu_out(o, g1.narrow(0, e0, len));
        o.mul_(u1.narrow(0, e0, len));
      }
    });
    ctx->save_for_backward({gate, up});
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor &gate = saved[0], &up = saved[1];
    const at::Tensor gy = grad[0];
    const at::Tensor g_up = gy * at::silu(gate);
    const at::Tensor g_gate = at::silu_backward(gy * up, gate);
    return {g_gate, g_up};
  }
};

}  // namespace

bool enabled() {
  return g_enabled.load(std::memory_order_relaxed);
}
void set_enabled(bool on) {
  g_enabled.store(on, std::memory_order_relaxed);
}

at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps) {
  if (enabled() && x.device().is_cpu() && fusable_dtype(x) && weight.scalar_type() == x.scalar_type() &&
      weight.device().is_cpu() && weight.dim() == 1 && x.size(-1) == weight.size(0) && x.numel() > 0)
    return RmsNormFn::apply(x, weight, eps);
  const at::Tensor x32 = x.to(at::kFloat);
  const at::Tensor normed = x32 * at::rsqrt(x32.pow(2).mean(-1, /*keepdim=*/true) + eps);
  return normed.to(x.scalar_type()) * weight;
}

at::Tensor rope_heads(const at::Tensor& t, const at::Tensor& cos, const at::Tensor& sin) {
  if (enabled() && t.device().is_cpu() && fusable_dtype(t) && t.dim() == 4 && t.stride(3) == 1 &&
      t.size(3) % 2 == 0 && cos.scalar_type() == at::kFloat && sin.scalar_type() == at::kFloat &&
      cos.device().is_cpu() && cos.dim() == 2 && cos.size(0) == t.size(1) && cos.size(1) == t.size(3) &&
      sin.sizes() == cos.sizes() && t.numel() > 0)
    return RopeFn::apply(t, cos, sin);
  const at::Tensor t32 = t.transpose(1, 2).to(at::kFloat);  // [B, H, T, h]
  const int64_t half = t32.size(-1) / 2;
  const at::Tensor rot = at::cat({-t32.narrow(-1, half, half), t32.narrow(-1, 0, half)}, -1);
  return (t32 * cos + rot * sin).to(t.scalar_type());
}

at::Tensor swiglu(const at::Tensor& gate, const at::Tensor& up) {
  if (enabled() && gate.device().is_cpu() && fusable_dtype(gate) && up.scalar_type() == gate.scalar_type() &&
      up.sizes() == gate.sizes() && up.device().is_cpu() && gate.numel() > 0)
    return SwigluFn::apply(gate, up);
  return at::silu(gate) * up;
}

}  // namespace mdrl::model::fused
