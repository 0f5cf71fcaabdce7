// Counting allocator for the hot-path tests: replaces the global operator new (and, with glibc and no
// sanitizer, malloc and friends) with versions that count. Include it in exactly one file per test program.
#pragma once

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <new>

namespace imprecise::testing {

struct AllocationCounts {
  std::atomic<long> news{0};
  std::atomic<long> mallocs{0};
  std::atomic<std::size_t> largest{0};  ///< bytes of the largest allocation (new or malloc); reset it to 0 to start
};
inline AllocationCounts g_all_threads;  ///< every allocation of the process
inline AllocationCounts g_marked;       ///< only those of threads that set t_marked (e.g. an engine's)
inline thread_local bool t_marked = false;

inline void note_size(AllocationCounts& counts, std::size_t size) {
  std::size_t seen = counts.largest.load(std::memory_order_relaxed);
  while (size > seen && !counts.largest.compare_exchange_weak(seen, size, std::memory_order_relaxed)) {
  }
}
inline void count_new(std::size_t size) {
  g_all_threads.news.fetch_add(1, std::memory_order_relaxed);
  note_size(g_all_threads, size);
  if (t_marked) g_marked.news.fetch_add(1, std::memory_order_relaxed);
}
inline void count_malloc(std::size_t size) {
  g_all_threads.mallocs.fetch_add(1, std::memory_order_relaxed);
  note_size(g_all_threads, size);
  if (t_marked) g_marked.mallocs.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace imprecise::testing

// Replacing operator new with malloc trips GCC 12 false positives (-Wmismatched-new-delete).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

void* operator new(std::size_t size) {
  imprecise::testing::count_new(size);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

// Eigen's GEMM takes its blocking buffers from malloc (not operator new) when they exceed its stack
// limit, so operator new alone would miss them: with glibc, interpose malloc and friends too and
// forward to glibc's own entry points (free stays glibc's, which frees what these return).
// Sanitizers interpose malloc themselves, so under them only operator new is counted.
#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define IMPRECISE_COUNT_MALLOC 1
extern "C" {
void* __libc_malloc(std::size_t size);
void* __libc_calloc(std::size_t count, std::size_t size);
void* __libc_realloc(void* p, std::size_t size);
void* __libc_memalign(std::size_t alignment, std::size_t size);

void* malloc(std::size_t size) noexcept {
  imprecise::testing::count_malloc(size);
  return __libc_malloc(size);
}
void* calloc(std::size_t count, std::size_t size) noexcept {
  imprecise::testing::count_malloc(count * size);
  return __libc_calloc(count, size);
}
void* realloc(void* p, std::size_t size) noexcept {
  imprecise::testing::count_malloc(size);
  return __libc_realloc(p, size);
}
void* aligned_alloc(std::size_t alignment, std::size_t size) noexcept {
  imprecise::testing::count_malloc(size);
  return __libc_memalign(alignment, size);
}
void* memalign(std::size_t alignment, std::size_t size) noexcept {
  imprecise::testing::count_malloc(size);
  return __libc_memalign(alignment, size);
}
int posix_memalign(void** out, std::size_t alignment, std::size_t size) noexcept {
  imprecise::testing::count_malloc(size);
  void* p = __libc_memalign(alignment, size);
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}
}  // extern "C"
#else
#define IMPRECISE_COUNT_MALLOC 0
#endif
