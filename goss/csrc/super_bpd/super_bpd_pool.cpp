// A small pool of CPU buffers for the Super-BPD op. Each call needs several image-sized arrays;
// fresh allocations of that size are page-faulted in on every call, which costs more than the
// algorithm itself, so released buffers are kept (up to a cap) and handed out again.
#include <cstdlib>
#include <mutex>
#include <vector>

#include "super_bpd/super_bpd.h"

namespace goss {
namespace super_bpd {

namespace {

constexpr size_t kMaxPooledBytes = size_t{256} << 20;
constexpr size_t kMaxPooledBuffers = 16;

struct Pool {
  std::mutex mutex;
  std::vector<std::pair<size_t, void*>> free;  // (bytes, pointer)
  size_t bytes = 0;
};

Pool& pool() {
  static Pool* p = new Pool();  // never destroyed: tensors may outlive static destruction
  return *p;
}

void release(void* ptr, size_t bytes) {
  Pool& p = pool();
  {
    std::lock_guard<std::mutex> lock(p.mutex);
    if (p.free.size() < kMaxPooledBuffers && p.bytes + bytes <= kMaxPooledBytes) {
      p.free.emplace_back(bytes, ptr);
      p.bytes += bytes;
      return;
    }
  }
  std::free(ptr);
}

}  // namespace

at::Tensor pooled_tensor(int64_t H, int64_t W, at::ScalarType dtype) {
  const size_t bytes = (static_cast<size_t>(H * W) * at::elementSize(dtype) + 63) / 64 * 64;
  void* ptr = nullptr;
  {
    Pool& p = pool();
    std::lock_guard<std::mutex> lock(p.mutex);
    for (size_t k = 0; k < p.free.size(); ++k) {
      if (p.free[k].first == bytes) {
        ptr = p.free[k].second;
        p.free.erase(p.free.begin() + static_cast<int64_t>(k));
        p.bytes -= bytes;
        break;
      }
    }
  }
  if (ptr == nullptr) {
    ptr = std::aligned_alloc(64, bytes);
    TORCH_CHECK(ptr != nullptr, "super_bpd: out of memory allocating ", bytes, " bytes");
  }
  return at::from_blob(
      ptr, {H, W}, [bytes](void* q) { release(q, bytes); }, at::TensorOptions().dtype(dtype));
}

}  // namespace super_bpd
}  // namespace goss
