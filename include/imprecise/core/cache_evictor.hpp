// CacheEvictor: writes a private buffer larger than the caches, so that what ran before it (a stage's
// weights and buffers, a job's tensors) has to come from memory again. That is how a lane finds them
// when it serves several models in turn: benchmarks/stage_cache_bench.cpp measures the difference, and
// the profiler can time stages this way (ProfilerConfig::evict_bytes).
#pragma once

#include <cstddef>
#include <vector>

namespace imprecise {

class CacheEvictor {
 public:
  static constexpr std::size_t kLine = 64;  ///< bytes per cache line on the CPUs we run on

  explicit CacheEvictor(std::size_t bytes) : buffer_(bytes) {}

  /// One write per cache line of the buffer, a different value each time: volatile, so that the
  /// compiler keeps stores nothing reads.
  void evict() {
    ++tick_;
    volatile char* p = buffer_.data();
    for (std::size_t i = 0; i < buffer_.size(); i += kLine) p[i] = tick_;
  }

  std::size_t bytes() const { return buffer_.size(); }
  /// What evict() last wrote at byte i (tests).
  char at(std::size_t i) const { return buffer_[i]; }

 private:
  std::vector<char> buffer_;
  char tick_ = 0;
};

}  // namespace imprecise
