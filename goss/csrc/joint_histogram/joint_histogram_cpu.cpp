// CPU implementation of torch.ops.goss.joint_histogram (see joint_histogram.h).
//
// One pass over the pixels. Each GT and predicted id is mapped to a slot of a small table of its
// keys by a collision-free multiplicative hash, slot(id) = (id * mul) >> shift, searched for at
// run time. The slot holds the key, so every hit is verified: an id that is not a key lands on a
// slot holding another key and its mismatch is OR-ed into an error word (no branch); the ids are
// counted, only then, in a second pass. The slot also holds the flat histogram offset of its key,
// and the two offsets add up to the pixel's bin.
//
// Single-threaded (evaluation runs one image per process or worker). Speed, about 2 cycles per
// pixel on the 2.6 GHz EPYC development machine (about what two 64-bit multiplies a pixel allow,
// measured with 640x480 images of tools/benchmark_evaluation.py): keys and offsets in separate
// arrays (index scaling fits the addressing mode), one shift for both tables, everything the loop
// reads in locals or __restrict pointers so that the histogram stores cannot force reloads, and
// kCopies interleaved 32-bit counters per bin (pixel i to copy i % kCopies) so that runs of equal
// pixels do not wait on the previous increment of the same counter. The copies are added into
// the 64-bit result every kChunk pixels.
#include <c10/util/Exception.h>
#include <torch/library.h>
#include <torch/types.h>

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <vector>

#include "joint_histogram/joint_histogram.h"

