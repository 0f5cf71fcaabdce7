// Hot-path check: after warm-up, running every stage of a model for a batch allocates nothing (counting operator new and malloc).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <new>
#include <string>
#include <vector>

#include "imprecise/backends/cpu/cpu_backend.hpp"
#include "imprecise/graph/graph.hpp"
#include "imprecise/nn/multi_exit_model.hpp"
#include "imprecise/graph/npy.hpp"
#include "imprecise/graph/onnx_import.hpp"
#include "imprecise/graph/partition.hpp"
#include "counting_allocator.hpp"
#include "nn_fixtures.hpp"


namespace imprecise::nn {
namespace {

constexpr int kBatch = 4;

/// kBatch fresh jobs with distinct, deterministic inputs (the values do not matter, only that the
/// kernels run on real data).
std::vector<JobState> start_jobs(const MultiExitModel& model) {
  const Shape& want = model.input_shape();
  const Shape sample(want.begin() + 1, want.end());
  std::vector<JobState> jobs;
  for (int j = 0; j < kBatch; ++j) {
    Tensor input(sample);
    for (std::size_t i = 0; i < input.size(); ++i) input[i] = static_cast<float>(std::sin(0.37 * static_cast<double>(i) + j));
    jobs.push_back(model.start(input));
  }
  return jobs;
}

/// Runs every stage for the batch, reusing `results`; returns the sum of the exits' confidences so
/// the work cannot be optimised away.
float run_all(MultiExitModel& model, std::vector<JobState*>& batch, std::vector<ExitResult>& results) {
  float total = 0.0f;
  for (int k = 0; k < model.stages(); ++k) {
    model.run_stage(k, batch, results);
    for (const ExitResult& r : results) total += r.confidence;
  }
  return total;
}

class NnAllocation : public ::testing::TestWithParam<std::string> {};

TEST_P(NnAllocation, RunningEveryStageAllocatesNothingAfterWarmUp) {
  MultiExitModel::Options options;
  options.compile.max_batch = kBatch;
  MultiExitModel model = MultiExitModel::load(testing::fixture(GetParam() + ".onnx"), options);

  std::vector<JobState> warm_jobs = start_jobs(model), jobs = start_jobs(model);
  std::vector<JobState*> warm_batch, batch;
  for (auto& j : warm_jobs) warm_batch.push_back(&j);
  for (auto& j : jobs) batch.push_back(&j);
  std::vector<ExitResult> results;

  const long news_at_start = imprecise::testing::g_all_threads.news.load(), mallocs_at_start = imprecise::testing::g_all_threads.mallocs.load();
  const float warm = run_all(model, warm_batch, results);  // results' vectors grow to their size here
  ASSERT_GT(imprecise::testing::g_all_threads.news.load() - news_at_start, 0) << "the operator new counter sees the warm-up's allocations";
  if (IMPRECISE_COUNT_MALLOC) {
    ASSERT_GT(imprecise::testing::g_all_threads.mallocs.load() - mallocs_at_start, 0) << "the malloc counter sees the warm-up's allocations";
  }

  const long news = imprecise::testing::g_all_threads.news.load(), mallocs = imprecise::testing::g_all_threads.mallocs.load();
  const float again = run_all(model, batch, results);
  const long new_count = imprecise::testing::g_all_threads.news.load() - news, malloc_count = imprecise::testing::g_all_threads.mallocs.load() - mallocs;
  EXPECT_EQ(new_count, 0) << GetParam() << ": operator new calls while running " << model.stages() << " stages";
  EXPECT_EQ(malloc_count, 0) << GetParam() << ": malloc calls while running " << model.stages() << " stages";
  // Same inputs, same stages: the second run must agree with the warm-up (the buffers were reused, not
  // left stale).
  EXPECT_FLOAT_EQ(again, warm);
  ASSERT_EQ(results.size(), static_cast<std::size_t>(kBatch));
  for (const JobState& j : jobs) EXPECT_EQ(j.stages_done(), model.stages());
}

std::string test_name(const ::testing::TestParamInfo<std::string>& param) { return param.param; }

INSTANTIATE_TEST_SUITE_P(Fixtures, NnAllocation, ::testing::Values("cnn3", "resnet_skip", "audio1d", "pointnet"),
                         test_name);

// Every single-operator fixture (not multi-exit models: their one output is no [N, classes] exit),
// compiled as one stage and run through the backend directly, so every kernel's run path is covered,
// the general (batched, broadcasting) MatMul included.
class StageAllocation : public ::testing::TestWithParam<std::string> {};

TEST_P(StageAllocation, RunningTheStageAllocatesNothingAfterWarmUp) {
  Graph graph = load_onnx(testing::fixture(GetParam() + ".onnx"));
  prepare(graph);
  const auto stages = partition(graph);
  ASSERT_EQ(stages.size(), 1u);
  CompileOptions options;
  options.max_batch = kBatch;
  const auto stage = CpuBackend().compile(graph, stages[0], options);
  const Tensor x = testing::slice(read_npy(testing::fixture(GetParam() + ".input.npy")), 0, kBatch);
  const Tensor* inputs[] = {&x};

  const long news_at_start = imprecise::testing::g_all_threads.news.load();
  std::vector<float> warm;  // allocated here, before counting
  warm.reserve(stage->run(inputs).back()->size());
  const long warm_news = imprecise::testing::g_all_threads.news.load() - news_at_start;
  const auto first = stage->run(inputs);
  warm.assign(first.back()->values().begin(), first.back()->values().end());

  const long news = imprecise::testing::g_all_threads.news.load(), mallocs = imprecise::testing::g_all_threads.mallocs.load();
  const auto again = stage->run(inputs);
  EXPECT_EQ(imprecise::testing::g_all_threads.news.load() - news, 0) << GetParam() << ": operator new calls in run()";
  EXPECT_EQ(imprecise::testing::g_all_threads.mallocs.load() - mallocs, 0) << GetParam() << ": malloc calls in run()";
  EXPECT_TRUE(std::equal(warm.begin(), warm.end(), again.back()->values().begin(), again.back()->values().end()));
  // The counter's own check for this suite: the warm-up's reserve above went through operator new.
  EXPECT_GT(warm_news, 0);
}

std::vector<std::string> op_fixtures() {
  std::vector<std::string> ops;
  for (const auto& entry : std::filesystem::directory_iterator(testing::fixture("")))
    if (const std::string file = entry.path().filename().string(); file.starts_with("op_") && file.ends_with(".onnx"))
      ops.push_back(file.substr(0, file.size() - 5));
  std::sort(ops.begin(), ops.end());
  return ops;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, StageAllocation, ::testing::ValuesIn(op_fixtures()), test_name);

}  // namespace
}  // namespace imprecise::nn
