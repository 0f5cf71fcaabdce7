// plan_jobs(): a scenario's arrivals at a load and seed, with deadlines and test samples.
#include "imprecise/sim/jobs.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "imprecise/error.hpp"
#include "imprecise/sim/random.hpp"

namespace imprecise::sim {

namespace {
// Salts that keep the random streams of different purposes apart (the simulator's stage times use another).
constexpr std::uint64_t kArrivalSalt = 0x61727269ULL;
constexpr std::uint64_t kSampleSalt = 0x73616d70ULL;
}  // namespace

JobPlan plan_jobs(const Scenario& scenario, double load, std::uint64_t seed, Duration horizon) {
  return plan_jobs_at_scale(scenario, rate_scale_for_load(scenario, load), seed, horizon);
}

JobPlan plan_jobs_at_scale(const Scenario& scenario, double scale, std::uint64_t seed, Duration horizon) {
  if (horizon <= 0) throw Error("plan_jobs: the horizon must be > 0");
  if (!(scale > 0.0) || !std::isfinite(scale)) throw Error(fmt::format("plan_jobs: rate scale must be > 0, got {}", scale));
  struct Arrival {
    Time at;
    int stream;
  };
  std::vector<Arrival> all;
  for (std::size_t s = 0; s < scenario.streams.size(); ++s) {
    const auto stream_seed = hash_of({seed, static_cast<std::uint64_t>(s), kArrivalSalt});
    for (Time t : generate_arrivals(scenario.streams[s], horizon, scale, stream_seed))
      all.push_back({t, static_cast<int>(s)});
  }
  std::stable_sort(all.begin(), all.end(), [](const Arrival& a, const Arrival& b) {
    return a.at != b.at ? a.at < b.at : a.stream < b.stream;
  });
  if (all.size() >= std::numeric_limits<JobId>::max()) throw Error("plan_jobs: too many jobs for a JobId");
  JobPlan plan;
  plan.jobs.resize(all.size());
  plan.samples.resize(all.size());
  for (std::size_t i = 0; i < all.size(); ++i) {
    const StreamSpec& stream = scenario.streams[static_cast<std::size_t>(all[i].stream)];
    const auto m = static_cast<std::size_t>(stream.model);
    const ReplaySet& test = scenario.test_sets[m];
    if (test.samples() == 0)
      throw Error(fmt::format("plan_jobs: model '{}' has an empty test set", scenario.models[m].name));
    Job& job = plan.jobs[i];
    job.id = static_cast<JobId>(i);
    job.model = stream.model;
    job.stream = all[i].stream;
    job.release = all[i].at;
    job.deadline = all[i].at + stream.relative_deadline;
    job.weight = stream.weight;
    job.mandatory_depth = scenario.models[m].mandatory_depth;
    // Content depends on (seed, job id) only, so every policy sees the same samples.
    Rng rng(hash_of({seed, static_cast<std::uint64_t>(i), kSampleSalt}));
    plan.samples[i] = static_cast<int>(rng.below(static_cast<std::uint64_t>(test.samples())));
    job.oracle = test.sample(plan.samples[i]);
  }
  return plan;
}

}  // namespace imprecise::sim
