// The engine's lanes on the cuda backend: each lane serves its own replica of the model (its own CUDA
// streams, cuDNN and cuBLAS handles, buffers and graphs), so batches run on the GPU from two lanes at
// once. Checked: every answer equals the CPU's, lanes overlap, and every job gets exactly one outcome
// under 10x overload and a stop midway. Skips (label cuda) without a GPU; scripts/gpu-check.sh runs it.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "imprecise/runtime/engine.hpp"
#include "lane_slice_recorder.hpp"
#include "nn_cuda_fixtures.hpp"
#include "runtime_fixtures.hpp"

namespace imprecise::runtime {
namespace {

using namespace std::chrono_literals;
using namespace testing;  // runtime_fixtures.hpp, lane_slice_recorder.hpp
using nn::testing::agree;

std::vector<ServedModel> on_cuda(const std::string& name) { return one_model(name, 8, nullptr, "cuda"); }

class CudaEngineLanes : public ::testing::TestWithParam<int> {};

TEST_P(CudaEngineLanes, EveryLaneAnswersAsTheCpuDoesWithBatchesInFlightAtOnce) {
  IMPRECISE_REQUIRE_GPU();
  const int lanes = GetParam();
  for (const std::string name : {"resnet_skip", "cnn3"}) {
    SCOPED_TRACE(name);
    const auto xs = inputs(name);
    const auto want = reference(name);  // the cpu backend, offline
    auto slices = std::make_shared<SliceRecorder>();
    EngineConfig config = lanes_config("edf-full", lanes);
    config.keep_logits = true;
    config.observers.push_back(slices);
    Engine engine(on_cuda(name), config);
    ASSERT_EQ(engine.lanes(), lanes);
    bool all_overlap = false;
    for (int round = 0; round < 20 && !all_overlap; ++round) {
      std::vector<std::future<Outcome>> futures;
      for (std::size_t i = 0; i < 200; ++i) futures.push_back(engine.submit(0, xs[i % xs.size()], kGenerous));
      for (std::size_t i = 0; i < futures.size(); ++i) {
        const Outcome o = futures[i].get();
        ASSERT_EQ(o.status, OutcomeStatus::completed) << o.message;
        ASSERT_GE(o.exit, 1);
        const nn::ExitResult& cpu = want[static_cast<std::size_t>(o.exit - 1)][i % xs.size()];
        ASSERT_EQ(o.prediction, cpu.prediction) << "job " << i << " at exit " << o.exit;
        ASSERT_NEAR(o.confidence, cpu.confidence, 1e-4) << "job " << i << " at exit " << o.exit;
        ASSERT_TRUE(agree(o.logits, cpu.logits)) << "job " << i << " at exit " << o.exit;
      }
      all_overlap = true;
      for (int l = 1; l < lanes; ++l) all_overlap = all_overlap && slices->overlapped(0, l);
    }
    const auto per_lane = slices->per_lane();
    for (int l = 0; l < lanes; ++l) EXPECT_GT(per_lane.count(l) ? per_lane.at(l) : 0, 0) << "lane " << l << " ran nothing";
    EXPECT_TRUE(all_overlap) << "every lane held a batch while lane 0 held one";
    EXPECT_EQ(engine.protocol_violations(), 0);
  }
}

TEST_P(CudaEngineLanes, AtTenTimesTheSustainableRateEveryJobGetsExactlyOneOutcome) {
  IMPRECISE_REQUIRE_GPU();
  const int lanes = GetParam();
  const auto xs = inputs("cnn3");  // three exits: run_overload checks a job alone reaches exit 3
  Engine engine(on_cuda("cnn3"), lanes_config("yao-dp", lanes, 64));
  Overload run;
  ASSERT_NO_FATAL_FAILURE(run_overload(engine, xs, /*factor=*/10 * lanes, run));
  const auto& n = run.by_status;
  std::printf("cuda, %d lanes, one job alone %.0f us, overload: %zu completed, %zu missed, %zu rejected, %zu failed\n",
              lanes, std::chrono::duration<double, std::micro>(run.per_job).count(), n[0], n[1], n[2], n[3]);
  EXPECT_EQ(n[static_cast<int>(OutcomeStatus::failed)], 0u);
  EXPECT_GT(n[static_cast<int>(OutcomeStatus::completed)], 0u);
  EXPECT_EQ(engine.protocol_violations(), 0);
}

TEST_P(CudaEngineLanes, AStopInTheMiddleStillGivesEachJobOneOutcome) {
  IMPRECISE_REQUIRE_GPU();
  ASSERT_NO_FATAL_FAILURE(stop_midway(inputs("cnn3"), [lanes = GetParam()] {
    return std::make_unique<Engine>(on_cuda("cnn3"), lanes_config("yao-dp", lanes, 64));
  }));
}

INSTANTIATE_TEST_SUITE_P(Lanes, CudaEngineLanes, ::testing::Values(2, 4),
                         [](const ::testing::TestParamInfo<int>& p) { return std::to_string(p.param) + "_lanes"; });

}  // namespace
}  // namespace imprecise::runtime
