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
  // Op schemas are added here as ops arrive, e.g. m.def("super_bpd(Tensor angles, ...) -> ...").
}
