// Super-BPD post-processing (Wan et al., CVPR 2020); the steps are those of docs/super-bpd.md.
//
// torch.ops.goss.super_bpd(angles float32 [H, W], theta_a, theta_l, theta_s, s_o, reference_quirks,
//                          intermediates=True)
//   -> (roots, before_dilation, after_dilation, labels), all int32 [H, W] on the input's device.
// With intermediates=False the CPU op may skip the first three and return them empty.
// Labels are 1 + the minimum raster index of each region (the reference's convention).
//
// The pixel stages (parents, union-find, root merging, boundary pairs) run on the input's device;
// the region-graph stage (edge accumulation, classification, greedy merge) is shared CPU code.
#pragma once

#include <torch/types.h>

#include <cmath>
#include <cstdint>
#include <tuple>
#include <vector>

#if defined(__CUDACC__)
#define GOSS_HOST_DEVICE __host__ __device__
#else
#define GOSS_HOST_DEVICE
#endif

namespace goss {
namespace super_bpd {

// The reference's PI literal (bpd_cuda.cpp l.7), used for every degree -> radian conversion.
constexpr double kPi = 3.14159265;
// Hard-coded sizes of the reference: root-merge radius, parent walk length, area classes.
constexpr int kRootRadius = 3;
constexpr int kWalkSteps = 3;
constexpr int64_t kTinyArea = 250;
constexpr int64_t kLargeArea = 1500;

struct Params {
  double theta_a;
  double theta_l;
  double theta_s;
  double s_o;
  bool reference_quirks;
};

// Circular difference of two angles in [0, pi] (the reference's circdiff, in double).
// The float difference is rounded to float first, as in the reference.
GOSS_HOST_DEVICE inline double circdiff(float a, float b) {
  const double d = fabsf(a - b);
  return d > kPi ? 2.0 * kPi - d : d;
}

// The 8 parent directions (drow, dcol); index k points at angle k*pi/4 (0 = down).
constexpr int kDirRow[8] = {1, 1, 0, -1, -1, -1, 0, 1};
constexpr int kDirCol[8] = {0, 1, 1, 1, 0, -1, -1, -1};

// Quantised direction bin of an angle in [0, 2pi): floor((theta + pi/8) / (pi/4)) mod 8.
GOSS_HOST_DEVICE inline int direction_bin(float theta) {
  int k = static_cast<int>((static_cast<double>(theta) + kPi / 8.0) / (kPi / 4.0));
  return k >= 8 ? k - 8 : k;
}

// Shared CPU region-graph stage. Given the boundary pairs (in raster order) and the area of each of
// the n_nodes after-dilation super-BPDs (node k = k-th region in raster order of first pixel),
// returns for every node the node id of the first node (minimum id) of its final region.
std::vector<int32_t> merge_region_graph(const int32_t* pair_i, const int32_t* pair_j,
                                        const float* pair_diff, int64_t n_pairs,
                                        const std::vector<int64_t>& areas, const Params& params);

// Exact float-domain forms of the reference's double-precision parent tests (step 2):
// bin(theta) = #{k in 1..8 : theta >= bin_start[k]} mod 8, and a pixel is a root when
// root_lo <= |theta - theta_parent| <= root_hi.
struct FloatTables {
  float two_pi;
  float bin_start[9];
  float root_lo;
  float root_hi;
};

// Step 2 on the CPU (super_bpd_parents.cpp): par[p] = the parent of pixel p, or p for a
// root, and is_root[p] = (par[p] == p), for angles float [H, W], by rows.
class ParentRows {
 public:
  ParentRows(const float* ang, int64_t H, int64_t W, double theta_a, int32_t* par,
             uint8_t* is_root);
  // Rows [h0, h1); false if an angle there is not a finite value in [0, 2pi].
  bool compute(int64_t h0, int64_t h1) const;
  // All rows, in parallel over row blocks.
  bool compute_all() const;

 private:
  const float* ang_;
  int64_t H_, W_;
  int32_t* par_;
  uint8_t* is_root_;
  FloatTables tables_;
};

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> super_bpd_cpu(
    const at::Tensor& angles, double theta_a, double theta_l, double theta_s, double s_o,
    bool reference_quirks, bool intermediates);

#if defined(WITH_CUDA)
std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> super_bpd_cuda(
    const at::Tensor& angles, double theta_a, double theta_l, double theta_s, double s_o,
    bool reference_quirks, bool intermediates);
#endif

// A [H, W] CPU tensor of dtype whose memory comes from (and returns to) a small pool of buffers.
at::Tensor pooled_tensor(int64_t H, int64_t W, at::ScalarType dtype = at::kInt);

// Argument checks shared by both devices (TORCH_CHECK, i.e. RuntimeError from the op).
void check_inputs(const at::Tensor& angles, const Params& params);

}  // namespace super_bpd
}  // namespace goss
