// LaneSchedule: EDF list scheduling over identical executor lanes — the one rule every planner's plan is checked by.
#pragma once

#include <algorithm>
#include <span>
#include <vector>

#include "imprecise/core/time.hpp"

namespace imprecise {

/// Jobs are handed over in problem (EDF) order; a job with work runs all of it on the lane that frees
/// first (ties: the lowest index), starting when that lane frees. With one lane this is "back to back
/// in order". Buffers only grow.
class LaneSchedule {
 public:
  void reset(std::span<const Time> lane_free) { free_.assign(lane_free.begin(), lane_free.end()); }
  int lanes() const { return static_cast<int>(free_.size()); }
  Time lane_free(int k) const { return free_[static_cast<std::size_t>(k)]; }
  /// The lane the next job with work goes to.
  int next_lane() const { return static_cast<int>(std::min_element(free_.begin(), free_.end()) - free_.begin()); }
  /// Runs `work` (> 0) on the next lane; returns when it finishes.
  Time run(Duration work) {
    Time& lane = free_[static_cast<std::size_t>(next_lane())];
    lane += work;
    return lane;
  }

 private:
  std::vector<Time> free_;
};

namespace detail {

/// The same rule on lane free times kept sorted ascending, as the planners' states hold them: which lane
/// is which does not change any finish time, so the earliest is always `sorted[0]`. Runs `work` there,
/// restores the order (a componentwise-monotone step: earlier free times in, earlier free times out) and
/// returns the finish.
inline Time run_on_sorted(std::span<Time> sorted, Duration work) {
  const Time finish = sorted[0] + work;
  std::size_t k = 1;
  for (; k < sorted.size() && sorted[k] < finish; ++k) sorted[k - 1] = sorted[k];
  sorted[k - 1] = finish;
  return finish;
}

}  // namespace detail

}  // namespace imprecise
