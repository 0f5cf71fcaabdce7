// Staircase and StaircaseTree: growing 2-D and 3-D point sets that answer "is this point dominated?" (LaneFronts).
#pragma once

#include <algorithm>
#include <iterator>
#include <span>
#include <utility>
#include <vector>

#include "imprecise/core/time.hpp"

namespace imprecise::detail {

/// Points (a, b) where smaller is better in both. Only the minimal ones are kept, a ascending and b
/// descending, so the last step with a' <= a has the least b' among them. Buffers only grow.
class Staircase {
 public:
  void clear() { steps_.clear(); }

  /// True if some added point has a' <= a and b' <= b.
  bool covers(Time a, Time b) const {
    const auto at = first_not_before(a);
    if (at != steps_.end() && at->first == a && at->second <= b) return true;
    return at != steps_.begin() && std::prev(at)->second <= b;
  }

  /// Adds a point that covers() said is not dominated; it evicts the steps it dominates (a' >= a,
  /// b' >= b), a run right at its place.
  void add(Time a, Time b) {
    auto at = steps_.begin() + (first_not_before(a) - steps_.cbegin());
    auto end = at;
    while (end != steps_.end() && end->second >= b) ++end;
    if (at != end) {
      *at = {a, b};
      steps_.erase(at + 1, end);
    } else {
      steps_.insert(at, {a, b});
    }
  }

 private:
  std::vector<std::pair<Time, Time>>::const_iterator first_not_before(Time a) const {
    return std::lower_bound(steps_.begin(), steps_.end(), a, [](const auto& p, Time t) { return p.first < t; });
  }
  std::vector<std::pair<Time, Time>> steps_;
};

/// Points (a, b, c), smaller better in each: a Fenwick tree over the ranks of a whose nodes are
/// staircases over (b, c), so the points with a' <= a are the union of O(log n) nodes. A query and an
/// insertion each visit O(log n) staircases. The a values must be known up front (reset). Buffers only grow.
class StaircaseTree {
 public:
  /// `a_values`: every a that covers() or add() will be asked about, sorted ascending (repeats allowed).
  void reset(std::span<const Time> a_values) {
    keys_.assign(a_values.begin(), a_values.end());
    keys_.erase(std::unique(keys_.begin(), keys_.end()), keys_.end());
    if (nodes_.size() < keys_.size()) nodes_.resize(keys_.size());
    for (std::size_t j = 0; j < keys_.size(); ++j) nodes_[j].clear();
  }

  /// True if some added point has a' <= a, b' <= b and c' <= c.
  bool covers(Time a, Time b, Time c) const {
    for (std::size_t j = rank(a) + 1; j > 0; j -= j & (~j + 1))
      if (nodes_[j - 1].covers(b, c)) return true;
    return false;
  }

  void add(Time a, Time b, Time c) {
    for (std::size_t j = rank(a) + 1; j <= keys_.size(); j += j & (~j + 1))
      if (!nodes_[j - 1].covers(b, c)) nodes_[j - 1].add(b, c);
  }

 private:
  std::size_t rank(Time a) const {
    return static_cast<std::size_t>(std::lower_bound(keys_.begin(), keys_.end(), a) - keys_.begin());
  }
  std::vector<Time> keys_;
  std::vector<Staircase> nodes_;
};

}  // namespace imprecise::detail
