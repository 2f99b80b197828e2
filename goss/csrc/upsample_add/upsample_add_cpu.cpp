// CPU implementation of torch.ops.goss.bilinear_upsample_add_ (see upsample_add.h).
//
// The interpolation weights and neighbours of every output row and column are computed once. In
// channels-last, rows (per image) are split over the threads and the innermost loop runs over the
// channels of one pixel, reading the four neighbouring pixels' channel vectors, which are
// contiguous: the compiler vectorises it, and out is read and written once. In the default
// layout, planes (per image and channel) are split over the threads and interpolated along the
// width first, then along the height (contiguous rows). The loops are compiled for the baseline
// instruction set and for AVX2 with FMA, picked at run time (cpu_features.h).
#include <ATen/Parallel.h>
#include <c10/util/Exception.h>
#include <torch/library.h>
#include <torch/types.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "cpu_features.h"
#include "upsample_add/upsample_add.h"

namespace goss {
namespace upsample_add {

namespace {

// Neighbours and weights of each output coordinate along one axis, as F.interpolate computes
// them (float arithmetic, align_corners=False).
struct Axis {
  std::vector<int64_t> lo, hi;
  std::vector<float> w_lo, w_hi;
};

Axis make_axis(int64_t in, int64_t out) {
  Axis a;
  a.lo.resize(out);
  a.hi.resize(out);
  a.w_lo.resize(out);
  a.w_hi.resize(out);
  const float scale = static_cast<float>(in) / static_cast<float>(out);
  for (int64_t i = 0; i < out; ++i) {
    float src = scale * (static_cast<float>(i) + 0.5f) - 0.5f;
    src = src < 0.f ? 0.f : src;
    const int64_t lo = std::min(static_cast<int64_t>(src), in - 1);
    const float lambda = std::min(std::max(src - static_cast<float>(lo), 0.f), 1.f);
    a.lo[i] = lo;
    a.hi[i] = lo + (lo < in - 1 ? 1 : 0);
    a.w_lo[i] = 1.f - lambda;
    a.w_hi[i] = lambda;
  }
  return a;
}

// The sizes and sampling of one call; row y of out is row y + y0 of the upsampled map.
struct Job {
  float* out;
  const float* in;
  int64_t C, H, W, h, w, y0;
  const Axis* ay;
  const Axis* ax;
};

// Rows [begin, end) of out (indexed over B * H) for out, input: [B, H, W, C] and [B, h, w, C]
// contiguous (channels-last storage).
__attribute__((always_inline)) inline void rows_channels_last(const Job& j, int64_t begin,
                                                              int64_t end) {
  const int64_t C = j.C, W = j.W;
  for (int64_t r = begin; r < end; ++r) {
    const int64_t b = r / j.H, y = r % j.H + j.y0;
    const float* row0 = j.in + (b * j.h + j.ay->lo[y]) * j.w * C;
    const float* row1 = j.in + (b * j.h + j.ay->hi[y]) * j.w * C;
    const float wy0 = j.ay->w_lo[y], wy1 = j.ay->w_hi[y];
    float* o_row = j.out + r * W * C;
    for (int64_t x = 0; x < W; ++x) {
      const float* __restrict p00 = row0 + j.ax->lo[x] * C;
      const float* __restrict p01 = row0 + j.ax->hi[x] * C;
      const float* __restrict p10 = row1 + j.ax->lo[x] * C;
      const float* __restrict p11 = row1 + j.ax->hi[x] * C;
      const float wx0 = j.ax->w_lo[x], wx1 = j.ax->w_hi[x];
      float* __restrict o = o_row + x * C;
      for (int64_t c = 0; c < C; ++c) {
        o[c] += wy0 * (wx0 * p00[c] + wx1 * p01[c]) + wy1 * (wx0 * p10[c] + wx1 * p11[c]);
      }
    }
  }
}

// Planes [begin, end) of out (indexed over B * C) for out, input: [B, C, H, W] and [B, C, h, w]
// contiguous: the source rows the plane's output rows read are first interpolated along the
// width (into buf, with the gathers), then every output row is a blend of two of them.
__attribute__((always_inline)) inline void planes_contiguous(const Job& j, int64_t begin,
                                                             int64_t end) {
  const int64_t W = j.W, s0 = j.ay->lo[j.y0], s1 = j.ay->hi[j.y0 + j.H - 1];
  std::vector<float> buf((s1 - s0 + 1) * W);
  for (int64_t plane = begin; plane < end; ++plane) {
    for (int64_t s = s0; s <= s1; ++s) {
      const float* __restrict src = j.in + (plane * j.h + s) * j.w;
      float* __restrict dst = buf.data() + (s - s0) * W;
      for (int64_t x = 0; x < W; ++x) {
        dst[x] = j.ax->w_lo[x] * src[j.ax->lo[x]] + j.ax->w_hi[x] * src[j.ax->hi[x]];
      }
    }
    for (int64_t r = 0; r < j.H; ++r) {
      const int64_t y = r + j.y0;
      const float* __restrict row0 = buf.data() + (j.ay->lo[y] - s0) * W;
      const float* __restrict row1 = buf.data() + (j.ay->hi[y] - s0) * W;
      const float wy0 = j.ay->w_lo[y], wy1 = j.ay->w_hi[y];
      float* __restrict o = j.out + (plane * j.H + r) * W;
      for (int64_t x = 0; x < W; ++x) {
        o[x] += wy0 * row0[x] + wy1 * row1[x];
      }
    }
  }
}

using Kernel = void (*)(const Job&, int64_t, int64_t);

void rows_channels_last_base(const Job& j, int64_t begin, int64_t end) {
  rows_channels_last(j, begin, end);
}
void planes_contiguous_base(const Job& j, int64_t begin, int64_t end) {
  planes_contiguous(j, begin, end);
}

#if defined(GOSS_HAVE_AVX2_KERNELS)
// The same loops compiled for AVX2 and FMA (8 lanes; the sums may round differently).
__attribute__((target("avx2,fma"))) void rows_channels_last_avx2(const Job& j, int64_t begin,
                                                                 int64_t end) {
  rows_channels_last(j, begin, end);
}
__attribute__((target("avx2,fma"))) void planes_contiguous_avx2(const Job& j, int64_t begin,
                                                                int64_t end) {
  planes_contiguous(j, begin, end);
}
#endif

Kernel pick_kernel(bool channels_last) {
#if defined(GOSS_HAVE_AVX2_KERNELS)
  if (use_avx2_kernels()) {
    return channels_last ? &rows_channels_last_avx2 : &planes_contiguous_avx2;
  }
#endif
  return channels_last ? &rows_channels_last_base : &planes_contiguous_base;
}

}  // namespace

at::Tensor& bilinear_upsample_add_cpu(at::Tensor& out, const at::Tensor& input, int64_t row_offset,
                                      int64_t full_height) {
  TORCH_CHECK(out.dim() == 4 && input.dim() == 4,
              "bilinear_upsample_add_: out and input must be 4-D [B, C, H, W]");
  TORCH_CHECK(out.scalar_type() == at::kFloat && input.scalar_type() == at::kFloat,
              "bilinear_upsample_add_: out and input must be float32");
  TORCH_CHECK(out.size(0) == input.size(0) && out.size(1) == input.size(1),
              "bilinear_upsample_add_: out and input must have the same batch and channels");
  TORCH_CHECK(input.size(2) > 0 && input.size(3) > 0, "bilinear_upsample_add_: empty input");
  const bool channels_last = out.is_contiguous(at::MemoryFormat::ChannelsLast) &&
                             input.is_contiguous(at::MemoryFormat::ChannelsLast);
  TORCH_CHECK(channels_last || (out.is_contiguous() && input.is_contiguous()),
              "bilinear_upsample_add_: out and input must both be contiguous in one memory format "
              "(channels-last or the default)");
  const int64_t B = out.size(0), C = out.size(1), H = out.size(2), W = out.size(3);
  const int64_t h = input.size(2), w = input.size(3);
  const int64_t full_H = full_height > 0 ? full_height : H;
  TORCH_CHECK(row_offset >= 0 && row_offset + H <= full_H, "bilinear_upsample_add_: rows ",
              row_offset, "..", row_offset + H, " of out are not within full_height ", full_H);
  if (out.numel() == 0) return out;
  const Axis ay = make_axis(h, full_H), ax = make_axis(w, W);
  const Job job{
      out.data_ptr<float>(), input.data_ptr<float>(), C, H, W, h, w, row_offset, &ay, &ax};
  static const Kernel kernels[2] = {pick_kernel(false), pick_kernel(true)};
  const Kernel kernel = kernels[channels_last ? 1 : 0];
  const int64_t items = channels_last ? B * H : B * C;  // rows or planes
  at::parallel_for(0, items, 1, [&](int64_t begin, int64_t end) { kernel(job, begin, end); });
  return out;
}

TORCH_LIBRARY_IMPL(goss, CPU, m) {
  m.impl("bilinear_upsample_add_", &bilinear_upsample_add_cpu);
}

}  // namespace upsample_add
}  // namespace goss
