// CPU implementation of torch.ops.goss.super_bpd (spec/super_bpd.md sections 3.2-3.8).
#include <ATen/Parallel.h>
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

// Points every pixel at its representative; valid in raster order because L[x] <= x.
void flatten(int32_t* L, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    L[i] = L[L[i]];
  }
}

// Section 3.2: parent of every pixel (itself for roots) and the 0/1 root map.
void find_parents(const float* ang, int64_t H, int64_t W, double theta_a, int32_t* par,
                  int32_t* root) {
  const double thresh = theta_a * kPi / 180.0;
  at::parallel_for(0, H, 16, [&](int64_t h0, int64_t h1) {
    for (int64_t h = h0; h < h1; ++h) {
      for (int64_t w = 0; w < W; ++w) {
        const int64_t p = h * W + w;
        const int k = direction_bin(ang[p]);
        const int64_t qh = h + kDirRow[k];
        const int64_t qw = w + kDirCol[k];
        bool is_root = qh < 0 || qh >= H || qw < 0 || qw >= W;
        if (!is_root) {
          is_root = circdiff(ang[p], ang[qh * W + qw]) > thresh;
        }
        par[p] = is_root ? static_cast<int32_t>(p) : static_cast<int32_t>(qh * W + qw);
        root[p] = is_root ? 1 : 0;
      }
    }
  });
}

// Section 3.4: unite every pair of roots with |drow| <= 3 and |dcol| <= 3.
void merge_roots(int32_t* L, const int32_t* root, int64_t H, int64_t W) {
  for (int64_t h = 0; h < H; ++h) {
    for (int64_t w = 0; w < W; ++w) {
      if (!root[h * W + w]) {
        continue;
      }
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
    for (int64_t w = 0; w < W; ++w) {
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
  auto opts = angles.options().dtype(at::kInt);
  at::Tensor roots = at::empty({H, W}, opts);
  at::Tensor before = at::empty({H, W}, opts);
  at::Tensor after = at::empty({H, W}, opts);
  at::Tensor labels = at::empty({H, W}, opts);
  std::vector<int32_t> par(P), L(P), node(P);
  int32_t* root = roots.data_ptr<int32_t>();

  find_parents(ang, H, W, theta_a, par.data(), root);
  // Section 3.3: super-BPDs are the components of the parent forest.
  for (int64_t i = 0; i < P; ++i) {
    L[i] = static_cast<int32_t>(i);
  }
  for (int64_t i = 0; i < P; ++i) {
    unite(L.data(), static_cast<int32_t>(i), par[i]);
  }
  flatten(L.data(), P);
  int32_t* out = before.data_ptr<int32_t>();
  for (int64_t i = 0; i < P; ++i) {
    out[i] = L[i] + 1;
  }
  merge_roots(L.data(), root, H, W);
  flatten(L.data(), P);
  out = after.data_ptr<int32_t>();
  std::vector<int64_t> areas;
  std::vector<int32_t> first_pixel;
  for (int64_t i = 0; i < P; ++i) {
    out[i] = L[i] + 1;
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
      boundary_pairs(ang, par.data(), L.data(), node.data(), H, W, reference_quirks);
  std::vector<int32_t> final_node = merge_region_graph(
      pairs.i.data(), pairs.j.data(), pairs.diff.data(),
      static_cast<int64_t>(pairs.i.size()), areas, params);
  out = labels.data_ptr<int32_t>();
  for (int64_t i = 0; i < P; ++i) {
    out[i] = first_pixel[final_node[node[i]]] + 1;
  }
  return {roots, before, after, labels};
}

TORCH_LIBRARY_IMPL(goss, CPU, m) {
  m.impl("super_bpd", &super_bpd_cpu);
}

}  // namespace super_bpd
}  // namespace goss
