// OnlineProfile: windows of stage times measured while serving, summarized into a Profile's figures.
#pragma once

#include <cstddef>
#include <vector>

#include "imprecise/core/model.hpp"
#include "imprecise/core/profile.hpp"
#include "imprecise/runtime/engine.hpp"

namespace imprecise::runtime::detail {

/// Keeps, per (model, stage, measured batch size), the last `window` stage times. Only batches of
/// exactly a measured size are recorded: a batch of 3 timed into the column for 4 would make that
/// column optimistic. Allocates everything at construction.
class OnlineProfile {
 public:
  OnlineProfile(const std::vector<Model>& models, const OnlineProfileConfig& config);

  /// Records one stage time; returns true (with the column and its new figures) when they are due.
  bool record(ModelId model, int stage, int batch, Duration took, std::size_t& column, StageTiming& timing);

 private:
  struct Window {
    std::vector<Duration> times;  // ring of `window` entries
    std::size_t next = 0;
    std::size_t count = 0;
    int since_update = 0;
  };
  OnlineProfileConfig config_;
  std::vector<std::vector<int>> column_of_batch_;          // [model][batch] -> column or -1
  std::vector<std::vector<std::vector<Window>>> windows_;  // [model][stage][column]
  std::vector<Duration> scratch_;
};

}  // namespace imprecise::runtime::detail
