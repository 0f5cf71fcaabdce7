// Model: what the scheduler knows of one anytime network: its stages' timings and its utility tables.
#pragma once

#include <string>
#include <vector>

#include "imprecise/core/profile.hpp"
#include "imprecise/core/utility.hpp"

namespace imprecise {

using ModelId = int;

struct Model {
  std::string name;
  int mandatory_depth = 1;  ///< stages every admitted job must finish (>= 1)
  Profile profile;          ///< timings per (stage, batch size), the model alone on the device
  /// concurrent[c - 2]: timings per (stage, batch size) measured while c lanes ran at once (c = 2, 3,
  /// ...): instances running together slow each other. Empty: not measured.
  std::vector<Profile> concurrent;
  UtilityModel utility;     ///< R(l | k, c) and priors

  int stages() const { return profile.stages(); }
  /// The timings with `lanes` lanes busy: the measured table for that concurrency, else the nearest
  /// measured one below it (the alone profile when none is).
  const Profile& profile_at(int lanes) const {
    if (lanes <= 1 || concurrent.empty()) return profile;
    const std::size_t index = static_cast<std::size_t>(lanes - 2);
    return index < concurrent.size() ? concurrent[index] : concurrent.back();
  }
};

}  // namespace imprecise
