// Hot-path check on every host backend: after warm-up, running every stage of a model for a batch allocates
// nothing (counting operator new and malloc); on onednn, nothing but oneDNN's own small per-call argument map.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <new>
#include <string>
#include <tuple>
#include <vector>

#include "imprecise/graph/graph.hpp"
#include "imprecise/nn/backend.hpp"
#include "imprecise/nn/multi_exit_model.hpp"
#include "imprecise/graph/npy.hpp"
#include "imprecise/graph/onnx_import.hpp"
#include "imprecise/graph/partition.hpp"
#include "counting_allocator.hpp"
#include "nn_fixtures.hpp"


namespace imprecise::nn {
namespace {

constexpr int kBatch = 4;

using imprecise::testing::g_all_threads;

/// What one measured call allocated.
struct Allocations {
  long news = 0, mallocs = 0;
  std::size_t largest = 0;  // bytes
};

template <typename F>
Allocations count_allocations(F&& f) {
  g_all_threads.largest.store(0);
  const long news = g_all_threads.news.load(), mallocs = g_all_threads.mallocs.load();
  f();
  return {g_all_threads.news.load() - news, g_all_threads.mallocs.load() - mallocs, g_all_threads.largest.load()};
}

// oneDNN 2.6's dnnl_primitive_execute (its C entry point, which we call with a prepared argument array)
// copies the arguments into a std::unordered_map per call: a few small nodes, the same number every run.
// That is the only allocation allowed on the onednn backend's hot path; every buffer (activations,
// weights, scratchpad) must come from compile time, so nothing larger than this may be allocated.
constexpr std::size_t kOnednnArgumentNode = 256;

/// The cpu backend allocates nothing once warm; onednn only oneDNN's per-call argument map (`again`,
/// a second measured run of the same work, must allocate exactly as much).
void expect_hot_path_clean(const std::string& backend, const std::string& what, const Allocations& run,
                           const Allocations& again) {
  if (backend != "onednn") {
    EXPECT_EQ(run.news, 0) << what << ": operator new calls";
    EXPECT_EQ(run.mallocs, 0) << what << ": malloc calls";
    return;
  }
  EXPECT_LE(run.largest, kOnednnArgumentNode) << what << ": an allocation larger than oneDNN's argument map";
  EXPECT_EQ(run.news, again.news) << what << ": operator new calls differ from run to run";
  EXPECT_EQ(run.mallocs, again.mallocs) << what << ": malloc calls differ from run to run";
}

std::string backend_and_name(const ::testing::TestParamInfo<std::tuple<std::string, std::string>>& param) {
  return std::get<0>(param.param) + "_" + std::get<1>(param.param);
}

/// Job j's input: distinct, deterministic values (they do not matter, only that the kernels run on real
/// data). Written into `input`, which has the model's sample shape.
void fill_input(Tensor& input, int j) {
  for (std::size_t i = 0; i < input.size(); ++i) input[i] = static_cast<float>(std::sin(0.37 * static_cast<double>(i) + j));
}

Tensor sample_tensor(const MultiExitModel& model) {
  const Shape& want = model.input_shape();
  return Tensor(Shape(want.begin() + 1, want.end()));
}

/// kBatch fresh jobs, job j on fill_input's input j.
std::vector<JobState> start_jobs(const MultiExitModel& model) {
  std::vector<JobState> jobs;
  for (int j = 0; j < kBatch; ++j) {
    Tensor input = sample_tensor(model);
    fill_input(input, j);
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

class NnAllocation : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(NnAllocation, RunningEveryStageAllocatesNothingAfterWarmUp) {
  const auto& [backend, name] = GetParam();
  MultiExitModel::Options options;
  options.compile.max_batch = kBatch;
  options.backend = backend;
  MultiExitModel model = MultiExitModel::load(testing::fixture(name + ".onnx"), options);
  ASSERT_EQ(model.backend(), backend);

  std::vector<JobState> warm_jobs = start_jobs(model), jobs = start_jobs(model), more_jobs = start_jobs(model);
  std::vector<JobState*> warm_batch, batch, more_batch;
  for (auto& j : warm_jobs) warm_batch.push_back(&j);
  for (auto& j : jobs) batch.push_back(&j);
  for (auto& j : more_jobs) more_batch.push_back(&j);
  std::vector<ExitResult> results;

  float warm = 0.0f, again = 0.0f, more = 0.0f;
  const Allocations warm_up = count_allocations([&] { warm = run_all(model, warm_batch, results); });  // results grow here
  ASSERT_GT(warm_up.news, 0) << "the operator new counter sees the warm-up's allocations";
  if (IMPRECISE_COUNT_MALLOC) {
    ASSERT_GT(warm_up.mallocs, 0) << "the malloc counter sees the warm-up's allocations";
  }
  const Allocations run = count_allocations([&] { again = run_all(model, batch, results); });
  const Allocations second = count_allocations([&] { more = run_all(model, more_batch, results); });
  expect_hot_path_clean(backend, name + ": running " + std::to_string(model.stages()) + " stages", run, second);
  // Same inputs, same stages: the second run must agree with the warm-up (the buffers were reused, not
  // left stale).
  EXPECT_FLOAT_EQ(again, warm);
  EXPECT_FLOAT_EQ(more, warm);
  ASSERT_EQ(results.size(), static_cast<std::size_t>(kBatch));
  for (const JobState& j : jobs) EXPECT_EQ(j.stages_done(), model.stages());

  // A server reuses a finished job's tensors for its next job: restarting allocates nothing (on every
  // backend: it is ours, not the backend's), and the reused tensors give the fresh jobs' answers.
  Tensor input = sample_tensor(model);
  const Allocations restarts = count_allocations([&] {
    for (std::size_t j = 0; j < jobs.size(); ++j) {
      fill_input(input, static_cast<int>(j));  // start_jobs' input j again
      model.restart(input, jobs[j]);
    }
  });
  EXPECT_EQ(restarts.news, 0) << name << ": operator new calls restarting " << kBatch << " finished jobs";
  EXPECT_EQ(restarts.mallocs, 0) << name << ": malloc calls restarting " << kBatch << " finished jobs";
  for (const JobState& j : jobs) EXPECT_EQ(j.stages_done(), 0);
  float reused = 0.0f;
  const Allocations rerun = count_allocations([&] { reused = run_all(model, batch, results); });
  expect_hot_path_clean(backend, name + ": running restarted jobs", rerun, second);
  EXPECT_FLOAT_EQ(reused, warm);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, NnAllocation,
                         ::testing::Combine(::testing::ValuesIn(testing::host_backends()),
                                            ::testing::Values("cnn3", "resnet_skip", "audio1d", "pointnet",
                                                              "mobilenet_exits")),
                         backend_and_name);

// Every single-operator fixture (not multi-exit models: their one output is no [N, classes] exit),
// compiled as one stage and run through the backend directly, so every kernel's run path is covered,
// the general (batched, broadcasting) MatMul included.
class StageAllocation : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(StageAllocation, RunningTheStageAllocatesNothingAfterWarmUp) {
  const auto& [backend, name] = GetParam();
  Graph graph = load_onnx(testing::fixture(name + ".onnx"));
  prepare(graph);
  const auto stages = partition(graph);
  ASSERT_EQ(stages.size(), 1u);
  CompileOptions options;
  options.max_batch = kBatch;
  const auto stage = BackendRegistry::get().at(backend).compile(graph, stages[0], options);
  const Tensor x = testing::slice(read_npy(testing::fixture(name + ".input.npy")), 0, kBatch);
  const Tensor* inputs[] = {&x};

  std::vector<float> warm;  // allocated here, before counting
  const Allocations warm_up = count_allocations([&] { warm.reserve(stage->run(inputs).back()->size()); });
  const auto first = stage->run(inputs);
  warm.assign(first.back()->values().begin(), first.back()->values().end());

  std::span<const Tensor* const> again;
  const Allocations run = count_allocations([&] { again = stage->run(inputs); });
  const Allocations second = count_allocations([&] { stage->run(inputs); });
  expect_hot_path_clean(backend, name + ": run()", run, second);
  EXPECT_TRUE(std::equal(warm.begin(), warm.end(), again.back()->values().begin(), again.back()->values().end()));
  // The counter's own check for this suite: the warm-up's reserve above went through operator new.
  EXPECT_GT(warm_up.news, 0);
}

std::vector<std::string> op_fixtures() {
  std::vector<std::string> ops;
  for (const auto& entry : std::filesystem::directory_iterator(testing::fixture("")))
    if (const std::string file = entry.path().filename().string(); file.starts_with("op_") && file.ends_with(".onnx"))
      ops.push_back(file.substr(0, file.size() - 5));
  std::sort(ops.begin(), ops.end());
  return ops;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, StageAllocation,
                         ::testing::Combine(::testing::ValuesIn(testing::host_backends()), ::testing::ValuesIn(op_fixtures())),
                         backend_and_name);

}  // namespace
}  // namespace imprecise::nn
