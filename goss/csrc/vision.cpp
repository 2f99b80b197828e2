// The single registration point of GOSS's compiled ops.
// Ops are declared in TORCH_LIBRARY(goss, m) and reached as torch.ops.goss.<name>; their CPU and
// CUDA implementations register with TORCH_LIBRARY_IMPL in their own folders (see README.md).
#include <torch/extension.h>

namespace goss {

#if defined(WITH_CUDA)
int get_cudart_version();
#endif

// Whether this build of goss._C contains the CUDA kernels.
bool has_cuda() {
#if defined(WITH_CUDA)
  return true;
#else
  return false;
#endif
}

// The CUDA runtime version goss._C was built with (0 for a CPU-only build).
int cuda_version() {
#if defined(WITH_CUDA)
  return get_cudart_version();
#else
  return 0;
#endif
}

}  // namespace goss

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("has_cuda", &goss::has_cuda, "whether goss._C was built with CUDA kernels");
  m.def("cuda_version", &goss::cuda_version, "CUDA runtime version of the build (0: CPU only)");
}

TORCH_LIBRARY(goss, m) {
  // Super-BPD post-processing (goss/csrc/super_bpd): angles float32 [H, W] in [0, 2pi), thresholds
  // in degrees -> (roots, before_dilation, after_dilation, labels), int32 [H, W] each; with
  // intermediates=False the first three may come back empty (the CPU op skips them).
  m.def(
      "super_bpd(Tensor angles, float theta_a, float theta_l, float theta_s, float s_o, "
      "bool reference_quirks, bool intermediates=True) -> (Tensor, Tensor, Tensor, Tensor)");
  // Joint histogram of two id maps for GQ evaluation (goss/csrc/joint_histogram): ids int32,
  // int64 or uint32 (same number of elements), keys distinct int64 [Kg] / [Kp] ->
  // (joint int64 [Kg, Kp], GT pixels not among the keys, predicted pixels not among the keys).
  m.def(
      "joint_histogram(Tensor gt_ids, Tensor gt_keys, Tensor pred_ids, Tensor pred_keys) -> "
      "(Tensor, int, int)");
  // Bilinear upsampling added in place (goss/csrc/upsample_add): out float32 [B, C, H, W] +=
  // F.interpolate(input [B, C, h, w], (H, W), bilinear, align_corners=False); CPU only. With
  // full_height > 0, out is rows row_offset.. of an upsampling to (full_height, W).
  m.def(
      "bilinear_upsample_add_(Tensor(a!) out, Tensor input, int row_offset=0, int full_height=0) "
      "-> Tensor(a!)");
}
