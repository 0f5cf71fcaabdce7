// Shared by the control tests: a Policy that records the settings it is given, and test models.
#pragma once

#include <ostream>
#include <utility>
#include <vector>

#include "imprecise/sched/policy.hpp"
#include "policy_fixtures.hpp"

namespace imprecise::testing {

/// Schedules nothing; remembers every set_control.
class RecordingPolicy final : public Policy {
 public:
  std::string_view name() const override { return "recording"; }
  void on_release(const Job&, Time) override {}
  void on_stage_done(JobId, int, double, Time) override {}
  void on_expire(JobId, Time) override {}
  Decision next(Time) override { return Idle{}; }
  void set_control(ModelId model, const ModelControl& control) override { calls.emplace_back(model, control); }

  std::vector<std::pair<ModelId, ModelControl>> calls;
};

/// Three models (2, 3 and 4 stages of 1, 2 and 0.5 ms at batch 1; a batch of b costs 1 + 0.25 (b - 1)
/// times that), batches 1..8 measured.
inline std::vector<Model> three_models() {
  std::vector<Model> models;
  models.push_back(make_test_model({.stages = 2, .stage_ms = 1.0, .batches = {1, 2, 4, 8}, .name = "a"}));
  models.push_back(make_test_model({.stages = 3, .stage_ms = 2.0, .batches = {1, 2, 4, 8}, .name = "b"}));
  models.push_back(make_test_model({.stages = 4, .stage_ms = 0.5, .batches = {1, 2, 4, 8}, .name = "c"}));
  return models;
}

}  // namespace imprecise::testing

namespace imprecise {
/// GoogleTest prints a ModelControl as {batch, wait ms, lanes}.
inline void PrintTo(const ModelControl& c, std::ostream* os) {
  *os << "{batch " << c.max_batch << ", wait " << to_ms(c.batch_wait) << " ms, lanes " << c.lanes << "}";
}
}  // namespace imprecise