namespace goss {
namespace joint_histogram {

namespace {

// Interleaved counters per bin, used while kk * kCopies <= kMaxCopiedBins (else one int64).
constexpr int kCopies = 4;
constexpr int64_t kMaxCopiedBins = int64_t{1} << 16;
// Pixels per flush of the 32-bit counters (each copy then counts at most 2^29 per chunk).
constexpr int64_t kChunk = int64_t{1} << 31;
// Hash search: multipliers tried per table size, sizes tried above the smallest (2 slots per key)
// and the largest table (2^20 slots, 16 MiB; enough for about 1400 keys, more use SortedSlot).
constexpr int kAttemptsPerSize = 64;
constexpr int kExtraBits = 8;
constexpr int kMaxBits = 20;

// The keys of one id map as the pixel loop reads them: slot s holds keys[s] and the flat
// histogram offset of its pixels. Empty hash slots hold a key that hashes elsewhere (so an id
// reaching one mismatches) and a valid offset (so the histogram is never written out of range).
struct Table {
  std::vector<int64_t> keys;
  std::vector<int64_t> offsets;
};

// slot(id) by the multiplicative hash.
struct HashSlot {
  uint64_t mul;
  int shift;
  inline uint64_t operator()(int64_t id) const {
    return (static_cast<uint64_t>(id) * mul) >> shift;
  }
};

// slot(id) by a branch-free binary search of sorted keys: the last key <= id (slot 0 when id is
// below every key). The fallback when no hash is found.
struct SortedSlot {
  const int64_t* keys;
  size_t size;
  inline uint64_t operator()(int64_t id) const {
    const int64_t* first = keys;
    size_t len = size;
    while (len > 1) {
      const size_t half = len / 2;
      first = first[half] <= id ? first + half : first;
      len -= half;
    }
    return static_cast<uint64_t>(first - keys);
  }
};

// What the pixel loop needs of one table, by value (locals: no reloads after histogram stores).
template <typename Slot>
struct Side {
  const int64_t* __restrict keys;
  const int64_t* __restrict offsets;
  Slot slot;
};

// splitmix64: a fixed sequence of well-mixed 64-bit numbers (deterministic multipliers).
uint64_t next_random(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

int min_bits(size_t k) {
  int bits = 4;
  while ((size_t{1} << bits) < 2 * k) {
    ++bits;
  }
  return bits;
}

// A multiplier hashing `keys` without collision into 2^bits slots, or 0 if none of those tried.
uint64_t find_multiplier(const std::vector<int64_t>& keys, int bits) {
  uint64_t state = 0x243F6A8885A308D3ULL + static_cast<uint64_t>(bits);
  std::vector<uint8_t> used(size_t{1} << bits, 0);
  std::vector<uint64_t> taken;  // the slots marked in `used` by this attempt
  taken.reserve(keys.size());
  for (int attempt = 0; attempt < kAttemptsPerSize; ++attempt) {
    const uint64_t mul = next_random(&state) | 1;
    const HashSlot slot{mul, 64 - bits};
    for (const uint64_t s : taken) {
      used[s] = 0;
    }
    taken.clear();
    for (const int64_t key : keys) {
      const uint64_t s = slot(key);
      if (used[s]) {
        break;
      }
      used[s] = 1;
      taken.push_back(s);
    }
    if (taken.size() == keys.size()) {
      return mul;
    }
  }
  return 0;
}

// The hash table of `keys` (offset of key j: j * scale) for a found multiplier.
Table hash_table(const std::vector<int64_t>& keys, int64_t scale, uint64_t mul, int bits) {
  Table t;
  t.keys.assign(size_t{1} << bits, keys[0]);
  t.offsets.assign(size_t{1} << bits, 0);
  for (size_t j = 0; j < keys.size(); ++j) {
    const uint64_t s = HashSlot{mul, 64 - bits}(keys[j]);
    t.keys[s] = keys[j];
    t.offsets[s] = static_cast<int64_t>(j) * scale;
  }
  return t;
}

// The sorted table of `keys` (offset of key j: j * scale).
Table sorted_table(const std::vector<int64_t>& keys, int64_t scale) {
  std::vector<size_t> order(keys.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return keys[a] < keys[b]; });
  Table t;
  for (const size_t j : order) {
    t.keys.push_back(keys[j]);
    t.offsets.push_back(static_cast<int64_t>(j) * scale);
  }
  return t;
}

// Counts n pixel pairs; pixel i adds 1 to hist[gt offset + pred offset + i % copies]. Returns
// the OR over pixels of (stored key XOR id): non-zero iff some id is not a key.
template <int copies, typename TG, typename TP, typename Slot, typename Count>
uint64_t count_pixels(const TG* __restrict g, const TP* __restrict p, int64_t n,
                      const Side<Slot> gt, const Side<Slot> pred, Count* __restrict hist) {
  uint64_t bad = 0;
  // Pixel i into copy c of its bin.
  const auto add = [&](int64_t i, int c) {
    const int64_t a = static_cast<int64_t>(g[i]);
    const int64_t b = static_cast<int64_t>(p[i]);
    const uint64_t sa = gt.slot(a);
    const uint64_t sb = pred.slot(b);
    bad |= static_cast<uint64_t>(gt.keys[sa] ^ a) | static_cast<uint64_t>(pred.keys[sb] ^ b);
    hist[gt.offsets[sa] + pred.offsets[sb] + c] += 1;
  };
  int64_t i = 0;
  for (; i + copies <= n; i += copies) {
#pragma GCC unroll 4
    for (int c = 0; c < copies; ++c) {
      add(i + c, c);
    }
  }
  for (; i < n; ++i) {
    add(i, 0);
  }
  return bad;
}

// Pixels of `ids` whose id is not a key (the error path only).
template <typename T, typename Slot>
int64_t count_missing(const T* ids, int64_t n, const Side<Slot> side) {
  int64_t missing = 0;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t a = static_cast<int64_t>(ids[i]);
    missing += side.keys[side.slot(a)] != a;
  }
  return missing;
}

// The pass for one pair of id types, with tables whose offsets are pre-scaled by `copies`.
// Fills joint (int64 [kk], zero on entry); returns the missing pixel counts (GT, prediction).
template <int copies, typename TG, typename TP, typename Slot>
std::tuple<int64_t, int64_t> histogram(const TG* g, const TP* p, int64_t n, const Side<Slot> gt,
                                       const Side<Slot> pred, int64_t kk, int64_t* joint) {
  uint64_t bad = 0;
  if constexpr (copies == 1) {
    bad = count_pixels<1>(g, p, n, gt, pred, joint);
  } else {
    std::vector<uint32_t> sub(copies * kk);
    for (int64_t start = 0; start < n; start += kChunk) {
      const int64_t len = std::min(kChunk, n - start);
      std::fill(sub.begin(), sub.end(), 0u);
      bad |= count_pixels<copies>(g + start, p + start, len, gt, pred, sub.data());
      for (int64_t j = 0; j < kk; ++j) {
        for (int c = 0; c < copies; ++c) {
          joint[j] += sub[j * copies + c];
        }
      }
    }
  }
  if (bad == 0) {
    return {0, 0};
  }
  return {count_missing(g, n, gt), count_missing(p, n, pred)};
}

// Builds the two tables (hashed if a multiplier with a common shift is found, else sorted) with
// offsets pre-scaled by `copies` and runs the pass.
template <int copies, typename TG, typename TP>
std::tuple<int64_t, int64_t> build_and_count(const TG* g, const TP* p, int64_t n,
                                             const std::vector<int64_t>& gk,
                                             const std::vector<int64_t>& pk, int64_t* joint) {
  const int64_t kp = static_cast<int64_t>(pk.size());
  const int64_t kk = static_cast<int64_t>(gk.size()) * kp;
  const int lo = std::max(min_bits(gk.size()), min_bits(pk.size()));
  for (int bits = lo; bits <= std::min(lo + kExtraBits, kMaxBits); ++bits) {
    const uint64_t g_mul = find_multiplier(gk, bits);
    const uint64_t p_mul = g_mul ? find_multiplier(pk, bits) : 0;
    if (g_mul && p_mul) {
      const Table gt = hash_table(gk, kp * copies, g_mul, bits);
      const Table pred = hash_table(pk, copies, p_mul, bits);
      const int shift = 64 - bits;
      return histogram<copies>(
          g, p, n, Side<HashSlot>{gt.keys.data(), gt.offsets.data(), {g_mul, shift}},
          Side<HashSlot>{pred.keys.data(), pred.offsets.data(), {p_mul, shift}}, kk, joint);
    }
  }
  const Table gt = sorted_table(gk, kp * copies);
  const Table pred = sorted_table(pk, copies);
  return histogram<copies>(
      g, p, n, Side<SortedSlot>{gt.keys.data(), gt.offsets.data(), {gt.keys.data(), gk.size()}},
      Side<SortedSlot>{pred.keys.data(), pred.offsets.data(), {pred.keys.data(), pk.size()}}, kk,
      joint);
}

// Calls f with the typed data pointer of an id map (int32, int64 or uint32).
template <typename F>
void with_ids(const at::Tensor& ids, const char* name, F&& f) {
  const void* data = ids.const_data_ptr();
  switch (ids.scalar_type()) {
    case at::kInt:
      f(static_cast<const int32_t*>(data));
      break;
    case at::kLong:
      f(static_cast<const int64_t*>(data));
      break;
    case at::kUInt32:
      f(static_cast<const uint32_t*>(data));
      break;
    default:
      TORCH_CHECK_TYPE(false, "joint_histogram: ", name, " must be int32, int64 or uint32, got ",
                       ids.scalar_type());
  }
}

void check_ids(const at::Tensor& ids, const char* name) {
  TORCH_CHECK_VALUE(ids.device().is_cpu(), "joint_histogram: ", name, " must be on the CPU");
  TORCH_CHECK_VALUE(ids.is_contiguous(), "joint_histogram: ", name, " must be contiguous");
}

// The keys of a non-empty 1-D int64 CPU tensor of distinct ids, as a vector.
std::vector<int64_t> read_keys(const at::Tensor& keys, const char* name) {
  TORCH_CHECK_VALUE(keys.device().is_cpu(), "joint_histogram: ", name, " must be on the CPU");
  TORCH_CHECK_TYPE(keys.scalar_type() == at::kLong, "joint_histogram: ", name,
                   " must be int64, got ", keys.scalar_type());
  TORCH_CHECK_VALUE(keys.dim() == 1 && keys.numel() > 0, "joint_histogram: ", name,
                    " must be a non-empty 1-D tensor, got shape ", keys.sizes());
  const at::Tensor c = keys.contiguous();
  const int64_t* data = c.const_data_ptr<int64_t>();
  std::vector<int64_t> out(data, data + c.numel());
  std::vector<int64_t> sorted = out;
  std::sort(sorted.begin(), sorted.end());
  TORCH_CHECK_VALUE(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end(),
                    "joint_histogram: ", name, " must be distinct");
  return out;
}

}  // namespace

std::tuple<at::Tensor, int64_t, int64_t> joint_histogram_cpu(const at::Tensor& gt_ids,
                                                             const at::Tensor& gt_keys,
                                                             const at::Tensor& pred_ids,
                                                             const at::Tensor& pred_keys) {
  check_ids(gt_ids, "gt_ids");
  check_ids(pred_ids, "pred_ids");
  TORCH_CHECK_VALUE(gt_ids.numel() == pred_ids.numel(),
                    "joint_histogram: gt_ids and pred_ids differ in size (", gt_ids.sizes(), " vs ",
                    pred_ids.sizes(), ")");
  const std::vector<int64_t> gk = read_keys(gt_keys, "gt_keys");
  const std::vector<int64_t> pk = read_keys(pred_keys, "pred_keys");
  const int64_t kg = static_cast<int64_t>(gk.size());
  const int64_t kp = static_cast<int64_t>(pk.size());
  TORCH_CHECK_VALUE(kg <= (int64_t{1} << 40) / kp, "joint_histogram: too many keys (", kg, " x ",
                    kp, ")");
  at::Tensor joint = at::zeros({kg, kp}, gt_keys.options());
  int64_t* out = joint.data_ptr<int64_t>();
  const int64_t n = gt_ids.numel();
  const bool copied = kg * kp * kCopies <= kMaxCopiedBins;
  int64_t gt_missing = 0;
  int64_t pred_missing = 0;
  with_ids(gt_ids, "gt_ids", [&](const auto* g) {
    with_ids(pred_ids, "pred_ids", [&](const auto* p) {
      std::tie(gt_missing, pred_missing) = copied ? build_and_count<kCopies>(g, p, n, gk, pk, out)
                                                  : build_and_count<1>(g, p, n, gk, pk, out);
    });
  });
  return {joint, gt_missing, pred_missing};
}

TORCH_LIBRARY_IMPL(goss, CPU, m) {
  m.impl("joint_histogram", &joint_histogram_cpu);
}

}  // namespace joint_histogram
}  // namespace goss
