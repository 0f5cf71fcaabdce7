// Tests of controllers and load schedules in the simulator, and of the steppable Simulation.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "imprecise/error.hpp"
#include "imprecise/sim/simulation.hpp"
#include "imprecise/sim/simulator.hpp"

namespace imprecise::sim {
namespace {

std::string source(const std::string& rel) { return std::string(IMPRECISE_SOURCE_DIR) + "/" + rel; }

/// Holds one setting for every model (or, with hold_defaults, changes nothing at all).
class FixedController final : public Controller {
 public:
  explicit FixedController(ModelControl setting, bool hold_defaults = false)
      : setting_(setting), hold_defaults_(hold_defaults) {}
  std::string_view name() const override { return "test-fixed"; }
  void decide(const ControlObservation& o, std::span<ModelControl> next) override {
    ++decisions;
    EXPECT_EQ(o.models.size(), next.size());
    if (!hold_defaults_) std::fill(next.begin(), next.end(), setting_);
  }
  int decisions = 0;

 private:
  ModelControl setting_;
  bool hold_defaults_;
};

/// The largest batch any dispatch carried.
class BatchWatch final : public Observer {
 public:
  void on_dispatch(int, ModelId, int, std::span<const JobInfo> jobs, Time) override {
    largest = std::max(largest, static_cast<int>(jobs.size()));
    ++dispatches;
  }
  int largest = 0;
  int dispatches = 0;
};

SimConfig base(double load, int lanes) {
  SimConfig c;
  c.load = load;
  c.lanes = lanes;
  c.seed = 5;
  c.duration = from_seconds(4);
  c.control.interval = from_ms(100);
  return c;
}

void expect_one_outcome_each(const SimResult& r) {
  ASSERT_EQ(r.outcomes.size(), r.jobs.size());
  for (std::size_t i = 0; i < r.jobs.size(); ++i) {
    EXPECT_EQ(r.jobs[i].id, static_cast<JobId>(i));
    EXPECT_EQ(r.outcomes[i].job, static_cast<JobId>(i)) << "job " << i << " has no outcome of its own";
  }
  EXPECT_EQ(r.protocol_violations, 0);
}

TEST(SimControl, EveryJobHasOneOutcomeWithLanesAndAControllerAtTenfoldOverload) {
  const Scenario sc = load_scenario(source("scenarios/edge_multi_model.json"));
  for (const char* policy : {"yao-dp", "edf-full", "density"}) {
    SimConfig c = base(10.0, 2);
    c.duration = from_seconds(1);
    c.controller = std::make_shared<FixedController>(ModelControl{4, from_ms(1), 1});
    const SimResult r = simulate(sc, policy, c);
    expect_one_outcome_each(r);
    const auto& t = r.metrics.total;
    EXPECT_EQ(t.completed + t.missed + t.rejected + t.failed, t.jobs) << policy;
    EXPECT_GT(t.completed, 0) << policy;
  }
}

TEST(SimControl, TheControllersMaxBatchBoundsEveryDispatch) {
  const Scenario sc = load_scenario(source("scenarios/edge_multi_model.json"));
  SimConfig plain = base(4.0, 1);
  auto unbounded = std::make_shared<BatchWatch>();
  plain.observers.push_back(unbounded);
  simulate(sc, "edf-full", plain);
  ASSERT_GT(unbounded->largest, 2) << "the scenario must batch more than 2 at this load for the test to mean anything";

  SimConfig c = base(4.0, 1);
  auto bounded = std::make_shared<BatchWatch>();
  c.observers.push_back(bounded);
  auto controller = std::make_shared<FixedController>(ModelControl{2, 0, 0});
  c.controller = controller;
  const SimResult r = simulate(sc, "edf-full", c);
  EXPECT_LE(bounded->largest, 2);
  EXPECT_GT(bounded->dispatches, 0);
  // One record per interval over the run (the loop stops once nothing is left).
  const auto intervals = static_cast<std::size_t>(c.duration / c.control.interval);
  EXPECT_GE(r.control.size(), intervals);
  EXPECT_LE(r.control.size(), intervals + 5);
  EXPECT_EQ(r.control_decisions.size(), r.control.size());
  EXPECT_GE(controller->decisions, static_cast<int>(intervals));
  for (const ControlRecord& rec : r.control) {
    ASSERT_EQ(rec.chosen.size(), sc.models.size());
    EXPECT_EQ(rec.chosen[0].max_batch, 2);
  }
}

TEST(SimControl, AControllerThatChangesNothingLeavesTheRunAsItIs) {
  const Scenario sc = load_scenario(source("scenarios/edge_multi_model.json"));
  SimConfig c = base(2.0, 1);
  const SimResult without = simulate(sc, "yao-dp", c);
  c.controller = std::make_shared<FixedController>(ModelControl{}, true);
  const SimResult with = simulate(sc, "yao-dp", c);
  ASSERT_EQ(without.outcomes.size(), with.outcomes.size());
  for (std::size_t i = 0; i < with.outcomes.size(); ++i) {
    EXPECT_EQ(without.outcomes[i].status, with.outcomes[i].status) << i;
    EXPECT_EQ(without.outcomes[i].finish, with.outcomes[i].finish) << i;
  }
  EXPECT_FALSE(with.control.empty());
}

TEST(SimControl, IdenticalSeedsGiveIdenticalRunsWithAControllerAndASchedule) {
  const Scenario sc = load_scenario(source("scenarios/edge_multi_model.json"));
  auto run = [&] {
    SimConfig c = base(2.0, 2);
    c.controller = std::make_shared<FixedController>(ModelControl{4, from_ms(2), 0});
    c.load_schedule = parse_load_schedule("bursts:0.5:3:1:0.3", c.duration);
    return simulate(sc, "yao-dp", c);
  };
  const SimResult a = run(), b = run();
  ASSERT_EQ(a.outcomes.size(), b.outcomes.size());
  for (std::size_t i = 0; i < a.outcomes.size(); ++i) {
    EXPECT_EQ(a.jobs[i].release, b.jobs[i].release) << i;
    EXPECT_EQ(a.outcomes[i].status, b.outcomes[i].status) << i;
    EXPECT_EQ(a.outcomes[i].finish, b.outcomes[i].finish) << i;
  }
  ASSERT_EQ(a.control.size(), b.control.size());
  for (std::size_t i = 0; i < a.control.size(); ++i) EXPECT_EQ(a.control[i].utility, b.control[i].utility);
}

// Arrivals released in [from, to) seconds.
int released_in(const SimResult& r, double from, double to) {
  return static_cast<int>(std::count_if(r.jobs.begin(), r.jobs.end(), [&](const Job& j) {
    return j.release >= from_seconds(from) && j.release < from_seconds(to);
  }));
}

TEST(SimControl, ARampScheduleRaisesTheArrivalRateLinearly) {
  const Scenario sc = load_scenario(source("scenarios/single_vision.json"));  // poisson: a clean shape
  SimConfig c = base(0.5, 1);
  c.duration = from_seconds(40);
  const SimResult flat = simulate(sc, "edf-full", c);
  c.load_schedule = parse_load_schedule("ramp:1:3", c.duration);
  const SimResult ramp = simulate(sc, "edf-full", c);
  // Mean multiplier over each quarter: 1.25, 1.75, 2.25, 2.75 (of the flat run's mean arrivals per quarter).
  const double flat_quarter = static_cast<double>(flat.jobs.size()) / 4.0;
  const double expected[] = {1.25, 1.75, 2.25, 2.75};
  for (int q = 0; q < 4; ++q) {
    const double ratio = released_in(ramp, 10.0 * q, 10.0 * (q + 1)) / flat_quarter;
    EXPECT_NEAR(ratio, expected[q], 0.1 * expected[q]) << "quarter " << q;
  }
}

TEST(SimControl, ABurstScheduleIsASquareWave) {
  const Scenario sc = load_scenario(source("scenarios/single_vision.json"));  // poisson: a clean shape
  SimConfig c = base(0.5, 1);
  c.duration = from_seconds(20);
  c.load_schedule = parse_load_schedule("bursts:0.5:2:2:0.25", c.duration);
  const SimResult r = simulate(sc, "edf-full", c);
  int on = 0, off = 0;
  for (int period = 0; period < 10; ++period) {
    on += released_in(r, 2.0 * period, 2.0 * period + 0.5);
    off += released_in(r, 2.0 * period + 0.5, 2.0 * period + 2.0);
  }
  // Per second: on at 2x, off at 0.5x; the on part is a third as long as the off part.
  const double rate_ratio = (on / 0.5) / (off / 1.5);
  EXPECT_NEAR(rate_ratio, 4.0, 0.6);
}

TEST(SimControl, AConstantScheduleOfOneKeepsEveryArrival) {
  const Scenario sc = load_scenario(source("scenarios/single_vision.json"));
  SimConfig c = base(1.0, 1);
  const SimResult plain = simulate(sc, "edf-full", c);
  c.load_schedule = parse_load_schedule("points:0=1,2=1", c.duration);
  const SimResult one = simulate(sc, "edf-full", c);
  ASSERT_EQ(plain.jobs.size(), one.jobs.size());
  for (std::size_t i = 0; i < one.jobs.size(); ++i) EXPECT_EQ(plain.jobs[i].release, one.jobs[i].release);
}

TEST(SimControl, BadScheduleSpecsAreErrorsNamingThePart) {
  const Duration d = from_seconds(10);
  for (const char* bad : {"ramp:1", "ramp:a:2", "bursts:1:2:0:0.5", "bursts:1:2:1:1.5", "wave:1", "points:1",
                          "points:2=1,1=1", "ramp:-1:2", "", "points:"}) {  // "": once the first of no parts
    EXPECT_THROW(parse_load_schedule(bad, d), Error) << bad;
  }
  try {
    parse_load_schedule("bursts:1:2:0:0.5", d);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("PERIOD_S"), std::string::npos) << e.what();
  }
}

TEST(SimControl, ExternalControlStopsAtEveryIntervalAndAnActionShowsInTheNextObservation) {
  const Scenario sc = load_scenario(source("scenarios/edge_multi_model.json"));
  SimConfig c = base(3.0, 2);
  Simulation sim(sc, "edf-full", c, ControlMode::external);
  const Duration interval = c.control.interval;
  EXPECT_EQ(sim.next_control(), interval);
  ASSERT_TRUE(sim.run_until(sim.next_control()));
  EXPECT_EQ(sim.now(), interval);
  const ControlObservation first = sim.observation();
  ASSERT_EQ(first.models.size(), sc.models.size());
  EXPECT_EQ(first.lanes, 2);
  std::vector<int> arrived;  // the observation's spans die with the next call
  for (const ModelWindow& w : first.models) arrived.push_back(w.arrived);
  EXPECT_GT(arrived[0], 0);

  std::vector<ModelControl> chosen(sc.models.size(), ModelControl{1, 0, 1});
  sim.apply(chosen);
  ASSERT_TRUE(sim.run_until(sim.next_control()));
  EXPECT_EQ(sim.now(), 2 * interval);
  const ControlObservation second = sim.observation();
  ASSERT_EQ(second.current.size(), chosen.size());
  for (std::size_t m = 0; m < chosen.size(); ++m) EXPECT_EQ(second.current[m], chosen[m]);
  for (const ModelWindow& w : second.models)
    if (w.dispatches > 0) {
      EXPECT_DOUBLE_EQ(w.mean_batch, 1.0);
    }

  EXPECT_THROW(sim.apply(std::vector<ModelControl>(1)), Error);
  const SimResult r = sim.finish();
  expect_one_outcome_each(r);

  // reset: the same seed, the same run.
  sim.reset(c.seed);
  ASSERT_TRUE(sim.run_until(interval));
  const ControlObservation again = sim.observation();
  for (std::size_t m = 0; m < sc.models.size(); ++m) EXPECT_EQ(again.models[m].arrived, arrived[m]);
}

}  // namespace
}  // namespace imprecise::sim
