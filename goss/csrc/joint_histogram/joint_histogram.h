// Joint histogram of two id maps over known key lists (GQ evaluation's pixel pass).
//
// torch.ops.goss.joint_histogram(gt_ids, gt_keys, pred_ids, pred_keys)
//   -> (joint int64 [Kg, Kp], gt_missing int, pred_missing int)
//
// gt_ids / pred_ids: CPU integer tensors (int32, int64 or uint32) with the same number of
// elements, contiguous, read in place. gt_keys / pred_keys: distinct int64 ids, 1-D, non-empty.
// joint[a, b] counts the pixels whose GT id is gt_keys[a] and whose predicted id is
// pred_keys[b]. gt_missing / pred_missing count the pixels whose id is not among the keys; when
// they are non-zero the histogram is meaningless (the caller raises an error naming the ids).
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <tuple>

namespace goss {
namespace joint_histogram {

std::tuple<at::Tensor, int64_t, int64_t> joint_histogram_cpu(const at::Tensor& gt_ids,
                                                             const at::Tensor& gt_keys,
                                                             const at::Tensor& pred_ids,
                                                             const at::Tensor& pred_keys);

}  // namespace joint_histogram
}  // namespace goss
