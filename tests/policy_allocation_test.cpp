// Hot-path check: after warm-up, a policy's decisions allocate nothing (counting global operator new).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <variant>

#include "imprecise/sched/policy.hpp"
#include "counting_allocator.hpp"


namespace imprecise {
namespace {

Model make_model(int stages) {
  std::vector<int> batches{1, 2, 4, 8};
  std::vector<std::vector<StageTiming>> table(stages);
  for (int s = 0; s < stages; ++s)
    for (int b : batches) {
      const Duration t = from_ms(1.0 + 0.3 * (b - 1));
      table[s].push_back(StageTiming{t, t, t + from_us(200), t + from_us(400)});
    }
  std::vector<ExitRecord> records;
  for (int i = 0; i < 2000; ++i)
    for (int l = 0; l < stages; ++l)
      records.push_back(ExitRecord{static_cast<float>((i * 37 + l * 11) % 100) / 100.0f, (i + l) % 3 != 0});
  Model m;
  m.name = "m";
  m.profile = Profile(batches, table);
  m.utility = UtilityModel::calibrate(stages, records);
  return m;
}

/// Releases `jobs` jobs, then drives the policy like a host until every job is finished or dropped.
void drive(Policy& policy, JobId first_id, int jobs) {
  Time now = 0;
  for (int i = 0; i < jobs; ++i) {
    Job j;
    j.id = first_id + static_cast<JobId>(i);
    j.model = i % 2;
    j.release = now;
    j.deadline = now + from_ms(5.0 + 1.5 * i);
    policy.on_release(j, now);
  }
  JobId in_flight[16];
  for (int step = 0; step < 10000; ++step) {
    const Decision d = policy.next(now);
    if (std::holds_alternative<Idle>(d)) return;
    if (const auto* dispatch = std::get_if<Dispatch>(&d)) {
      const int count = static_cast<int>(dispatch->jobs.size());
      const int stage = dispatch->stage;
      for (int k = 0; k < count; ++k) in_flight[k] = dispatch->jobs[k];
      now += from_ms(1.2);
      for (int k = 0; k < count; ++k) policy.on_stage_done(in_flight[k], stage + 1, 0.5, now);
    }
  }
  FAIL() << "policy did not settle";
}

class PolicyAllocation : public ::testing::TestWithParam<const char*> {};

TEST_P(PolicyAllocation, DecisionsAllocateNothingAfterWarmUp) {
  std::vector<Model> models{make_model(4), make_model(3)};
  auto policy = make_policy(GetParam(), models);
  const long start = imprecise::testing::g_all_threads.news.load();
  drive(*policy, 0, 48);  // warm-up: buffers grow to their working size
  ASSERT_GT(imprecise::testing::g_all_threads.news.load() - start, 0) << "the counter sees the warm-up's allocations";
  const long before = imprecise::testing::g_all_threads.news.load();
  drive(*policy, 1000, 48);
  EXPECT_EQ(imprecise::testing::g_all_threads.news.load() - before, 0) << GetParam();
}

INSTANTIATE_TEST_SUITE_P(Policies, PolicyAllocation,
                         ::testing::Values("yao-dp", "density", "oracle-utility", "edf-full", "edf-threshold:0.8",
                                           "round-robin"));

}  // namespace
}  // namespace imprecise
