// JobStageCosts: each pending job's planned cost per stage for the current decision (batch-aware planning).
#pragma once

#include <cassert>
#include <vector>

#include "imprecise/core/time.hpp"

namespace imprecise::detail {

/// One row of `stride` stage costs per pending job, in slots reused through a free list, so that
/// once the pending set has stopped growing (after warm-up) nothing is allocated.
class JobStageCosts {
 public:
  explicit JobStageCosts(int stride) : stride_(stride) {}

  int acquire() {
    if (free_.empty()) {
      values_.resize(values_.size() + static_cast<std::size_t>(stride_), 0);
      return static_cast<int>(values_.size() / static_cast<std::size_t>(stride_)) - 1;
    }
    const int slot = free_.back();
    free_.pop_back();
    return slot;
  }
  void release(int slot) { free_.push_back(slot); }
  void reserve(std::size_t slots) {
    values_.reserve(slots * static_cast<std::size_t>(stride_));
    free_.reserve(slots);
  }

  Duration* row(int slot) {
    assert(slot >= 0);
    return values_.data() + static_cast<std::size_t>(slot) * static_cast<std::size_t>(stride_);
  }
  const Duration* row(int slot) const {
    assert(slot >= 0);
    return values_.data() + static_cast<std::size_t>(slot) * static_cast<std::size_t>(stride_);
  }

 private:
  int stride_;
  std::vector<Duration> values_;
  std::vector<int> free_;
};

}  // namespace imprecise::detail
