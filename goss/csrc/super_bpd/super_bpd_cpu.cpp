// CPU implementation of torch.ops.goss.super_bpd (docs/super-bpd.md, steps 2-8).
#include <ATen/Parallel.h>
#include <c10/util/Exception.h>
#include <torch/types.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstring>
#include <memory>
#include <numeric>
#include <torch/library.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "super_bpd/super_bpd.h"

namespace goss {
namespace super_bpd {

namespace {

// Union-find over pixels whose representative is always the minimum index of its set, so
// L[x] <= x holds for every x: Rem's algorithm with splicing (each step links the larger parent
// under the smaller one and moves up), which needs no separate find.
// The two branches mirror each other on purpose: folding them into one with std::swap measured
// 2-4% slower on tools/benchmark_super_bpd.py fields.
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

// Step 4 for the root p = (h, w): unite it with every root q (is_root[q] = 1) with
// |drow| <= 3 and |dcol| <= 3 that comes later in raster order (earlier ones united with p
// already), or with a root adjacent to it on its row, which gives the same sets.
// Needs L initialised up to row h + 3, and 8 readable bytes after the last flag. Each window row
// (at most 7 flags) is read as one 64-bit word, so only the roots found cost a branch.
inline void unite_root_window(int32_t* L, const uint8_t* is_root, int32_t p, int64_t H, int64_t W) {
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

// Step 3 (and step 4 when merge_roots): the super-BPD forest L, the union of every pixel with
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
    // Most unions are one link of a set root under a smaller value. The last such link is kept
    // in registers: in horizontal flows the next union reads it, and going through memory would
    // chain every pixel to the previous one by the store-to-load latency.
    int32_t last_at = -1, last_value = 0;
    const int32_t end = static_cast<int32_t>((h + 1) * W);
    for (int32_t p = static_cast<int32_t>(h * W); p < end; ++p) {
      const int32_t q = par[p];
      if (q == p) {
        if (merge_roots) {
          unite_root_window(L, is_root, p, H, W);
        } else if (root_list != nullptr) {
          root_list->push_back(p);
        }
        last_at = -1;
        continue;
      }
      const int32_t lp = p == last_at ? last_value : L[p];
      const int32_t lq = q == last_at ? last_value : L[q];
      if (lp < lq && lq == q) {
        L[q] = lp;
        last_at = q;
        last_value = lp;
      } else if (lq < lp && lp == p) {
        L[p] = lq;
        last_at = p;
        last_value = lq;
      } else if (lp != lq) {
        unite(L, p, q);
        last_at = -1;
      }
    }
  }
  return ok;
}

// Flattens row h of L (every earlier row is flat, and L[x] <= x). A pixel with L[i] == i is the
// first pixel (representative) of an after-dilation region: it is appended to reps (which holds
// n_reps so far; the new count is returned), and its region's area is counted at area_at[i], by
// runs of equal representatives.
int32_t flatten_row(int32_t* __restrict L, int32_t* __restrict area_at, int32_t* __restrict reps,
                    int32_t n_reps, int64_t h, int64_t W) {
  int32_t run_rep = -1;
  int32_t run = 0;
  const int32_t end = static_cast<int32_t>((h + 1) * W);
  for (int32_t i = static_cast<int32_t>(h * W); i < end; ++i) {
    const int32_t l = L[L[i]];
    L[i] = l;
    if (l == i) {
      reps[n_reps++] = i;
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
  return n_reps;
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

// Boundary pairs of the region adjacency graph in raster order (right pair, then bottom pair, of
// every pixel): i < j and the circular angle difference at the walked pixels. The arrays grow
// without being zero-filled, from the size the previous call needed.
class PairBuffer {
 public:
  PairBuffer() { grow(std::max<size_t>(1024, last_size_.load(std::memory_order_relaxed))); }
  ~PairBuffer() { last_size_.store(n_ + n_ / 4, std::memory_order_relaxed); }
  // Room for 2 W more pairs (one row).
  void reserve_row(int64_t W) {
    if (n_ + 2 * static_cast<size_t>(W) > capacity_) {
      grow(std::max(n_ + 2 * static_cast<size_t>(W), 2 * capacity_));
    }
  }
  // Writes the pair (x, y) with the angle difference at the walked pixels a, b; keeps it if
  // `keep`, without a branch (most boundary pixels have only one of their two pairs).
  void put(int32_t x, int32_t y, const float* ang, int32_t a, int32_t b, bool keep) {
    i_[n_] = std::min(x, y);
    j_[n_] = std::max(x, y);
    diff_[n_] = static_cast<float>(circdiff(ang[a], ang[b]));
    n_ += keep;
  }
  size_t size() const { return n_; }
  int32_t* i() { return i_.get(); }
  int32_t* j() { return j_.get(); }
  const float* diff() const { return diff_.get(); }

 private:
  template <class T>
  void grow_array(std::unique_ptr<T[]>& a, size_t capacity) {
    std::unique_ptr<T[]> bigger(new T[capacity]);  // not value-initialised
    std::copy(a.get(), a.get() + n_, bigger.get());
    a.swap(bigger);
  }
  void grow(size_t capacity) {
    grow_array(i_, capacity);
    grow_array(j_, capacity);
    grow_array(diff_, capacity);
    capacity_ = capacity;
  }
  static inline std::atomic<size_t> last_size_{0};
  std::unique_ptr<int32_t[]> i_, j_;
  std::unique_ptr<float[]> diff_;
  size_t n_ = 0;
  size_t capacity_ = 0;
};

#if defined(__SSE2__)
// For each 4-bit mask m: the positions of its set bits, packed to the front, and their number.
struct PackTable {
  alignas(16) int32_t pos[16][4];
  int32_t count[16];
  constexpr PackTable() : pos(), count() {
    for (int m = 0; m < 16; ++m) {
      for (int b = 0; b < 4; ++b) {
        if (m >> b & 1) {
          pos[m][count[m]++] = b;
        }
      }
    }
  }
};
constexpr PackTable kPack;
#endif

// The columns w of a row whose L differs from its right (w + 1 < W) or bottom neighbour's, in
// order, written to cols (room for W + 4); returns their number. Branch-free: with SSE2, four
// columns at a time are compared and their boundary columns packed with a table.
int64_t boundary_columns(const int32_t* __restrict row, const int32_t* __restrict below, int64_t W,
                         int32_t* __restrict cols) {
  int64_t n = 0;
  int64_t w = 0;
#if defined(__SSE2__)
  for (; w + 4 < W; w += 4) {
    const __m128i r0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + w));
    const __m128i r1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + w + 1));
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(below + w));
    const __m128i same = _mm_and_si128(_mm_cmpeq_epi32(r0, r1), _mm_cmpeq_epi32(r0, b));
    const int m = ~_mm_movemask_ps(_mm_castsi128_ps(same)) & 0xF;
    const __m128i pos = _mm_load_si128(reinterpret_cast<const __m128i*>(kPack.pos[m]));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(cols + n),
                     _mm_add_epi32(pos, _mm_set1_epi32(static_cast<int32_t>(w))));
    n += kPack.count[m];
  }
