// Bilinear upsampling added in place: out += upsample(input) (GOSS's BPD head at inference).
//
// torch.ops.goss.bilinear_upsample_add_(out, input, row_offset=0, full_height=0) -> out
//
// out: float32 [B, C, H, W]; input: float32 [B, C, h, w]; both on the CPU, both contiguous in
// the same memory format (channels-last or the default one). Adds to every element of out the
// bilinear interpolation of input at its size (H, W), with the sampling of
// F.interpolate(input, size=(H, W), mode="bilinear", align_corners=False): source coordinate
// (dst + 0.5) * in / out - 0.5, clamped at 0, its two neighbours clamped at the border. The same
// values as out.add_(F.interpolate(...)) up to float rounding, without writing the upsampled
// tensor: one pass over out. With full_height > 0, out holds only rows row_offset ..
// row_offset + H - 1 of an upsampling to (full_height, W) (a band of rows: the BPD head adds the
// coarser maps band by band); full_height 0 means H (row_offset must then be 0).
#pragma once

#include <torch/types.h>

namespace goss {
namespace upsample_add {

at::Tensor& bilinear_upsample_add_cpu(at::Tensor& out, const at::Tensor& input, int64_t row_offset,
                                      int64_t full_height);

}  // namespace upsample_add
}  // namespace goss
