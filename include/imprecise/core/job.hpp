// Job: one inference request as the scheduler sees it.
#pragma once

#include <cstdint>
#include <span>

#include "imprecise/core/model.hpp"
#include "imprecise/core/time.hpp"
#include "imprecise/core/utility.hpp"

namespace imprecise {

using JobId = std::uint32_t;

struct Job {
  JobId id = 0;
  ModelId model = 0;
  int stream = 0;           ///< which arrival stream produced it (metrics only)
  Time release = 0;         ///< r
  Time deadline = 0;        ///< absolute d
  double weight = 1.0;      ///< w: reward multiplier
  int mandatory_depth = 1;  ///< m (>= 1)
  /// Ground truth per exit, known only to oracle policies in simulation; empty otherwise.
  std::span<const ExitRecord> oracle;
};

}  // namespace imprecise
