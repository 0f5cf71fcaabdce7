// A controller decides inside a scheduling pass: after construction, decide() allocates nothing (the
// sac actor's engine included), nor do the ControlLoop's observer hooks once their buffers are sized.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "control_fixtures.hpp"
#include "counting_allocator.hpp"
#include "imprecise/control/controllers.hpp"
#include "imprecise/sched/control_loop.hpp"

namespace imprecise {
namespace {

using testing::g_all_threads;

long allocations() { return g_all_threads.news.load() + g_all_threads.mallocs.load(); }

std::vector<ModelWindow> loaded_windows(int step) {
  std::vector<ModelWindow> windows(3);
  for (int m = 0; m < 3; ++m) {
    ModelWindow& w = windows[static_cast<std::size_t>(m)];
    w.arrived = 40 + 60 * ((step + m) % 4);
    w.answered = w.arrived - 3;
    w.completed = w.answered - (step % 3);
    w.missed = step % 3;
    w.latency_mean = from_ms(2 + step % 5);
    w.latency_p50 = w.latency_mean;
    w.latency_p99 = from_ms(5 + 3 * (step % 4));
    w.slo = from_ms(15);
    w.dispatches = 10;
    w.mean_batch = 1 + step % 4;
    w.pending = step % 7;
  }
  return windows;
}

TEST(ControlAllocation, DecideAllocatesNothing) {
  const std::vector<Model> models = testing::three_models();
  ControllerConfig config;
  config.lanes = 2;
  config.actor = std::string(IMPRECISE_SOURCE_DIR) + "/tests/fixtures/control/actor_3x2.onnx";
  std::vector<std::vector<ModelWindow>> windows;
  for (int step = 0; step < 8; ++step) windows.push_back(loaded_windows(step));
  for (const std::string& name : control::controller_names()) {
    auto c = control::make_controller(name, models, config);
    std::vector<ModelControl> current(3, config.fixed), next(3);
    const auto run = [&](int steps) {
      for (int i = 0; i < steps; ++i) {
        next = current;  // same size: copies in place
        c->decide(ControlObservation{0, from_ms(100), 2, 0.5, windows[static_cast<std::size_t>(i % 8)], current, {}}, next);
        current = next;
      }
    };
    run(8);  // warm
    const long before = allocations();
    run(200);
    EXPECT_EQ(allocations() - before, 0) << name;
  }
}

TEST(ControlAllocation, ObserverHooksAllocateNothingOnceSized) {
  const std::vector<Model> models = testing::three_models();
  ControlLoop loop(control::make_controller("static", models, {}), models, {});
  const std::shared_ptr<Observer> observer = loop.observer();
  observer->on_start(HostInfo{models, 1, "recording", 256, "simulator"});
  testing::RecordingPolicy policy;
  policy.calls.reserve(4096);
  loop.start(0, policy);
  const auto window = [&](JobId first, Time at) {
    for (JobId id = first; id < first + 200; ++id) {
      const JobInfo j{id, static_cast<ModelId>(id % 3), at, at + from_ms(20), 1.0, 0};
      observer->on_admit(j, at);
      observer->on_dispatch(0, j.model, 0, std::span(&j, 1), at);
      observer->on_stage_done(0, j.model, 0, std::span(&j, 1), at, at + from_ms(1), false);
      Outcome o;
      o.job = id;
      o.status = OutcomeStatus::completed;
      o.exit = o.depth = 1;
      o.confidence = 0.8;
      o.model = j.model;
      o.release = at;
      o.deadline = j.deadline;
      o.finish = at + from_ms(1);
      observer->on_outcome(o);
    }
  };
  window(0, 0);
  loop.tick(from_ms(100), policy);
  const long before = allocations();
  window(1000, from_ms(100));
  EXPECT_EQ(allocations() - before, 0);
}

}  // namespace
}  // namespace imprecise
