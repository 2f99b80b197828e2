// Region-graph stage of Super-BPD (docs/super-bpd.md, steps 5-8), shared by the CPU and the
// CUDA op: sparse edge accumulation in a fixed (raster) order, edge classification, a stable sort
// by (mean, i, j) and the two greedy merge passes, with the reference's quirks Q2/Q3 switchable.
#include <algorithm>
#include <numeric>

#include "super_bpd/super_bpd.h"

namespace goss {
namespace super_bpd {

namespace {

struct Edge {
  int32_t i;
  int32_t j;
  double sum;
  int64_t count;
  float mean;
};

// Accumulates boundary pairs per node pair (i, j), without an N x N matrix: the pairs are
// bucketed by i with a stable counting sort, so every edge sums its pairs in the order given;
// within a bucket, edge_of[j] is the edge (i, j) if it is not older than the bucket's first edge.
std::vector<Edge> accumulate_edges(const int32_t* pair_i, const int32_t* pair_j,
                                   const float* pair_diff, int64_t n_pairs, int32_t n_nodes) {
  // 64-bit offsets and edge ids: an image of up to 2^31 - 1 pixels has up to about 2^32 pairs.
  std::vector<int64_t> start(static_cast<size_t>(n_nodes) + 1, 0);
  for (int64_t r = 0; r < n_pairs; ++r) {
    ++start[pair_i[r] + 1];
  }
  std::partial_sum(start.begin(), start.end(), start.begin());
  // (j, diff) of the pairs, bucketed by i, in the order given within a bucket.
  std::vector<int32_t> bucket_j(n_pairs);
  std::vector<float> bucket_diff(n_pairs);
  {
    std::vector<int64_t> next(start.begin(), start.end() - 1);
    for (int64_t r = 0; r < n_pairs; ++r) {
      const int64_t k = next[pair_i[r]]++;
      bucket_j[k] = pair_j[r];
      bucket_diff[k] = pair_diff[r];
    }
  }
  std::vector<Edge> edges;
  std::vector<int64_t> edge_of(n_nodes, -1);
  for (int32_t i = 0; i < n_nodes; ++i) {
    const int64_t first_edge = static_cast<int64_t>(edges.size());  // edges of i start here
    for (int64_t k = start[i]; k < start[i + 1]; ++k) {
      const int32_t j = bucket_j[k];
      int64_t e = edge_of[j];
      if (e < first_edge) {
        e = static_cast<int64_t>(edges.size());
        edge_of[j] = e;
        edges.push_back({i, j, 0.0, 0, 0.0f});
      }
      edges[e].sum += bucket_diff[k];
      edges[e].count += 1;
    }
  }
  for (Edge& e : edges) {
    // The reference rounds the mean to float before every comparison.
    e.mean = static_cast<float>(e.sum / static_cast<double>(e.count));
  }
  return edges;
}

int32_t find_root(std::vector<int32_t>& parent, int32_t x) {
  while (parent[x] != x) {
    parent[x] = parent[parent[x]];
    x = parent[x];
  }
  return x;
}

// Repulsion between two current sets. Quirk Q3: only the original id y in x's accumulated row.
// Corrected: any member of X repels any member of Y (rows are symmetric, members checked by find).
bool repelled(std::vector<std::vector<int32_t>>& rows, std::vector<int32_t>& parent, int32_t x,
              int32_t y, bool quirks) {
  if (quirks) {
    return std::binary_search(rows[x].begin(), rows[x].end(), y);
  }
  const bool x_smaller = rows[x].size() <= rows[y].size();
  const int32_t a = x_smaller ? x : y;
  const int32_t b = x_smaller ? y : x;
  for (int32_t member : rows[a]) {
    if (find_root(parent, member) == b) {
      return true;
    }
  }
  return false;
}

void union_rows(std::vector<int32_t>& into, const std::vector<int32_t>& from) {
  if (from.empty()) {
    return;
  }
  std::vector<int32_t> merged;
  merged.reserve(into.size() + from.size());
  std::set_union(into.begin(), into.end(), from.begin(), from.end(), std::back_inserter(merged));
  into.swap(merged);
}

}  // namespace

std::vector<int32_t> merge_region_graph(const int32_t* pair_i, const int32_t* pair_j,
                                        const float* pair_diff, int64_t n_pairs,
                                        const std::vector<int64_t>& areas, const Params& params) {
  const int32_t n_nodes = static_cast<int32_t>(areas.size());
  std::vector<Edge> edges = accumulate_edges(pair_i, pair_j, pair_diff, n_pairs, n_nodes);

  // Classification: repulsive pairs are not edges (step 6).
  const double repulse_thresh = kPi - params.s_o * kPi / 180.0;
  std::vector<std::vector<int32_t>> rows(n_nodes);
  std::vector<int64_t> candidates;
  for (int64_t e = 0; e < static_cast<int64_t>(edges.size()); ++e) {
    if (static_cast<double>(edges[e].mean) > repulse_thresh) {
      rows[edges[e].i].push_back(edges[e].j);
      if (!params.reference_quirks) {
        rows[edges[e].j].push_back(edges[e].i);
      }
    } else {
      candidates.push_back(e);
    }
  }
  for (auto& row : rows) {
    std::sort(row.begin(), row.end());
  }
  // Ascending mean, ties by (i, j): a total order, so the result is deterministic.
  std::sort(candidates.begin(), candidates.end(), [&](int64_t a, int64_t b) {
    const Edge& ea = edges[a];
    const Edge& eb = edges[b];
    if (ea.mean != eb.mean) {
      return ea.mean < eb.mean;
    }
    return ea.i != eb.i ? ea.i < eb.i : ea.j < eb.j;
  });

  std::vector<int32_t> parent(n_nodes);
  std::iota(parent.begin(), parent.end(), 0);
  std::vector<int64_t> area(areas);
  std::vector<uint8_t> marked(candidates.size(), 0);
  const float thresh_l = static_cast<float>(kPi - params.theta_l * kPi / 180.0);
  const float thresh_s = static_cast<float>(kPi - params.theta_s * kPi / 180.0);

  auto merge = [&](int32_t x, int32_t y) {
    // Q2 (quirks): with x == y the area doubles; the corrected mode never gets here with x == y.
    parent[x] = y;
    union_rows(rows[y], rows[x]);
    area[y] = area[x] + area[y];
  };
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t c = 0; c < candidates.size(); ++c) {
      if (marked[c]) {
        continue;
      }
      const Edge& e = edges[candidates[c]];
      const int32_t x = find_root(parent, e.i);
      const int32_t y = find_root(parent, e.j);
      if (x == y && !params.reference_quirks) {
        continue;
      }
      const int64_t m = std::min(area[x], area[y]);
      const bool eligible = pass == 0 ? m > kTinyArea : m <= kTinyArea;
      if (!eligible || repelled(rows, parent, x, y, params.reference_quirks)) {
        continue;
      }
      if (pass == 0 && !(e.mean < (m > kLargeArea ? thresh_l : thresh_s))) {
        continue;
      }
      marked[c] = 1;
      merge(x, y);
    }
  }

