// CPU implementation of torch.ops.goss.bilinear_upsample_add_ (see upsample_add.h).
//
// The interpolation weights and neighbours of every output row and column are computed once; rows
// (per image, and per channel in the default layout) are split over the threads. In channels-last
// the innermost loop runs over the channels of one pixel, reading the four neighbouring pixels'
// channel vectors, which are contiguous: the compiler vectorises it, and out is read and written
// once.
#include <ATen/Parallel.h>
#include <c10/util/Exception.h>
#include <torch/library.h>
#include <torch/types.h>

#include <algorithm>
#include <cstdint>
#include <vector>

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

// out, input: [B, H, W, C] and [B, h, w, C] contiguous (channels-last storage).
// Row y of out is row y + y0 of the upsampled map.
void add_channels_last(float* out, const float* in, int64_t B, int64_t C, int64_t H, int64_t W,
                       int64_t h, int64_t w, int64_t y0, const Axis& ay, const Axis& ax) {
  at::parallel_for(0, B * H, 1, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const int64_t b = r / H, y = r % H + y0;
      const float* row0 = in + (b * h + ay.lo[y]) * w * C;
      const float* row1 = in + (b * h + ay.hi[y]) * w * C;
      const float wy0 = ay.w_lo[y], wy1 = ay.w_hi[y];
      float* o_row = out + r * W * C;
      for (int64_t x = 0; x < W; ++x) {
        const float* __restrict p00 = row0 + ax.lo[x] * C;
        const float* __restrict p01 = row0 + ax.hi[x] * C;
        const float* __restrict p10 = row1 + ax.lo[x] * C;
        const float* __restrict p11 = row1 + ax.hi[x] * C;
        const float wx0 = ax.w_lo[x], wx1 = ax.w_hi[x];
        float* __restrict o = o_row + x * C;
        for (int64_t c = 0; c < C; ++c) {
          o[c] += wy0 * (wx0 * p00[c] + wx1 * p01[c]) + wy1 * (wx0 * p10[c] + wx1 * p11[c]);
        }
      }
    }
  });
}

// out, input: [B, C, H, W] and [B, C, h, w] contiguous.
void add_contiguous(float* out, const float* in, int64_t B, int64_t C, int64_t H, int64_t W,
                    int64_t h, int64_t w, int64_t y0, const Axis& ay, const Axis& ax) {
  at::parallel_for(0, B * C * H, 1, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const int64_t plane = r / H, y = r % H + y0;
      const float* __restrict row0 = in + (plane * h + ay.lo[y]) * w;
      const float* __restrict row1 = in + (plane * h + ay.hi[y]) * w;
      const float wy0 = ay.w_lo[y], wy1 = ay.w_hi[y];
      float* __restrict o = out + r * W;
      for (int64_t x = 0; x < W; ++x) {
        const int64_t x0 = ax.lo[x], x1 = ax.hi[x];
        const float wx0 = ax.w_lo[x], wx1 = ax.w_hi[x];
        o[x] += wy0 * (wx0 * row0[x0] + wx1 * row0[x1]) + wy1 * (wx0 * row1[x0] + wx1 * row1[x1]);
      }
    }
  });
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
  if (channels_last) {
    add_channels_last(out.data_ptr<float>(), input.data_ptr<float>(), B, C, H, W, h, w, row_offset,
                      ay, ax);
  } else {
    add_contiguous(out.data_ptr<float>(), input.data_ptr<float>(), B, C, H, W, h, w, row_offset, ay,
                   ax);
  }
  return out;
}

TORCH_LIBRARY_IMPL(goss, CPU, m) {
  m.impl("bilinear_upsample_add_", &bilinear_upsample_add_cpu);
}

}  // namespace upsample_add
}  // namespace goss
