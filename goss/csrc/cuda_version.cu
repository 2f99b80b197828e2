// CUDA runtime version of the build; compiled only WITH_CUDA.
#include <cuda_runtime_api.h>

namespace goss {
int get_cudart_version() {
  return CUDART_VERSION;
}
}  // namespace goss