  // Every node's final region is named after its smallest node id (= its first pixel).
  std::vector<int32_t> first_node(n_nodes, n_nodes);
  for (int32_t k = 0; k < n_nodes; ++k) {
    int32_t r = find_root(parent, k);
    first_node[r] = std::min(first_node[r], k);
  }
  std::vector<int32_t> result(n_nodes);
  for (int32_t k = 0; k < n_nodes; ++k) {
    result[k] = first_node[find_root(parent, k)];
  }
  return result;
}

void check_inputs(const at::Tensor& angles, const Params& params) {
  TORCH_CHECK(angles.dim() == 2, "super_bpd: angles must be 2-D [H, W], got ", angles.dim(), "-D");
  TORCH_CHECK(angles.scalar_type() == at::kFloat, "super_bpd: angles must be float32");
  TORCH_CHECK(angles.is_contiguous(), "super_bpd: angles must be contiguous");
  TORCH_CHECK(angles.numel() > 0, "super_bpd: angles must not be empty");
  TORCH_CHECK(angles.numel() < (int64_t{1} << 31), "super_bpd: at most 2^31 - 1 pixels");
  for (double t : {params.theta_a, params.theta_l, params.theta_s, params.s_o}) {
    TORCH_CHECK(std::isfinite(t) && t >= 0.0 && t <= 180.0, "super_bpd: thresholds in [0, 180]");
  }
}

}  // namespace super_bpd
}  // namespace goss
