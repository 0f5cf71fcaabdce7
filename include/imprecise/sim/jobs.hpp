// The jobs a scenario releases at a load and seed: arrival times, deadlines and the test sample each
// carries — shared by the simulator and the real-time experiment so both serve the very same jobs.
#pragma once

#include <cstdint>
#include <vector>

#include "imprecise/core/job.hpp"
#include "imprecise/sim/scenario.hpp"
#include "imprecise/core/time.hpp"

namespace imprecise::sim {

struct JobPlan {
  /// In release order; jobs[i].id == i. `oracle` points into scenario.test_sets (valid while it lives).
  std::vector<Job> jobs;
  /// samples[i]: index of job i's sample in its model's test set.
  std::vector<int> samples;
};

/// Arrivals of every stream over [0, horizon) with rates scaled to `load` (rate_scale_for_load),
/// deterministic in `seed`; the sample of job i depends on (seed, i) only, so every policy sees the
/// same content. Throws Error for a bad load or horizon, or an empty test set.
JobPlan plan_jobs(const Scenario& scenario, double load, std::uint64_t seed, Duration horizon);
/// The same with every stream's rate multiplied by `scale` directly (the jobs another profile's load
/// gave: the scale depends on the profile, the jobs on the scale and seed only).
JobPlan plan_jobs_at_scale(const Scenario& scenario, double scale, std::uint64_t seed, Duration horizon);

}  // namespace imprecise::sim
