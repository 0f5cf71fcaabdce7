// DeadlineHeap: indexed min-heap of job slots by deadline, fixed capacity, so expiries never allocate.
#pragma once

#include <cassert>
#include <cstdint>
#include <vector>

#include "imprecise/core/time.hpp"

namespace imprecise::runtime::detail {

/// Holds each slot (0..capacity-1) at most once; push, remove and pop are O(log n), allocation-free.
class DeadlineHeap {
 public:
  explicit DeadlineHeap(std::size_t capacity) : pos_(capacity, kAbsent), key_(capacity, 0) { heap_.reserve(capacity); }

  bool empty() const { return heap_.empty(); }
  std::size_t size() const { return heap_.size(); }
  std::uint32_t top() const { return heap_.front(); }
  Time top_key() const { return key_[heap_.front()]; }
  bool contains(std::uint32_t slot) const { return pos_[slot] != kAbsent; }
  /// Slots in heap order (for visiting every member).
  const std::vector<std::uint32_t>& items() const { return heap_; }

  void push(std::uint32_t slot, Time key) {
    assert(!contains(slot));
    key_[slot] = key;
    pos_[slot] = heap_.size();
    heap_.push_back(slot);
    up(heap_.size() - 1);
  }
  void remove(std::uint32_t slot) {
    const std::size_t i = pos_[slot];
    if (i == kAbsent) return;
    const std::size_t last = heap_.size() - 1;
    if (i != last) {
      place(i, heap_[last]);
      heap_.pop_back();
      if (!up(i)) down(i);
    } else {
      heap_.pop_back();
    }
    pos_[slot] = kAbsent;
  }

 private:
  static constexpr std::size_t kAbsent = static_cast<std::size_t>(-1);
  bool less(std::uint32_t a, std::uint32_t b) const { return key_[a] != key_[b] ? key_[a] < key_[b] : a < b; }
  void place(std::size_t i, std::uint32_t slot) {
    heap_[i] = slot;
    pos_[slot] = i;
  }
  bool up(std::size_t i) {
    const std::uint32_t slot = heap_[i];
    bool moved = false;
    while (i > 0) {
      const std::size_t parent = (i - 1) / 2;
      if (!less(slot, heap_[parent])) break;
      place(i, heap_[parent]);
      i = parent;
      moved = true;
    }
    place(i, slot);
    return moved;
  }
  void down(std::size_t i) {
    const std::uint32_t slot = heap_[i];
    const std::size_t n = heap_.size();
    while (true) {
      std::size_t child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && less(heap_[child + 1], heap_[child])) ++child;
      if (!less(heap_[child], slot)) break;
      place(i, heap_[child]);
      i = child;
    }
    place(i, slot);
  }

  std::vector<std::uint32_t> heap_;
  std::vector<std::size_t> pos_;
  std::vector<Time> key_;
};

}  // namespace imprecise::runtime::detail
