// Bilinear upsampling added in place: out += upsample(input) (GOSS's BPD head at inference).
//
// torch.ops.goss.bilinear_upsample_add_(out, input) -> out
//
// out: float32 [B, C, H, W]; input: float32 [B, C, h, w]; both on the CPU, both contiguous in
// the same memory format (channels-last or the default one). Adds to every element of out the
// bilinear interpolation of input at its size (H, W), with the sampling of
// F.interpolate(input, size=(H, W), mode="bilinear", align_corners=False): source coordinate
// (dst + 0.5) * in / out - 0.5, clamped at 0, its two neighbours clamped at the border. The same
// values as out.add_(F.interpolate(...)) up to float rounding, without writing the upsampled
// tensor: one pass over out.
#pragma once

#include <torch/types.h>

namespace goss {
namespace upsample_add {

at::Tensor& bilinear_upsample_add_cpu(at::Tensor& out, const at::Tensor& input);

}  // namespace upsample_add
}  // namespace goss
