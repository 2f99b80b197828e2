// CPU implementation of torch.ops.goss.super_bpd (spec/super_bpd.md sections 3.2-3.8).
#include <ATen/Parallel.h>
#include <c10/util/Exception.h>
#include <torch/types.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <memory>
#include <numeric>
#include <torch/library.h>

#include "super_bpd/super_bpd.h"

namespace goss {
namespace super_bpd {

namespace {

// Union-find over pixels whose representative is always the minimum index of its set
// (the larger root is linked under the smaller), so L[x] <= x holds for every x.
inline int32_t find(int32_t* L, int32_t x) {
  while (L[x] != x) {
    L[x] = L[L[x]];
    x = L[x];
  }
  return x;
}

inline void unite(int32_t* L, int32_t a, int32_t b) {
  a = find(L, a);
  b = find(L, b);
  if (a < b) {
    L[b] = a;
  } else if (b < a) {
    L[a] = b;
  }
}

// Exact float-domain forms of the reference's double-precision tests, so that the per-pixel loop
// needs neither a division nor double arithmetic: bin(theta) = #{k >= 1 : theta >= bin_start[k]}
// mod 8, and root(|a - b|) <=> root_lo <= |a - b| <= root_hi.
struct FloatTables {
  float two_pi;
  float bin_start[9];
  float root_lo;
  float root_hi;
};

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
  auto is_root = [thresh](float d) { return circdiff(d, 0.0f) > thresh; };
  const float rise = first_true(0.0f, below, is_root);
  const bool rise_ok = is_root(rise);
  // Last float of the falling part that is a root: one before the first non-root.
  const float fall_end = first_true(peak, top, [&](float x) { return !is_root(x); });
  const bool fall_ok = is_root(peak);
  t.root_lo = rise_ok ? rise : peak;
  t.root_hi = fall_ok ? std::nextafter(fall_end, 0.0f) : below;
  if (!rise_ok && !fall_ok) {
    t.root_lo = top;  // empty interval
    t.root_hi = 0.0f;
  }
  return t;
}

inline int fast_bin(float theta, const FloatTables& t) {
  int k = static_cast<int>(theta * 1.27323954f + 0.5f);
  k = k < 0 ? 0 : (k > 8 ? 8 : k);
  while (k < 8 && theta >= t.bin_start[k + 1]) {
    ++k;
  }
  while (k > 0 && theta < t.bin_start[k]) {
    --k;
  }
  return k == 8 ? 0 : k;
}

// Section 3.2: the parent of pixel (h, w) (itself for a root); sets ok = false for an angle that
// is not a finite value in [0, 2pi].
inline int32_t parent_of(const float* ang, int64_t h, int64_t w, int64_t H, int64_t W,
                         const FloatTables& t, bool& ok) {
  const int64_t p = h * W + w;
  const float a = ang[p];
  if (!(a >= 0.0f && a <= t.two_pi)) {
    ok = false;
    return static_cast<int32_t>(p);
  }
  const int k = fast_bin(a, t);
  const int64_t qh = h + kDirRow[k];
  const int64_t qw = w + kDirCol[k];
  if (qh < 0 || qh >= H || qw < 0 || qw >= W) {
    return static_cast<int32_t>(p);
  }
  const float d = std::fabs(a - ang[qh * W + qw]);
  return d >= t.root_lo && d <= t.root_hi ? static_cast<int32_t>(p)
                                           : static_cast<int32_t>(qh * W + qw);
}

// Parents, the 0/1 root map and the super-BPD forest L (section 3.3: union of every pixel with
// its parent). With one thread the union runs in the same pass; with several, parents are found
// in parallel first. The forest's labels do not depend on the order of the unions.
bool parents_and_forest(const float* ang, int64_t H, int64_t W, double theta_a, int32_t* par,
                        int32_t* root, int32_t* L) {
  const FloatTables t = make_tables(theta_a * kPi / 180.0);
  if (at::get_num_threads() == 1) {
    bool ok = true;
    std::iota(L, L + std::min(H, int64_t{2}) * W, 0);
    for (int64_t h = 0; h < H; ++h) {
      if (h + 2 < H) {
        // parents are at most one row ahead: set up the forest one row in advance
        std::iota(L + (h + 2) * W, L + (h + 3) * W, static_cast<int32_t>((h + 2) * W));
      }
      for (int64_t w = 0; w < W; ++w) {
        const int32_t p = static_cast<int32_t>(h * W + w);
        par[p] = parent_of(ang, h, w, H, W, t, ok);
        root[p] = par[p] == p;
        unite(L, p, par[p]);
      }
    }
    return ok;
  }
  std::atomic<bool> ok{true};
  at::parallel_for(0, H, 16, [&](int64_t h0, int64_t h1) {
    bool chunk_ok = true;
    for (int64_t h = h0; h < h1; ++h) {
      for (int64_t w = 0; w < W; ++w) {
        const int64_t p = h * W + w;
        L[p] = static_cast<int32_t>(p);
        par[p] = parent_of(ang, h, w, H, W, t, chunk_ok);
        root[p] = par[p] == p;
      }
    }
    if (!chunk_ok) {
      ok = false;
    }
  });
  for (int64_t i = 0; i < H * W; ++i) {
    unite(L, static_cast<int32_t>(i), par[i]);
  }
  return ok;
}

// Section 3.4: unite every pair of roots with |drow| <= 3 and |dcol| <= 3.
void merge_roots(int32_t* L, const int32_t* root, const std::vector<int32_t>& root_list, int64_t H,
                 int64_t W) {
  for (const int32_t p : root_list) {
    const int64_t h = p / W, w = p % W;
    {
      const int64_t h1 = std::min(H - 1, h + kRootRadius);
      const int64_t w0 = std::max<int64_t>(0, w - kRootRadius);
      const int64_t w1 = std::min(W - 1, w + kRootRadius);
      for (int64_t qh = h; qh <= h1; ++qh) {
        for (int64_t qw = w0; qw <= w1; ++qw) {
          if (root[qh * W + qw]) {
            unite(L, static_cast<int32_t>(h * W + w), static_cast<int32_t>(qh * W + qw));
          }
        }
      }
    }
  }
}

inline int32_t walk(const int32_t* par, int32_t p) {
  for (int s = 0; s < kWalkSteps; ++s) {
    p = par[p];
  }
  return p;
}

// Section 3.5: boundary pairs in raster order. With quirks (Q1) the bottom pair of a pixel whose
// right pair was a boundary starts from the walked pixel instead of the pixel itself.
BoundaryPairs boundary_pairs(const float* ang, const int32_t* par, const int32_t* L,
                             const int32_t* node, int64_t H, int64_t W, bool quirks) {
  BoundaryPairs out;
  for (int64_t h = 0; h < H; ++h) {
    const int32_t* row = L + h * W;
    const int32_t* below = h + 1 < H ? row + W : row;
    for (int64_t w = 0; w < W; ++w) {
      const int32_t lp = row[w];
      // Fast path: no boundary to the right or below.
      if ((w + 1 == W || row[w + 1] == lp) && below[w] == lp) {
        continue;
      }
      const int32_t p = static_cast<int32_t>(h * W + w);
      int64_t ch = h, cw = w;
      for (int k = 0; k < 2; ++k) {
        const int64_t qh = ch + (k == 1), qw = cw + (k == 0);
        if (qh >= H || qw >= W) {
          continue;
        }
        const int32_t c = static_cast<int32_t>(ch * W + cw);
        const int32_t q = static_cast<int32_t>(qh * W + qw);
        if (L[p] == L[q]) {
          continue;
        }
        const int32_t a = walk(par, c), b = walk(par, q);
        out.i.push_back(std::min(node[c], node[q]));
        out.j.push_back(std::max(node[c], node[q]));
        out.diff.push_back(static_cast<float>(circdiff(ang[a], ang[b])));
        if (quirks) {
          ch = a / W;
          cw = a % W;
        }
      }
    }
  }
  return out;
}

}  // namespace

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> super_bpd_cpu(
    const at::Tensor& angles, double theta_a, double theta_l, double theta_s, double s_o,
    bool reference_quirks) {
  const Params params{theta_a, theta_l, theta_s, s_o, reference_quirks};
  check_inputs(angles, params);
  TORCH_CHECK(angles.device().is_cpu(), "super_bpd_cpu: angles must be on the CPU");
  const int64_t H = angles.size(0), W = angles.size(1), P = H * W;
  const float* ang = angles.data_ptr<float>();
  at::Tensor roots = pooled_int32(H, W);
  at::Tensor before = pooled_int32(H, W);
  at::Tensor after = pooled_int32(H, W);
  at::Tensor labels = pooled_int32(H, W);
  at::Tensor par_buf = pooled_int32(H, W);
  int32_t* par = par_buf.data_ptr<int32_t>();
  int32_t* root = roots.data_ptr<int32_t>();
  int32_t* L = after.data_ptr<int32_t>();  // union-find forest; +1 at the end gives the labels
  int32_t* node = labels.data_ptr<int32_t>();  // node ids; overwritten by the final labels

  TORCH_CHECK_VALUE(parents_and_forest(ang, H, W, theta_a, par, root, L),
                    "super_bpd: angles must be finite radians in [0, 2*pi]");
  std::vector<int32_t> root_list;
  int32_t* out = before.data_ptr<int32_t>();
  for (int64_t i = 0; i < P; ++i) {
    L[i] = L[L[i]];
    out[i] = L[i] + 1;
    if (root[i]) {
      root_list.push_back(static_cast<int32_t>(i));
    }
  }
  merge_roots(L, root, root_list, H, W);
  std::vector<int64_t> areas;
  std::vector<int32_t> first_pixel;
  for (int64_t i = 0; i < P; ++i) {
    L[i] = L[L[i]];
    if (L[i] == i) {
      node[i] = static_cast<int32_t>(areas.size());
      areas.push_back(0);
      first_pixel.push_back(static_cast<int32_t>(i));
    } else {
      node[i] = node[L[i]];
    }
    areas[node[i]] += 1;
  }

  BoundaryPairs pairs =
      boundary_pairs(ang, par, L, node, H, W, reference_quirks);
  std::vector<int32_t> final_node = merge_region_graph(
      pairs.i.data(), pairs.j.data(), pairs.diff.data(),
      static_cast<int64_t>(pairs.i.size()), areas, params);
  for (int64_t i = 0; i < P; ++i) {
    node[i] = first_pixel[final_node[node[i]]] + 1;  // node[] is the labels tensor
    L[i] += 1;  // L[] is the after-dilation tensor
  }
  return {roots, before, after, labels};
}

TORCH_LIBRARY_IMPL(goss, CPU, m) {
  m.impl("super_bpd", &super_bpd_cpu);
}

}  // namespace super_bpd
}  // namespace goss
