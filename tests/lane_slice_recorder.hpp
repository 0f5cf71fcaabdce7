// Test helper: every batch an engine's lanes were handed, from dispatch to end, to check that lanes overlap.
#pragma once

#include <map>
#include <mutex>
#include <span>
#include <vector>

#include "imprecise/runtime/engine.hpp"

namespace imprecise::runtime::testing {

/// Every batch the lanes were handed: (lane, dispatched, ended).
class SliceRecorder : public Observer {
 public:
  struct Slice {
    int lane;
    Time start;  ///< when the host handed the batch to the lane
    Time end;    ///< when the lane finished it
  };
  void on_dispatch(int lane, ModelId, int, std::span<const JobInfo>, Time now) override {
    std::lock_guard lock(mu_);
    dispatched_[lane] = now;
  }
  void on_stage_done(int lane, ModelId, int, std::span<const JobInfo>, Time, Time end, bool) override {
    std::lock_guard lock(mu_);
    slices_.push_back({lane, dispatched_[lane], end});
  }
  std::vector<Slice> slices() const {
    std::lock_guard lock(mu_);
    return slices_;
  }
  /// Whether lanes a and b ever held a batch at the same time.
  bool overlapped(int a, int b) const {
    const auto all = slices();
    for (const auto& x : all)
      for (const auto& y : all)
        if (x.lane == a && y.lane == b && x.start < y.end && y.start < x.end) return true;
    return false;
  }
  /// Batches each lane finished, by lane.
  std::map<int, int> per_lane() const {
    std::map<int, int> n;
    for (const auto& s : slices()) ++n[s.lane];
    return n;
  }

 private:
  mutable std::mutex mu_;
  std::map<int, Time> dispatched_;
  std::vector<Slice> slices_;
};

}  // namespace imprecise::runtime::testing
