// CUDA implementation of torch.ops.goss.super_bpd. The pixel stages (parents, union-find, root
// merging, boundary pairs) run on the GPU; the compacted boundary pairs go to the CPU for the
// shared region-graph stage (super_bpd_graph.cpp), and the final labels are gathered on the GPU.
// Union-find keeps the minimum index as representative, so every label map is independent of
// thread scheduling, and the boundary pairs keep raster order: the result equals the CPU op's.
#include <ATen/ATen.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/library.h>

#include "super_bpd/super_bpd.h"

namespace goss {
namespace super_bpd {

namespace {

constexpr int kThreads = 256;

__constant__ int kDevDirRow[8] = {1, 1, 0, -1, -1, -1, 0, 1};
__constant__ int kDevDirCol[8] = {0, 1, 1, 1, 0, -1, -1, -1};

int blocks_for(int64_t n) {
  return static_cast<int>(std::min<int64_t>((n + kThreads - 1) / kThreads, 65535 * 16));
}

__device__ int find_root(const int* L, int x) {
  int y;
  while ((y = reinterpret_cast<const volatile int*>(L)[x]) != x) {
    x = y;
  }
  return x;
}

// Lock-free union linking the larger root under the smaller (retries when a root moved).
__device__ void unite(int* L, int a, int b) {
  while (true) {
    a = find_root(L, a);
    b = find_root(L, b);
    if (a == b) {
      return;
    }
    if (a > b) {
      const int t = a;
      a = b;
      b = t;
    }
    const int old = atomicMin(&L[b], a);
    if (old == b) {
      return;
    }
    b = old;
  }
}

__global__ void find_parents_kernel(const float* ang, int H, int W, double thresh, float two_pi,
                                    int* par, int* root) {
  const int64_t P = static_cast<int64_t>(H) * W;
  for (int64_t p = blockIdx.x * blockDim.x + threadIdx.x; p < P; p += blockDim.x * gridDim.x) {
    const int h = static_cast<int>(p / W), w = static_cast<int>(p % W);
    if (!(ang[p] >= 0.0f && ang[p] <= two_pi)) {
      // Invalid angles (the Python face rejects them) become roots instead of bad indices.
      par[p] = static_cast<int>(p);
      root[p] = 1;
      continue;
    }
    const int k = direction_bin(ang[p]);
    const int qh = h + kDevDirRow[k], qw = w + kDevDirCol[k];
    bool is_root = qh < 0 || qh >= H || qw < 0 || qw >= W;
    if (!is_root) {
      is_root = circdiff(ang[p], ang[static_cast<int64_t>(qh) * W + qw]) > thresh;
    }
    par[p] = is_root ? static_cast<int>(p) : qh * W + qw;
    root[p] = is_root ? 1 : 0;
  }
}

__global__ void union_parents_kernel(int* L, const int* par, int64_t P) {
  for (int64_t p = blockIdx.x * blockDim.x + threadIdx.x; p < P; p += blockDim.x * gridDim.x) {
    unite(L, static_cast<int>(p), par[p]);
  }
}

__global__ void flatten_kernel(int* L, int64_t P) {
  for (int64_t p = blockIdx.x * blockDim.x + threadIdx.x; p < P; p += blockDim.x * gridDim.x) {
    L[p] = find_root(L, static_cast<int>(p));
  }
}

__global__ void merge_roots_kernel(int* L, const int* root, int H, int W) {
  const int64_t P = static_cast<int64_t>(H) * W;
  for (int64_t p = blockIdx.x * blockDim.x + threadIdx.x; p < P; p += blockDim.x * gridDim.x) {
    if (!root[p]) {
      continue;
    }
    const int h = static_cast<int>(p / W), w = static_cast<int>(p % W);
    for (int qh = h; qh <= min(H - 1, h + kRootRadius); ++qh) {
      for (int qw = max(0, w - kRootRadius); qw <= min(W - 1, w + kRootRadius); ++qw) {
        if (root[qh * W + qw]) {
          unite(L, static_cast<int>(p), qh * W + qw);
        }
      }
    }
  }
}

// Two slots per pixel (right pair, bottom pair); valid[s] = 0 where there is no boundary pair.
__global__ void boundary_pairs_kernel(const float* ang, const int* par, const int* L,
                                      const int* node, int H, int W, bool quirks, uint8_t* valid,
                                      int* pi, int* pj, float* pd) {
  const int64_t P = static_cast<int64_t>(H) * W;
  for (int64_t p = blockIdx.x * blockDim.x + threadIdx.x; p < P; p += blockDim.x * gridDim.x) {
    int ch = static_cast<int>(p / W), cw = static_cast<int>(p % W);
    for (int k = 0; k < 2; ++k) {
      const int64_t s = 2 * p + k;
      valid[s] = 0;
      const int qh = ch + (k == 1), qw = cw + (k == 0);
      if (qh >= H || qw >= W) {
        continue;
      }
      const int c = ch * W + cw, q = qh * W + qw;
      if (L[p] == L[q]) {
        continue;
      }
      int a = c, b = q;
      for (int step = 0; step < kWalkSteps; ++step) {
        a = par[a];
        b = par[b];
      }
      valid[s] = 1;
      pi[s] = min(node[c], node[q]);
      pj[s] = max(node[c], node[q]);
      pd[s] = static_cast<float>(circdiff(ang[a], ang[b]));
      if (quirks) {
        ch = a / W;
        cw = a % W;
      }
    }
  }
}

void check_launch() {
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

}  // namespace

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> super_bpd_cuda(
    const at::Tensor& angles, double theta_a, double theta_l, double theta_s, double s_o,
    bool reference_quirks, bool /*intermediates: always computed, they cost little here*/) {
  const Params params{theta_a, theta_l, theta_s, s_o, reference_quirks};
  check_inputs(angles, params);
  TORCH_CHECK(angles.is_cuda(), "super_bpd_cuda: angles must be a CUDA tensor");
  c10::cuda::CUDAGuard guard(angles.device());
  cudaStream_t stream = c10::cuda::getCurrentCUDAStream();
  const int H = static_cast<int>(angles.size(0)), W = static_cast<int>(angles.size(1));
  const int64_t P = static_cast<int64_t>(H) * W;
  const int blocks = blocks_for(P);
  auto iopts = angles.options().dtype(at::kInt);
  const float* ang = angles.data_ptr<float>();

  at::Tensor par = at::empty({P}, iopts);
  at::Tensor roots = at::empty({H, W}, iopts);
  find_parents_kernel<<<blocks, kThreads, 0, stream>>>(ang, H, W, theta_a * kPi / 180.0,
                                                       static_cast<float>(2.0 * M_PI),
                                                       par.data_ptr<int>(), roots.data_ptr<int>());
  check_launch();

  at::Tensor L = at::arange(P, iopts);
  union_parents_kernel<<<blocks, kThreads, 0, stream>>>(L.data_ptr<int>(), par.data_ptr<int>(), P);
  check_launch();
  flatten_kernel<<<blocks, kThreads, 0, stream>>>(L.data_ptr<int>(), P);
  check_launch();
  at::Tensor before = (L + 1).view({H, W});
  merge_roots_kernel<<<blocks, kThreads, 0, stream>>>(L.data_ptr<int>(), roots.data_ptr<int>(), H,
                                                      W);
  check_launch();
  flatten_kernel<<<blocks, kThreads, 0, stream>>>(L.data_ptr<int>(), P);
  check_launch();
  at::Tensor after = (L + 1).view({H, W});

  // Nodes: after-dilation super-BPDs numbered in raster order of their first pixel.
  at::Tensor is_rep = L.eq(at::arange(P, iopts));
  at::Tensor first_pixel = at::nonzero(is_rep).view({-1});
  at::Tensor node = (at::cumsum(is_rep, 0, at::kInt) - 1).index_select(0, L.to(at::kLong));
  at::Tensor areas_t = at::bincount(node).cpu();
  std::vector<int64_t> areas(areas_t.data_ptr<int64_t>(),
                             areas_t.data_ptr<int64_t>() + areas_t.numel());

  at::Tensor valid = at::empty({2 * P}, angles.options().dtype(at::kByte));
  at::Tensor pi = at::empty({2 * P}, iopts), pj = at::empty({2 * P}, iopts);
  at::Tensor pd = at::empty({2 * P}, angles.options());
  boundary_pairs_kernel<<<blocks, kThreads, 0, stream>>>(
      ang, par.data_ptr<int>(), L.data_ptr<int>(), node.data_ptr<int>(), H, W, reference_quirks,
      valid.data_ptr<uint8_t>(), pi.data_ptr<int>(), pj.data_ptr<int>(), pd.data_ptr<float>());
  check_launch();
  at::Tensor mask = valid.to(at::kBool);
  at::Tensor pi_c = pi.masked_select(mask).cpu(), pj_c = pj.masked_select(mask).cpu();
  at::Tensor pd_c = pd.masked_select(mask).cpu();

  std::vector<int32_t> final_node =
      merge_region_graph(pi_c.data_ptr<int32_t>(), pj_c.data_ptr<int32_t>(), pd_c.data_ptr<float>(),
                         pi_c.numel(), areas, params);
  at::Tensor first_cpu = first_pixel.cpu();
  const int64_t* first = first_cpu.data_ptr<int64_t>();
  at::Tensor node_label = at::empty({static_cast<int64_t>(final_node.size())}, at::kInt);
  int32_t* nl = node_label.data_ptr<int32_t>();
  for (size_t k = 0; k < final_node.size(); ++k) {
    nl[k] = static_cast<int32_t>(first[final_node[k]] + 1);
  }
  at::Tensor labels =
      node_label.to(angles.device()).index_select(0, node.to(at::kLong)).view({H, W});
  return {roots, before, after, labels};
}

TORCH_LIBRARY_IMPL(goss, CUDA, m) {
  m.impl("super_bpd", &super_bpd_cuda);
}

}  // namespace super_bpd
}  // namespace goss
