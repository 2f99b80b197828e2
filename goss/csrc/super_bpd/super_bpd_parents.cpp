// Step 2 of docs/super-bpd.md on the CPU: the parent of every pixel (itself for a root).
//
// The per-pixel tests are evaluated exactly in float (FloatTables), so that the interior of each
// row can run as branch-free SIMD code written with GCC/Clang vector extensions: the direction
// bin is a count of threshold comparisons and the neighbour angle is selected among the 8
// neighbours, so no gather is needed. The kernel is compiled for the baseline instruction set
// (4 lanes) and, on x86-64, also for AVX2 (8 lanes), picked at run time (PyTorch's
// ATEN_CPU_CAPABILITY=default forces the baseline). Border pixels use the scalar form. Results do
// not depend on the path taken.
#include <ATen/Parallel.h>

#include <atomic>
#include <cmath>
#include <cstring>

#include "cpu_features.h"
#include "super_bpd/super_bpd.h"

namespace goss {
namespace super_bpd {

namespace {

// Smallest non-negative float in [lo, hi] where pred turns true (pred false -> true), else hi.
template <class Pred>
float first_true(float lo, float hi, Pred pred) {
  uint32_t a, b;
  std::memcpy(&a, &lo, 4);
  std::memcpy(&b, &hi, 4);
  while (a < b) {
    const uint32_t m = a + (b - a) / 2;
    float x;
    std::memcpy(&x, &m, 4);
    if (pred(x)) {
      b = m;
    } else {
      a = m + 1;
    }
  }
  float x;
  std::memcpy(&x, &a, 4);
  return x;
}

FloatTables make_tables(double thresh) {
  FloatTables t;
  t.two_pi = static_cast<float>(2.0 * M_PI);
  const float top = 8.0f;  // above every valid angle
  t.bin_start[0] = 0.0f;
  for (int k = 1; k <= 8; ++k) {
    t.bin_start[k] = first_true(0.0f, top, [k](float x) {
      return static_cast<int>((static_cast<double>(x) + kPi / 8.0) / (kPi / 4.0)) >= k;
    });
  }
  // circdiff rises up to the last float <= pi and falls after it.
  const float peak = first_true(0.0f, top, [](float x) { return static_cast<double>(x) > kPi; });
  const float below = std::nextafter(peak, 0.0f);
  auto is_root_diff = [thresh](float d) { return circdiff(d, 0.0f) > thresh; };
  const float rise = first_true(0.0f, below, is_root_diff);
  const bool rise_ok = is_root_diff(rise);
  // Last float of the falling part that is a root: one before the first non-root.
  const float fall_end = first_true(peak, top, [&](float x) { return !is_root_diff(x); });
  const bool fall_ok = is_root_diff(peak);
  t.root_lo = rise_ok ? rise : peak;
  t.root_hi = fall_ok ? std::nextafter(fall_end, 0.0f) : below;
  if (!rise_ok && !fall_ok) {
    t.root_lo = top;  // empty interval
    t.root_hi = 0.0f;
  }
  return t;
}

// Scalar form, used on the image border: the parent of pixel (h, w); sets ok = false for an
// angle that is not a finite value in [0, 2pi].
inline int32_t parent_scalar(const float* ang, int64_t h, int64_t w, int64_t H, int64_t W,
                             const FloatTables& t, bool& ok) {
  const int64_t p = h * W + w;
  const float a = ang[p];
  if (!(a >= 0.0f && a <= t.two_pi)) {
    ok = false;
    return static_cast<int32_t>(p);
  }
  int k = 0;
  for (int j = 1; j <= 8; ++j) {
    k += a >= t.bin_start[j];
  }
  k &= 7;
  const int64_t qh = h + kDirRow[k];
  const int64_t qw = w + kDirCol[k];
  if (qh < 0 || qh >= H || qw < 0 || qw >= W) {
    return static_cast<int32_t>(p);
  }
  const float d = std::fabs(a - ang[qh * W + qw]);
  return d >= t.root_lo && d <= t.root_hi ? static_cast<int32_t>(p)
                                          : static_cast<int32_t>(qh * W + qw);
}

// 4 and 8 float / int32 lanes (GCC/Clang vector extensions; a C-style cast between two of them
// reinterprets the bits). The 8-lane kernel only runs in a function compiled for AVX2.
typedef float VecF4 __attribute__((vector_size(16)));
typedef int32_t VecI4 __attribute__((vector_size(16)));
typedef float VecF8 __attribute__((vector_size(32)));
typedef int32_t VecI8 __attribute__((vector_size(32)));
typedef uint8_t VecB4 __attribute__((vector_size(4)));
typedef uint8_t VecB8 __attribute__((vector_size(8)));

// Parents of the interior pixels w = 1 .. W-2 of row h (0 < h < H-1), N lanes at a time; the
// tail that does not fill a vector is left to the caller. Returns false on an invalid angle.
template <class vf, class vi, class vb, int N>
__attribute__((always_inline)) inline bool interior_row(const float* ang, int64_t h, int64_t W,
                                                        const FloatTables& t, int32_t* par,
                                                        uint8_t* is_root, int64_t* done) {
  const int32_t w32 = static_cast<int32_t>(W);
  // Offsets of the 8 parent directions (kDirRow, kDirCol) in the flattened image.
  const int32_t off[8] = {w32, w32 + 1, 1, 1 - w32, -w32, -w32 - 1, -1, w32 - 1};
  const float* c = ang + h * W;
  // Neighbour rows/columns of the 8 directions (down, down-right, right, ..., down-left).
  const float* nb_row[8] = {c + W, c + W + 1, c + 1, c - W + 1, c - W, c - W - 1, c - 1, c + W - 1};
  vi lane;
  for (int l = 0; l < N; ++l) {
    lane[l] = l;
  }
  const vi zero = lane - lane;
  vi bad = zero;
  int64_t w = 1;
  for (; w + N <= W - 1; w += N) {
    vf a;
    std::memcpy(&a, c + w, sizeof(a));
    vi k = zero;
    for (int j = 1; j <= 8; ++j) {
      k -= (a >= t.bin_start[j]);  // a true comparison is -1
    }
    k &= 7;
    // The neighbour angle and offset of direction k, selected lane by lane.
    vi nb;
    std::memcpy(&nb, nb_row[0] + w, sizeof(nb));
    vi o = zero + off[0];
    for (int d = 1; d < 8; ++d) {
      vi nb_d;
      std::memcpy(&nb_d, nb_row[d] + w, sizeof(nb_d));
      const vi m = k == d;
      nb = (m & nb_d) | (~m & nb);
      o = (m & off[d]) | (~m & o);
    }
    // |a - nb| by clearing the sign bits
    const vf diff = (vf)((vi)(a - (vf)nb) & 0x7fffffff);
    const vi non_root = (diff < t.root_lo) | (diff > t.root_hi);
    const vi out = lane + static_cast<int32_t>(h * W + w) + (non_root & o);
    std::memcpy(par + h * W + w, &out, sizeof(out));
    const vb root_flags = __builtin_convertvector(non_root + 1, vb);  // 1 for a root, else 0
    std::memcpy(is_root + h * W + w, &root_flags, sizeof(root_flags));
    bad |= ~((a >= 0.0f) & (a <= t.two_pi));
  }
  *done = w;
  int32_t any_bad = 0;
  for (int l = 0; l < N; ++l) {
    any_bad |= bad[l];
  }
  return any_bad == 0;
}

bool interior_row_base(const float* ang, int64_t h, int64_t W, const FloatTables& t, int32_t* par,
                       uint8_t* is_root, int64_t* done) {
  return interior_row<VecF4, VecI4, VecB4, 4>(ang, h, W, t, par, is_root, done);
}

#if defined(GOSS_HAVE_AVX2_KERNELS)
__attribute__((target("avx2"))) bool interior_row_avx2(const float* ang, int64_t h, int64_t W,
                                                       const FloatTables& t, int32_t* par,
                                                       uint8_t* is_root, int64_t* done) {
  return interior_row<VecF8, VecI8, VecB8, 8>(ang, h, W, t, par, is_root, done);
}
#endif

using RowKernel = bool (*)(const float*, int64_t, int64_t, const FloatTables&, int32_t*, uint8_t*,
                           int64_t*);

// The widest kernel the CPU runs, unless PyTorch's ATEN_CPU_CAPABILITY=default asks for the
// baseline instruction set.
RowKernel pick_row_kernel() {
#if defined(GOSS_HAVE_AVX2_KERNELS)
  if (use_avx2_kernels()) {
    return &interior_row_avx2;
  }
#endif
  return &interior_row_base;
}

}  // namespace

ParentRows::ParentRows(const float* ang, int64_t H, int64_t W, double theta_a, int32_t* par,
                       uint8_t* is_root)
    : ang_(ang), H_(H), W_(W), par_(par), is_root_(is_root) {
  tables_ = make_tables(theta_a * kPi / 180.0);
}

bool ParentRows::compute(int64_t h0, int64_t h1) const {
  static const RowKernel kernel = pick_row_kernel();
  const FloatTables& t = tables_;
  const int64_t H = H_, W = W_;
  bool ok = true;
  for (int64_t h = h0; h < h1; ++h) {
    int64_t w = 0;
    if (h > 0 && h + 1 < H && W > 2) {
      par_[h * W] = parent_scalar(ang_, h, 0, H, W, t, ok);
      is_root_[h * W] = par_[h * W] == h * W;
      ok &= kernel(ang_, h, W, t, par_, is_root_, &w);
    }
    for (; w < W; ++w) {
      par_[h * W + w] = parent_scalar(ang_, h, w, H, W, t, ok);
      is_root_[h * W + w] = par_[h * W + w] == h * W + w;
    }
  }
  return ok;
}

bool ParentRows::compute_all() const {
  std::atomic<bool> ok{true};
  at::parallel_for(0, H_, 32, [&](int64_t h0, int64_t h1) {
    if (!compute(h0, h1)) {
      ok = false;
    }
  });
  return ok;
}

}  // namespace super_bpd
}  // namespace goss
