// A test model for the policy tests: deterministic stages (a batch of b costs 1 + 0.25 (b - 1) times a stage)
// and a two-bin utility where a low-confidence exit gains 0.1 per deeper stage and a confident one 0.01;
// a job maker and a typed view of a policy's decision.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <variant>
#include <vector>

#include "imprecise/sched/policy.hpp"

namespace imprecise::testing {

struct TestModelSpec {
  int stages = 3;
  double stage_ms = 1.0;
  int mandatory = 1;
  std::vector<int> batches{1, 2, 4};
  double prior_base = 0.5;  ///< prior R(l) = prior_base + prior_gain * l / stages
  double prior_gain = 0.4;
  std::string name;         ///< "" -> "m<stages>"
};

inline Model make_test_model(const TestModelSpec& spec) {
  const int stages = spec.stages;
  std::vector<std::vector<StageTiming>> timing(static_cast<std::size_t>(stages));
  for (auto& row : timing)
    for (const int b : spec.batches) {
      const Duration t = from_ms(spec.stage_ms * (1.0 + 0.25 * (b - 1)));
      row.push_back(StageTiming{t, t, t, t});
    }
  std::vector<double> prior(static_cast<std::size_t>(stages));
  for (int l = 1; l <= stages; ++l) prior[static_cast<std::size_t>(l - 1)] = spec.prior_base + spec.prior_gain * l / stages;
  const int bins = 2;
  std::vector<double> table(static_cast<std::size_t>(stages) * bins * stages);
  for (int k = 1; k <= stages; ++k)
    for (int bin = 0; bin < bins; ++bin)
      for (int l = 1; l <= stages; ++l)
        table[(static_cast<std::size_t>(k - 1) * bins + bin) * stages + l - 1] =
            (bin == 0 ? 0.4 : 0.9) + (bin == 0 ? 0.1 : 0.01) * (std::max(l, k) - k);
  Model m;
  m.name = spec.name.empty() ? std::to_string(stages).insert(0, 1, 'm') : spec.name;
  m.mandatory_depth = spec.mandatory;
  m.profile = Profile(spec.batches, timing);
  m.utility = UtilityModel(stages, bins, prior, table);
  return m;
}

/// A job of `model` released at `release`, due `relative_deadline` later.
inline Job make_job(JobId id, Time release, Duration relative_deadline, ModelId model = 0) {
  Job j;
  j.id = id;
  j.model = model;
  j.release = release;
  j.deadline = release + relative_deadline;
  return j;
}

/// The decision as a T (Dispatch, Finish, Drop, Idle); a test failure where it is another kind.
template <class T>
const T& as(const Decision& d) {
  EXPECT_TRUE(std::holds_alternative<T>(d)) << "decision index " << d.index();
  return std::get<T>(d);
}

}  // namespace imprecise::testing
