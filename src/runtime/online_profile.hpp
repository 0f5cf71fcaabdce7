// OnlineProfile: decayed histograms of stage times measured while serving, summarized into a Profile's figures.
#pragma once

#include <cstddef>
#include <vector>

#include "decayed_histogram.hpp"
#include "imprecise/core/model.hpp"
#include "imprecise/core/profile.hpp"
#include "imprecise/runtime/engine.hpp"

namespace imprecise::runtime::detail {

/// Keeps, per (model, stage, measured batch size), a DecayedHistogram of stage times (a time's weight
/// halves every `half_life` newer times of its column). Only batches of exactly a measured size are
/// recorded: a batch of 3 timed into the column for 4 would make that column optimistic. Allocates
/// everything at construction.
class OnlineProfile {
 public:
  OnlineProfile(const std::vector<Model>& models, const OnlineProfileConfig& config);

  /// Records one stage time; returns true (with the column and its new figures) when they are due.
  /// A negative time is a clock error, not a measurement: it is ignored (returns false). Zero counts
  /// as 1 ns and times beyond DecayedHistogram::kTop (~18 min) as that.
  bool record(ModelId model, int stage, int batch, Duration took, std::size_t& column, StageTiming& timing);

 private:
  struct Column {
    DecayedHistogram times;
    int since_update = 0;
  };
  OnlineProfileConfig config_;
  std::vector<std::vector<int>> column_of_batch_;          // [model][batch] -> column or -1
  std::vector<std::vector<std::vector<Column>>> columns_;  // [model][stage][column]
};

}  // namespace imprecise::runtime::detail
