// JobRows: one fixed-width row of values per pending job (planned stage costs, planned rewards).
#pragma once

#include <cassert>
#include <cstddef>
#include <vector>

namespace imprecise::detail {

/// One row of `stride` values per pending job, in slots reused through a free list, so that once
/// the pending set has stopped growing (after warm-up) nothing is allocated.
template <typename T>
class JobRows {
 public:
  explicit JobRows(int stride) : stride_(stride) {}

  int acquire() {
    if (free_.empty()) {
      values_.resize(values_.size() + static_cast<std::size_t>(stride_), T{});
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

  T* row(int slot) {
    assert(slot >= 0);
    return values_.data() + static_cast<std::size_t>(slot) * static_cast<std::size_t>(stride_);
  }
  const T* row(int slot) const {
    assert(slot >= 0);
    return values_.data() + static_cast<std::size_t>(slot) * static_cast<std::size_t>(stride_);
  }

 private:
  int stride_;
  std::vector<T> values_;
  std::vector<int> free_;
};

}  // namespace imprecise::detail
