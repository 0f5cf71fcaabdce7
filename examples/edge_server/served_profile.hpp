// ServedProfileAverager: the stage costs an Engine measured over a whole run, averaged (an Observer).
#pragma once

#include <map>
#include <mutex>
#include <tuple>
#include <vector>

#include "imprecise/core/profile.hpp"
#include "imprecise/sched/observer.hpp"

namespace edge_server {

/// The engine's online profile weighs recent dispatch cycles most (a decayed histogram); under bursty
/// load a snapshot of it describes whatever the last moments looked like. This observer averages every
/// update the engine published over the run instead, per (model, stage, batch size).
class ServedProfileAverager final : public imprecise::Observer {
 public:
  void on_profile_update(imprecise::ModelId model, int stage, int batch, const imprecise::StageTiming& timing) override;
  /// `offline` with every (stage, batch) that was updated during the run replaced by its average.
  imprecise::Profile averaged(imprecise::ModelId model, const imprecise::Profile& offline) const;

 private:
  struct Sum {
    double mean = 0, p50 = 0, p99 = 0, max = 0;
    int count = 0;
  };
  mutable std::mutex mu_;
  std::map<std::tuple<imprecise::ModelId, int, int>, Sum> sums_;
};

}  // namespace edge_server
