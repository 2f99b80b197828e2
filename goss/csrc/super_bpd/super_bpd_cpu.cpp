// CPU implementation of torch.ops.goss.super_bpd (spec/super_bpd.md sections 3.2-3.8).
#include <ATen/Parallel.h>
#include <c10/util/Exception.h>
#include <torch/types.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <numeric>
#include <torch/library.h>

#include "super_bpd/super_bpd.h"

namespace goss {
namespace super_bpd {

namespace {

// Union-find over pixels whose representative is always the minimum index of its set, so
// L[x] <= x holds for every x: Rem's algorithm with splicing (each step links the larger parent
// under the smaller one and moves up), which needs no separate find.
inline void unite(int32_t* L, int32_t x, int32_t y) {
  while (L[x] != L[y]) {
    if (L[x] < L[y]) {
      if (L[y] == y) {
        L[y] = L[x];
        return;
      }
      const int32_t next = L[y];
      L[y] = L[x];
      y = next;
    } else {
      if (L[x] == x) {
        L[x] = L[y];
        return;
      }
      const int32_t next = L[x];
      L[x] = L[y];
      x = next;
    }
  }
}

// Section 3.4 for the root p = (h, w): unite it with every root q (is_root[q] = 1) with
// |drow| <= 3 and |dcol| <= 3 that comes later in raster order (earlier ones united with p already),
// or with a root adjacent to it on its row, which gives the same sets.
// Needs L initialised up to row h + 3, and 8 readable bytes after the last flag. Each window row
// (at most 7 flags) is read as one 64-bit word, so only the roots found cost a branch.
inline void unite_root_window(int32_t* L, const uint8_t* is_root, int32_t p, int64_t H,
                              int64_t W) {
  constexpr bool kLittle = std::endian::native == std::endian::little;
  const int64_t h = p / W, w = p % W;
  const int64_t w0 = std::max<int64_t>(0, w - kRootRadius);
  const int64_t w1 = std::min(W - 1, w + kRootRadius);
  for (int64_t r = h; r <= std::min(H - 1, h + kRootRadius); ++r) {
    const int64_t first = r == h ? p + 1 : r * W + w0;
    const int64_t n = r * W + w1 + 1 - first;  // 0..7 flags
    uint64_t word;
    std::memcpy(&word, is_root + first, 8);
    // keep the first n bytes in memory order, then only the first root of each run of adjacent
    // roots: the others are chained to it by their own windows (q unites with q + 1).
    word &= kLittle ? (n == 0 ? 0 : ~uint64_t{0} >> (64 - 8 * n)) : ~(~uint64_t{0} >> (8 * n));
    word &= ~(kLittle ? word << 8 : word >> 8);
    for (; word != 0; word &= word - 1) {
      const int64_t byte = std::countr_zero(word) / 8;
      unite(L, p, static_cast<int32_t>(first + (kLittle ? byte : 7 - byte)));
    }
  }
}

// Section 3.3 (and 3.4 when merge_roots): the super-BPD forest L, the union of every pixel with
// its parent in raster order, and with merge_roots also of every root with the roots in its
// window. Parents are at most one row ahead and root windows three, so rows of L are initialised
// that far in advance. Roots are appended to root_list (raster order) when it is given. With
// parents, the parent rows are computed here just ahead of their use, so one single-threaded pass
// reads them from the cache; returns false if an angle there is invalid.
bool build_forest(const int32_t* par, const uint8_t* is_root, int64_t H, int64_t W,
                  bool merge_roots, int32_t* L, std::vector<int32_t>* root_list,
                  const ParentRows* parents) {
  const int64_t ahead = merge_roots ? kRootRadius : 1;
  std::iota(L, L + std::min(H, ahead + 1) * W, 0);
  const int64_t flags_ahead = merge_roots ? kRootRadius : 0;
  bool ok = parents == nullptr || parents->compute(0, std::min(H, flags_ahead));
  for (int64_t h = 0; h < H; ++h) {
    if (parents != nullptr && h + flags_ahead < H) {
      ok &= parents->compute(h + flags_ahead, h + flags_ahead + 1);
    }
    if (h + ahead + 1 < H) {
      const int64_t r = h + ahead + 1;
      std::iota(L + r * W, L + (r + 1) * W, static_cast<int32_t>(r * W));
    }
    const int32_t end = static_cast<int32_t>((h + 1) * W);
    for (int32_t p = static_cast<int32_t>(h * W); p < end; ++p) {
      if (par[p] != p) {
        unite(L, p, par[p]);
      } else if (merge_roots) {
        unite_root_window(L, is_root, p, H, W);
      } else if (root_list != nullptr) {
        root_list->push_back(p);
      }
    }
  }
  return ok;
}

// Flattens row h of L (every earlier row is flat, and L[x] <= x). A pixel with L[i] == i is the
// first pixel (representative) of an after-dilation region: it is appended to reps, and its
// region's area is counted at area_at[i], by runs of equal representatives.
void flatten_row(int32_t* L, int32_t* area_at, int64_t h, int64_t W, std::vector<int32_t>& reps) {
  int32_t run_rep = -1;
  int32_t run = 0;
  const int32_t end = static_cast<int32_t>((h + 1) * W);
  for (int32_t i = static_cast<int32_t>(h * W); i < end; ++i) {
    const int32_t l = L[L[i]];
    L[i] = l;
    if (l == i) {
      reps.push_back(i);
      area_at[i] = 0;
    }
    if (l != run_rep) {
      if (run > 0) {
        area_at[run_rep] += run;
      }
      run_rep = l;
      run = 0;
    }
    ++run;
  }
  area_at[run_rep] += run;
}

// Asks the CPU to bring row [0, W) of an image into the cache ahead of irregular reads.
template <class T>
inline void prefetch_row(const T* row, int64_t W) {
#if defined(__GNUC__)
  for (int64_t x = 0; x < W; x += 64 / sizeof(T)) {
    __builtin_prefetch(row + x);
  }
#endif
}

inline int32_t walk(const int32_t* par, int32_t p) {
  for (int s = 0; s < kWalkSteps; ++s) {
    p = par[p];
  }
  return p;
}

// Growable output of the boundary scan: pairs are written at n, with room for 2 W more per row.
struct PairWriter {
  BoundaryPairs& out;
  size_t n = 0;
  void reserve_row(int64_t W) {
    const size_t need = n + 2 * static_cast<size_t>(W);
    if (out.i.size() < need) {
      const size_t size = std::max(need, 2 * out.i.size());
      out.i.resize(size);
      out.j.resize(size);
      out.diff.resize(size);
    }
  }
  // Writes the pair (x, y) with the angle difference at the walked pixels a, b; keeps it if
  // `keep`, without a branch (most boundary pixels have only one of their two pairs).
  void put(int32_t x, int32_t y, const float* ang, int32_t a, int32_t b, bool keep) {
    out.i[n] = std::min(x, y);
    out.j[n] = std::max(x, y);
    out.diff[n] = static_cast<float>(circdiff(ang[a], ang[b]));
    n += keep;
  }
  void finish() {
    out.i.resize(n);
    out.j.resize(n);
    out.diff.resize(n);
  }
};

// Section 3.5: the boundary pairs of row h (right pair, then bottom pair, of every pixel whose
// flattened L differs from its right or bottom neighbour's), appended in raster order. With
// quirks (Q1) the bottom pair of a pixel whose right pair was a boundary starts from the walked
// pixel instead of the pixel itself, so rows up to h + kWalkSteps + 1 must be flat.
template <bool kQuirks>
void boundary_row(const float* ang, const int32_t* par, const int32_t* L, int64_t h, int64_t H,
                  int64_t W, PairWriter& out) {
  out.reserve_row(W);
  const int32_t* row = L + h * W;
  const bool has_below = h + 1 < H;
  const int32_t* below = has_below ? row + W : row;
  constexpr int64_t kBlock = 16;
  for (int64_t w = 0; w < W; ++w) {
    // Fast path: skip blocks of pixels with no boundary to the right or below.
    if (w % kBlock == 0 && w + kBlock < W) {
      int32_t differ = 0;
      for (int64_t x = w; x < w + kBlock; ++x) {
        differ |= (row[x + 1] ^ row[x]) | (below[x] ^ row[x]);
      }
      if (differ == 0) {
        w += kBlock - 1;
        continue;
      }
    }
    const int32_t lp = row[w];
    const int32_t right = w + 1 < W ? row[w + 1] : lp;
    if (right == lp && below[w] == lp) {
      continue;
    }
    const int32_t c = static_cast<int32_t>(h * W + w);
    if constexpr (!kQuirks) {
      // Both pairs are computed and the missing one is dropped by put().
      const int32_t a = walk(par, c);
      out.put(lp, right, ang, a, walk(par, w + 1 < W ? c + 1 : c), right != lp);
      out.put(lp, below[w], ang, a, walk(par, has_below ? c + static_cast<int32_t>(W) : c),
              below[w] != lp);
    } else {
      int64_t ch = h, cw = w;
      for (int k = 0; k < 2; ++k) {
        const int64_t qh = ch + (k == 1), qw = cw + (k == 0);
        if (qh >= H || qw >= W) {
          continue;
        }
        const int32_t cc = static_cast<int32_t>(ch * W + cw);
        const int32_t q = static_cast<int32_t>(qh * W + qw);
        if (lp == L[q]) {
          continue;
        }
        const int32_t a = walk(par, cc);
        out.put(L[cc], L[q], ang, a, walk(par, q), true);
        ch = a / W;
        cw = a % W;
      }
    }
  }
}

}  // namespace

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> super_bpd_cpu(
    const at::Tensor& angles, double theta_a, double theta_l, double theta_s, double s_o,
    bool reference_quirks, bool intermediates) {
  const Params params{theta_a, theta_l, theta_s, s_o, reference_quirks};
  check_inputs(angles, params);
  TORCH_CHECK(angles.device().is_cpu(), "super_bpd_cpu: angles must be on the CPU");
  const int64_t H = angles.size(0), W = angles.size(1), P = H * W;
  const float* ang = angles.data_ptr<float>();
  at::Tensor par_buf = pooled_tensor(H, W);
  at::Tensor after = pooled_tensor(H, W);  // the union-find forest; an output with intermediates
  at::Tensor labels = pooled_tensor(H, W);
  at::Tensor roots = at::empty({0}, at::kInt);
  at::Tensor before = at::empty({0}, at::kInt);
  int32_t* par = par_buf.data_ptr<int32_t>();
  int32_t* L = after.data_ptr<int32_t>();

  at::Tensor flags_buf = pooled_tensor(1, P + 8, at::kByte);  // + 8: see unite_root_window
  const uint8_t* is_root = flags_buf.data_ptr<uint8_t>();
  const ParentRows parents(ang, H, W, theta_a, par, flags_buf.data_ptr<uint8_t>());
  // One thread: parents are fused into the forest pass; otherwise they are a parallel pass.
  const bool fuse = !intermediates && at::get_num_threads() == 1;
  TORCH_CHECK_VALUE(fuse || parents.compute_all(),
                    "super_bpd: angles must be finite radians in [0, 2*pi]");
  if (intermediates) {
    // The forest before root merging is an output: build it, record it, then merge the roots.
    std::vector<int32_t> root_list;
    build_forest(par, is_root, H, W, /*merge_roots=*/false, L, &root_list, nullptr);
    roots = pooled_tensor(H, W);
    before = pooled_tensor(H, W);
    int32_t* root_out = roots.data_ptr<int32_t>();
    int32_t* before_out = before.data_ptr<int32_t>();
    for (int64_t i = 0; i < P; ++i) {
      L[i] = L[L[i]];
      before_out[i] = L[i] + 1;
      root_out[i] = is_root[i];
    }
    for (const int32_t p : root_list) {
      unite_root_window(L, is_root, p, H, W);
    }
  } else {
    TORCH_CHECK_VALUE(build_forest(par, is_root, H, W, /*merge_roots=*/true, L, nullptr,
                                   fuse ? &parents : nullptr),
                      "super_bpd: angles must be finite radians in [0, 2*pi]");
  }
  // Rows are flattened ahead of the boundary scan that reads them (Q1 walks up to 3 rows away).
  // Until the final pass, the labels buffer holds per-region values at the representatives.
  int32_t* at_rep = labels.data_ptr<int32_t>();
  std::vector<int32_t> reps;
  BoundaryPairs pairs;  // first as representatives, then as node ids
  PairWriter writer{pairs};
  const int64_t ahead = reference_quirks ? kWalkSteps + 1 : 1;
  int64_t flat = 0;
  for (int64_t h = 0; h < H; ++h) {
    for (; flat < std::min(H, h + ahead + 1); ++flat) {
      flatten_row(L, at_rep, flat, W, reps);
    }
    if (h + kWalkSteps + 1 < H) {
      // The 3-parent walks of this row and the next reach kWalkSteps rows further down.
      prefetch_row(par + (h + kWalkSteps + 1) * W, W);
      prefetch_row(ang + (h + kWalkSteps + 1) * W, W);
    }
    if (reference_quirks) {
      boundary_row<true>(ang, par, L, h, H, W, writer);
    } else {
      boundary_row<false>(ang, par, L, h, H, W, writer);
    }
  }
  writer.finish();
  // Graph nodes are the regions in raster order of their representatives.
  std::vector<int64_t> areas(reps.size());
  for (size_t k = 0; k < reps.size(); ++k) {
    areas[k] = at_rep[reps[k]];
    at_rep[reps[k]] = static_cast<int32_t>(k);
  }
  for (size_t e = 0; e < pairs.i.size(); ++e) {
    pairs.i[e] = at_rep[pairs.i[e]];
    pairs.j[e] = at_rep[pairs.j[e]];
  }
  const std::vector<int32_t> final_node =
      merge_region_graph(pairs.i.data(), pairs.j.data(), pairs.diff.data(),
                         static_cast<int64_t>(pairs.i.size()), areas, params);
  for (size_t k = 0; k < reps.size(); ++k) {
    at_rep[reps[k]] = reps[final_node[k]] + 1;
  }
  // Final labels; the representatives already hold theirs and are only read.
  at::parallel_for(0, P, 1 << 16, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      if (L[i] != i) {
        at_rep[i] = at_rep[L[i]];
      }
    }
    if (intermediates) {
      for (int64_t i = i0; i < i1; ++i) {
        L[i] += 1;  // L[] is the after-dilation tensor
      }
    }
  });
  if (!intermediates) {
    after = at::empty({0}, at::kInt);
  }
  return {roots, before, after, labels};
}

TORCH_LIBRARY_IMPL(goss, CPU, m) {
  m.impl("super_bpd", &super_bpd_cpu);
}

}  // namespace super_bpd
}  // namespace goss
