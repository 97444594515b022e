// An allocator that backs large arrays with transparent huge pages (Linux THP in "madvise"
// mode, Debian's default). Index lookups are random accesses into arrays of hundreds of
// megabytes: with 4 KiB pages nearly every one also misses the TLB, and software prefetches
// stall on the page walk. 2 MiB pages cover such an array with a few hundred TLB entries.
// Small arrays use the ordinary heap. Thread-safety: stateless.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>
#include <vector>

#ifdef __linux__
#include <sys/mman.h>
#endif

namespace chuqu::index {

template <typename T>
class HugePageAllocator {
 public:
  using value_type = T;
  // Arrays from this size on are huge-page aligned and advised.
  static constexpr size_t kHugeThreshold = size_t{4} << 20;
  static constexpr size_t kHugePage = size_t{2} << 20;

  HugePageAllocator() = default;
  template <typename U>
  explicit HugePageAllocator(const HugePageAllocator<U>&) {}

  T* allocate(size_t n) {
    const size_t bytes = n * sizeof(T);
    if (bytes < kHugeThreshold) return std::allocator<T>().allocate(n);
    const size_t rounded = (bytes + kHugePage - 1) / kHugePage * kHugePage;
    void* p = std::aligned_alloc(kHugePage, rounded);
    if (p == nullptr) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
    madvise(p, rounded, MADV_HUGEPAGE);  // advisory: failure only costs speed
#endif
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t n) {
    if (n * sizeof(T) < kHugeThreshold) {
      std::allocator<T>().deallocate(p, n);
    } else {
      std::free(p);
    }
  }
  template <typename U>
  bool operator==(const HugePageAllocator<U>&) const {
    return true;
  }
};

template <typename T>
using HugeVector = std::vector<T, HugePageAllocator<T>>;

}  // namespace chuqu::index
