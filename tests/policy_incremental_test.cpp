// What a planning policy keeps between decisions (each job's planned rewards per depth, its shed and
// deferred flags, batch scratch) must never go stale: after every event, the policy's next decision
// equals the one a fresh policy makes from the same pending jobs, for random sequences of arrivals,
// stage completions (with confidences that change the predicted rewards), Finish, Drop, expiries and
// time passing, under light load and under overload (drops).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "imprecise/sched/policy.hpp"
#include "policy_fixtures.hpp"

namespace imprecise {
namespace {

std::vector<Model> test_models() {
  testing::TestModelSpec three;
  three.stages = 3;
  three.stage_ms = 1.0;
  three.batches = {1, 2, 4};
  testing::TestModelSpec five;
  five.stages = 5;
  five.stage_ms = 0.6;
  five.mandatory = 2;
  five.batches = {1, 2, 4};
  five.prior_base = 0.3;
  five.prior_gain = 0.6;
  return {testing::make_test_model(three), testing::make_test_model(five)};
}

/// What the test knows of a pending job: enough to hand the same state to a fresh policy.
struct Known {
  Job job;
  int done = 0;
  double confidence = 0.0;
};

bool same_decision(const Decision& a, const Decision& b, std::string& why) {
  if (a.index() != b.index()) {
    why = "different kinds";
    return false;
  }
  if (const auto* d = std::get_if<Dispatch>(&a)) {
    const auto& e = std::get<Dispatch>(b);
    const bool same = d->model == e.model && d->stage == e.stage &&
                      std::equal(d->jobs.begin(), d->jobs.end(), e.jobs.begin(), e.jobs.end());
    if (!same) why = "different dispatches";
    return same;
  }
  if (const auto* f = std::get_if<Finish>(&a)) return f->job == std::get<Finish>(b).job || (why = "different finishes", false);
  if (const auto* r = std::get_if<Drop>(&a)) return r->job == std::get<Drop>(b).job || (why = "different drops", false);
  const bool same = std::get<Idle>(a).until == std::get<Idle>(b).until;
  if (!same) why = "different idle times";
  return same;
}

/// Runs `steps` random events through `spec` on one lane; after each event compares the policy's
/// decision with a fresh policy's given the same pending jobs. `slack` scales deadlines (small: overload).
void check_against_fresh(const std::string& spec, std::uint32_t seed, double slack, int steps) {
  const std::vector<Model> models = test_models();
  auto policy = make_policy(spec, models);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::map<JobId, Known> pending;
  JobId next_id = 0;
  Time now = 0;
  int compared = 0, drops = 0, partly_run = 0;

  // Whether a fresh policy given the same pending jobs decides `decision` (it must compare while the
  // fresh policy lives: a Dispatch's span points into it).
  auto fresh_agrees = [&](const Decision& decision, std::string& why) {
    auto fresh = make_policy(spec, models);
    for (const auto& [id, k] : pending) fresh->on_release(k.job, k.job.release);
    for (const auto& [id, k] : pending)
      if (k.done > 0) fresh->on_stage_done(id, k.done, k.confidence, now);
    return same_decision(decision, fresh->next(now), why);
  };
  auto arrive = [&](int count) {
    for (int a = 0; a < count; ++a) {
      Job job;
      job.id = next_id++;
      job.model = static_cast<ModelId>(rng() % models.size());
      job.mandatory_depth = models[job.model].mandatory_depth;
      job.release = now;
      job.weight = unit(rng) < 0.2 ? 2.0 : 1.0;
      const Duration full = models[job.model].profile.planned_span(0, models[job.model].stages(), PlanningFigure::p50);
      job.deadline = now + static_cast<Duration>(static_cast<double>(full) * slack * (0.3 + 1.5 * unit(rng)));
      policy->on_release(job, now);
      pending[job.id] = Known{job, 0, 0.0};
    }
  };
  auto expire_due = [&] {
    for (auto it = pending.begin(); it != pending.end();) {
      if (it->second.job.deadline <= now) {
        policy->on_expire(it->first, now);
        it = pending.erase(it);
      } else {
        ++it;
      }
    }
  };

  arrive(3);
  bool after_event = true;
  for (int step = 0; step < steps; ++step) {
    const Decision decision = policy->next(now);
    if (after_event) {
      // Only right after an event: without one the policy rightly keeps its last plan (no re-plan per
      // Finish or Drop), where a fresh policy would plan anew.
      std::string why;
      ASSERT_TRUE(fresh_agrees(decision, why))
          << spec << " seed " << seed << " step " << step << " at " << now << ": " << why;
      ++compared;
    }
    after_event = false;
    if (const auto* f = std::get_if<Finish>(&decision)) {
      pending.erase(f->job);
      continue;
    }
    if (const auto* r = std::get_if<Drop>(&decision)) {
      pending.erase(r->job);
      ++drops;
      continue;
    }
    if (const auto* idle = std::get_if<Idle>(&decision)) {
      // Time passes to the wake-up or to the next arrivals, whichever comes first.
      const Time arrival = now + from_ms(0.2 + 3.0 * unit(rng));
      now = std::max(now, std::min(idle->until, arrival));
      expire_due();
      if (now == arrival || pending.empty()) arrive(1 + static_cast<int>(rng() % 3));
      after_event = true;
      continue;
    }
    // A dispatch runs to completion (a little faster or slower than planned), arrivals may come
    // meanwhile, then every member reports its new exit's confidence.
    const auto& d = std::get<Dispatch>(decision);
    const std::vector<JobId> batch(d.jobs.begin(), d.jobs.end());
    const Duration planned = models[static_cast<std::size_t>(d.model)].profile.planned(d.stage, static_cast<int>(batch.size()),
                                                                                        PlanningFigure::p50);
    now += static_cast<Duration>(static_cast<double>(planned) * (0.8 + 0.4 * unit(rng)));
    for (const JobId id : batch) {
      Known& k = pending.at(id);
      k.done = d.stage + 1;
      k.confidence = unit(rng);
      policy->on_stage_done(id, k.done, k.confidence, now);
      if (k.done < models[k.job.model].stages()) ++partly_run;
    }
    if (unit(rng) < 0.5) arrive(1 + static_cast<int>(rng() % 4));
    expire_due();
    after_event = true;
  }
  EXPECT_GT(compared, steps / 4) << spec;
  EXPECT_GT(partly_run, 10) << spec;
  if (slack < 1.0) {
    EXPECT_GT(drops, 0) << spec << ": the overload case should shed";
  }
}

TEST(IncrementalDecisions, DensityMatchesAFreshPolicyAfterEveryEvent) {
  for (std::uint32_t seed = 1; seed <= 4; ++seed) check_against_fresh("density", seed, 3.0, 400);
}

TEST(IncrementalDecisions, DensityMatchesAFreshPolicyUnderOverload) {
  for (std::uint32_t seed = 1; seed <= 4; ++seed) check_against_fresh("density", seed, 0.6, 400);
}

TEST(IncrementalDecisions, YaoDpMatchesAFreshPolicyAfterEveryEvent) {
  for (std::uint32_t seed = 1; seed <= 4; ++seed) check_against_fresh("yao-dp", seed, 3.0, 400);
}

TEST(IncrementalDecisions, YaoDpMatchesAFreshPolicyUnderOverload) {
  for (std::uint32_t seed = 1; seed <= 4; ++seed) check_against_fresh("yao-dp", seed, 0.6, 400);
}

TEST(IncrementalDecisions, OracleUtilityMatchesAFreshPolicyAfterEveryEvent) {
  for (std::uint32_t seed = 1; seed <= 2; ++seed) check_against_fresh("oracle-utility", seed, 1.0, 300);
}

}  // namespace
}  // namespace imprecise
