// MultiExitModel::replica: another instance that shares nothing mutable and runs the original's jobs.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "imprecise/graph/npy.hpp"
#include "imprecise/nn/multi_exit_model.hpp"
#include "nn_fixtures.hpp"

namespace imprecise::nn {
namespace {

using testing::fixture;

class Replica : public ::testing::TestWithParam<std::string> {
 protected:
  MultiExitModel load(const std::string& name) const {
    MultiExitModel::Options options;
    options.backend = GetParam();
    options.compile.max_batch = 4;
    return MultiExitModel::load(fixture(name + ".onnx"), options);
  }
};

/// Every exit of every sample: (prediction, confidence, logits).
void expect_same(const std::vector<std::vector<ExitResult>>& got, const std::vector<std::vector<ExitResult>>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t k = 0; k < got.size(); ++k) {
    ASSERT_EQ(got[k].size(), want[k].size());
    for (std::size_t i = 0; i < got[k].size(); ++i) {
      EXPECT_EQ(got[k][i].prediction, want[k][i].prediction) << "exit " << k << " sample " << i;
      EXPECT_TRUE(testing::close(got[k][i].logits, want[k][i].logits)) << "exit " << k << " sample " << i;
    }
  }
}

TEST_P(Replica, RunsStagesOfJobsTheOriginalStarted) {
  MultiExitModel original = load("cnn3");
  MultiExitModel replica = original.replica();
  EXPECT_EQ(replica.stages(), original.stages());
  EXPECT_EQ(replica.backend(), original.backend());
  EXPECT_EQ(replica.max_batch(), original.max_batch());
  const Tensor inputs = read_npy(fixture("cnn3.input.npy"));
  const std::size_t n = std::min<std::size_t>(4, static_cast<std::size_t>(inputs.dim(0)));
  const Tensor batch = testing::slice(inputs, 0, n);
  const auto alone = original.run(batch);

  // Stage 0 on the original, the rest alternating between the replica and the original.
  std::vector<JobState> jobs;
  for (std::size_t i = 0; i < n; ++i) jobs.push_back(original.start(testing::slice(inputs, i, 1)));
  std::vector<JobState*> ptrs;
  for (JobState& j : jobs) ptrs.push_back(&j);
  std::vector<std::vector<ExitResult>> mixed(static_cast<std::size_t>(original.stages()));
  for (int k = 0; k < original.stages(); ++k) {
    MultiExitModel& on = k % 2 == 0 ? original : replica;
    on.run_stage(k, ptrs, mixed[static_cast<std::size_t>(k)]);
  }
  expect_same(mixed, alone);
  EXPECT_EQ(replica.stage_times(1).runs, 1);  // its own counters
  EXPECT_EQ(original.stage_times(1).runs, 1);  // run() once, not the replica's run
}

TEST_P(Replica, ThreadsRunningReplicasAtOnceMatchASerialRun) {
  MultiExitModel original = load("resnet_skip");
  const Tensor inputs = read_npy(fixture("resnet_skip.input.npy"));
  const auto serial = original.run(inputs);
  constexpr int kThreads = 3;
  std::vector<MultiExitModel> replicas;
  for (int t = 0; t < kThreads; ++t) replicas.push_back(original.replica());
  std::vector<std::vector<std::vector<ExitResult>>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int round = 0; round < 3; ++round) got[static_cast<std::size_t>(t)] = replicas[static_cast<std::size_t>(t)].run(inputs);
    });
  for (std::thread& t : threads) t.join();
  for (const auto& g : got) expect_same(g, serial);
}

INSTANTIATE_TEST_SUITE_P(HostBackends, Replica, ::testing::ValuesIn(testing::host_backends()));

}  // namespace
}  // namespace imprecise::nn