#endif
  for (; w < W; ++w) {
    const int32_t right = w + 1 < W ? row[w + 1] : row[w];
    cols[n] = static_cast<int32_t>(w);
    n += (right != row[w]) | (below[w] != row[w]);
  }
  return n;
}

// Step 5: the boundary pairs of row h (right pair, then bottom pair, of every pixel whose
// flattened L differs from its right or bottom neighbour's), appended in raster order. With
// quirks (Q1) the bottom pair of a pixel whose right pair was a boundary starts from the walked
// pixel instead of the pixel itself, so rows up to h + kWalkSteps + 1 must be flat. cols is
// scratch space for W + 4 columns.
template <bool kQuirks>
void boundary_row(const float* ang, const int32_t* par, const int32_t* L, int64_t h, int64_t H,
                  int64_t W, int32_t* cols, PairBuffer& out) {
  out.reserve_row(W);
  const int32_t* row = L + h * W;
  const bool has_below = h + 1 < H;
  const int32_t* below = has_below ? row + W : row;
  const int64_t n_cols = boundary_columns(row, below, W, cols);
  for (int64_t k_col = 0; k_col < n_cols; ++k_col) {
    const int64_t w = cols[k_col];
    const int32_t lp = row[w];
    const int32_t right = w + 1 < W ? row[w + 1] : lp;
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

// out[i] = table[index[i]] for i < n.
void gather_labels(const int32_t* __restrict index, const int32_t* __restrict table,
                   int32_t* __restrict out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    out[i] = table[index[i]];
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
  at::Tensor reps_buf = pooled_tensor(1, P);
  int32_t* reps = reps_buf.data_ptr<int32_t>();
  int32_t n_reps = 0;
  PairBuffer pairs;  // first as representatives, then as node ids
  std::vector<int32_t> cols(W + 4);
  const int64_t ahead = reference_quirks ? kWalkSteps + 1 : 1;
  int64_t flat = 0;
  for (int64_t h = 0; h < H; ++h) {
    for (; flat < std::min(H, h + ahead + 1); ++flat) {
      n_reps = flatten_row(L, at_rep, reps, n_reps, flat, W);
    }
    if (h + kWalkSteps + 1 < H) {
      // The 3-parent walks of this row and the next reach kWalkSteps rows further down.
      prefetch_row(par + (h + kWalkSteps + 1) * W, W);
      prefetch_row(ang + (h + kWalkSteps + 1) * W, W);
    }
    if (reference_quirks) {
      boundary_row<true>(ang, par, L, h, H, W, cols.data(), pairs);
    } else {
      boundary_row<false>(ang, par, L, h, H, W, cols.data(), pairs);
    }
  }
  // Graph nodes are the regions in raster order of their representatives.
  std::vector<int64_t> areas(n_reps);
  for (int32_t k = 0; k < n_reps; ++k) {
    areas[k] = at_rep[reps[k]];
    at_rep[reps[k]] = k;
  }
  int32_t* pair_i = pairs.i();
  int32_t* pair_j = pairs.j();
  for (size_t e = 0; e < pairs.size(); ++e) {
    pair_i[e] = at_rep[pair_i[e]];
    pair_j[e] = at_rep[pair_j[e]];
  }
  const std::vector<int32_t> final_node = merge_region_graph(
      pair_i, pair_j, pairs.diff(), static_cast<int64_t>(pairs.size()), areas, params);
  // Final labels, looked up at the representatives in par (no longer needed as parents).
  int32_t* label_of = par;
  for (int32_t k = 0; k < n_reps; ++k) {
    label_of[reps[k]] = reps[final_node[k]] + 1;
  }
  at::parallel_for(0, P, 1 << 16, [L, label_of, at_rep, intermediates](int64_t i0, int64_t i1) {
    gather_labels(L + i0, label_of, at_rep + i0, i1 - i0);
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
