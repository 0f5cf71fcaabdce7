// Model: what the scheduler knows of one anytime network: its stages' timings and its utility tables.
#pragma once

#include <string>

#include "imprecise/core/profile.hpp"
#include "imprecise/core/utility.hpp"

namespace imprecise {

using ModelId = int;

struct Model {
  std::string name;
  int mandatory_depth = 1;  ///< stages every admitted job must finish (>= 1)
  Profile profile;          ///< timings per (stage, batch size)
  UtilityModel utility;     ///< R(l | k, c) and priors

  int stages() const { return profile.stages(); }
};

}  // namespace imprecise
