// Which SIMD kernels the CPU ops may pick at run time (one rule for all of them).
//
// GOSS_HAVE_AVX2_KERNELS is defined where kernels can be compiled for AVX2 next to the baseline
// (GCC or Clang on x86); use_avx2_kernels() says whether this CPU runs them, unless PyTorch's
// ATEN_CPU_CAPABILITY=default asks for the baseline instruction set (as it does for ATen).
#pragma once

#include <cstdlib>
#include <cstring>

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define GOSS_HAVE_AVX2_KERNELS 1
#endif

namespace goss {

inline bool use_avx2_kernels() {
#if defined(GOSS_HAVE_AVX2_KERNELS)
  const char* capability = std::getenv("ATEN_CPU_CAPABILITY");
  const bool baseline = capability != nullptr && std::strcmp(capability, "default") == 0;
  return !baseline && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

}  // namespace goss
