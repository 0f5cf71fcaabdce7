// The cuda backend: registration and the fallback to the cpu everywhere; on a GPU, every op and model fixture
// against the CPU backend, graphs against eager runs, and the errors a stage reports.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include <sys/wait.h>

#include "imprecise/config.hpp"
#include "imprecise/error.hpp"
#include "imprecise/nn/backend.hpp"
#include "imprecise/backends/cpu/cpu_backend.hpp"
#include "imprecise/graph/graph.hpp"
#include "imprecise/nn/multi_exit_model.hpp"
#include "imprecise/graph/npy.hpp"
#include "imprecise/graph/onnx_import.hpp"
#include "imprecise/graph/partition.hpp"
#include "counting_allocator.hpp"
#include "nn_cuda_fixtures.hpp"
#include "nn_fixtures.hpp"
#if IMPRECISE_HAS_CUDA_BACKEND
#include "imprecise/backends/cuda/cuda_backend.hpp"
#endif


namespace imprecise::nn {
namespace {

using testing::agree;
using testing::cuda;
using testing::fixture;
using testing::fixtures_starting_with;
using testing::kBatches;
using testing::kMaxBatch;
using testing::slice;
using testing::test_name;

// ---- what runs everywhere

TEST(CudaRegistry, CudaIsRegisteredExactlyWhenBuiltWithIt) {
#if IMPRECISE_HAS_CUDA_BACKEND
  ASSERT_NE(cuda(), nullptr);
  EXPECT_EQ(cuda()->name(), "cuda");
  const auto names = BackendRegistry::get().names();
  EXPECT_NE(std::find(names.begin(), names.end(), "cuda"), names.end());
#else
  EXPECT_EQ(cuda(), nullptr);
#endif
}

TEST(CudaRegistry, ReportsZeroDevicesWithoutAGpuInsteadOfAborting) {
  if (cuda() == nullptr) GTEST_SKIP() << "built without the cuda backend";
  const int count = cuda()->device_count();
  EXPECT_GE(count, 0);
  EXPECT_EQ(cuda()->device_count(), count) << "asking again gives the same answer";
  // No NVIDIA device node means no usable GPU: the backend must say 0, not fail.
  if (!std::filesystem::exists("/dev/nvidiactl") && !std::filesystem::exists("/dev/nvidia0")) {
    EXPECT_EQ(count, 0);
  }
}

TEST(CudaRegistry, CompilingWithoutADeviceThrowsAnError) {
  if (cuda() == nullptr) GTEST_SKIP() << "built without the cuda backend";
  if (cuda()->device_count() > 0) GTEST_SKIP() << "a GPU is present";
  Graph graph = load_onnx(fixture("op_relu.onnx"));
  prepare(graph);
  const auto stages = partition(graph);
  EXPECT_THROW(cuda()->compile(graph, stages[0], CompileOptions{}), Error);
}

TEST(CudaFallback, ALoadOnCudaRunsWhereItCanAndGivesTheCpuResults) {
  MultiExitModel::Options options;
  options.backend = "cuda";
  options.compile.max_batch = kMaxBatch;
  if (cuda() == nullptr) {
    EXPECT_THROW(MultiExitModel::load(fixture("cnn3.onnx"), options), Error) << "unknown backend";
    return;
  }
  MultiExitModel model = MultiExitModel::load(fixture("cnn3.onnx"), options);
  EXPECT_EQ(model.backend(), cuda()->device_count() == 0 ? "cpu" : "cuda");
  options.backend = "cpu";
  MultiExitModel reference = MultiExitModel::load(fixture("cnn3.onnx"), options);
  const Tensor input = read_npy(fixture("cnn3.input.npy"));
  const auto got = model.run(input), want = reference.run(input);
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t k = 0; k < got.size(); ++k)
    for (std::size_t i = 0; i < got[k].size(); ++i) {
      EXPECT_TRUE(agree(got[k][i].logits, want[k][i].logits)) << "exit " << k << " sample " << i;
      EXPECT_EQ(got[k][i].prediction, want[k][i].prediction) << "exit " << k << " sample " << i;
    }
}

TEST(CudaFallback, InferOnCudaSaysWhichBackendRan) {
  if (std::string(IMPRECISE_CLI_PATH).empty()) GTEST_SKIP() << "the CLI is not built";
  if (cuda() == nullptr) GTEST_SKIP() << "built without the cuda backend";
  const std::string err = ::testing::TempDir() + "imprecise_nn_cuda_infer.err";
  const std::string command = std::string(IMPRECISE_CLI_PATH) + " infer --backend cuda --stages 1 --model " +
                              fixture("cnn3.onnx") + " --input " + fixture("cnn3.input.npy") + " 2>" + err;
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string out;
  std::array<char, 4096> buffer{};
  while (const std::size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe)) out.append(buffer.data(), n);
  const int status = pclose(pipe);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << out;
  std::string notice;
  if (FILE* f = std::fopen(err.c_str(), "r")) {
    while (const std::size_t n = std::fread(buffer.data(), 1, buffer.size(), f)) notice.append(buffer.data(), n);
    std::fclose(f);
  }
  const bool gpu = cuda()->device_count() > 0;
  EXPECT_NE(out.find(gpu ? "\"backend\":\"cuda\"" : "\"backend\":\"cpu\""), std::string::npos) << out;
  if (gpu) {
    EXPECT_EQ(notice.find("running on"), std::string::npos) << notice;
  } else {
    EXPECT_NE(notice.find("backend 'cuda' has no device here, running on 'cpu'"), std::string::npos) << notice;
    EXPECT_EQ(std::count(notice.begin(), notice.end(), '\n'), 1) << "one line: " << notice;
  }
}

// ---- on a GPU: every single-operator fixture, one stage, against the CPU backend

class CudaOp : public ::testing::TestWithParam<std::string> {};

TEST_P(CudaOp, MatchesTheCpuBackendAtBatch1And3And8) {
  IMPRECISE_REQUIRE_GPU();
  Graph graph = load_onnx(fixture(GetParam() + ".onnx"));
  prepare(graph);
  const auto stages = partition(graph);
  ASSERT_EQ(stages.size(), 1u);
  CompileOptions options;
  options.max_batch = kMaxBatch;
  const auto gpu = cuda()->compile(graph, stages[0], options);
  const auto cpu = CpuBackend().compile(graph, stages[0], options);
  EXPECT_EQ(gpu->max_batch(), kMaxBatch);
  const Tensor input = read_npy(fixture(GetParam() + ".input.npy"));
  for (const std::size_t batch : kBatches) {
    for (std::size_t first = 0; first + batch <= static_cast<std::size_t>(input.batch()); first += batch) {
      const Tensor x = slice(input, first, batch);
      const Tensor* inputs[] = {&x};
      const auto got = gpu->run(inputs);
      const auto want = cpu->run(inputs);
      ASSERT_EQ(got.size(), want.size());
      for (std::size_t o = 0; o < got.size(); ++o) {
        EXPECT_EQ(got[o]->shape(), want[o]->shape()) << "batch " << batch;
        EXPECT_TRUE(agree(got[o]->values(), want[o]->values())) << "batch " << batch << " first " << first;
      }
    }
  }
}

// Split and Resize (scripts/make_op_fixtures.py) have no cuda kernels yet: their fixtures are left out
// here, and nothing else.
std::vector<std::string> cuda_op_fixtures() {
  std::vector<std::string> names;
  for (auto& name : fixtures_starting_with("op_")) {
    const bool host_only = name.starts_with("op_split") || name.starts_with("op_resize");
    if (!host_only) names.push_back(std::move(name));
  }
  return names;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, CudaOp, ::testing::ValuesIn(cuda_op_fixtures()), test_name);

// ---- on a GPU: the multi-exit models, every stage (carried tensors included) against the CPU

class CudaModel : public ::testing::TestWithParam<std::string> {};

TEST_P(CudaModel, EveryStageMatchesTheCpuBackendAtBatch1And3And8) {
  IMPRECISE_REQUIRE_GPU();
  Graph graph = load_onnx(fixture(GetParam() + ".onnx"));
  prepare(graph);
  const auto stages = partition(graph);
  CompileOptions options;
  options.max_batch = kMaxBatch;
  const Tensor input = read_npy(fixture(GetParam() + ".input.npy"));
  for (const auto& stage : stages) {
    const auto gpu = cuda()->compile(graph, stage, options);
    const auto cpu = CpuBackend().compile(graph, stage, options);
    // A stage's inputs: the model input, or tensors earlier stages carry. Feed both backends the same
    // values (the model input's first elements, cycled), so each stage is checked on its own.
    for (const std::size_t batch : kBatches) {
      std::vector<Tensor> xs;
      for (const auto& in : stage.inputs) {
        Shape shape = in.shape;
        shape[0] = static_cast<std::int64_t>(batch);
        Tensor t(shape);
        for (std::size_t i = 0; i < t.size(); ++i) t[i] = input[(i * 7 + batch) % input.size()];
        xs.push_back(std::move(t));
      }
      std::vector<const Tensor*> inputs;
      for (const auto& x : xs) inputs.push_back(&x);
      const auto got = gpu->run(inputs);
      const auto want = cpu->run(inputs);
      ASSERT_EQ(got.size(), want.size());
      for (std::size_t o = 0; o < got.size(); ++o) {
        EXPECT_EQ(got[o]->shape(), want[o]->shape()) << "stage " << stage.index << " batch " << batch;
        EXPECT_TRUE(agree(got[o]->values(), want[o]->values()))
            << "stage " << stage.index << " output " << o << " batch " << batch;
      }
    }
  }
}

TEST_P(CudaModel, WholeModelMatchesTheCpuBackend) {
  IMPRECISE_REQUIRE_GPU();
  MultiExitModel::Options options;
  options.compile.max_batch = kMaxBatch;
  options.backend = "cuda";
  MultiExitModel gpu = MultiExitModel::load(fixture(GetParam() + ".onnx"), options);
  EXPECT_EQ(gpu.backend(), "cuda");
  options.backend = "cpu";
  MultiExitModel cpu = MultiExitModel::load(fixture(GetParam() + ".onnx"), options);
  const Tensor input = read_npy(fixture(GetParam() + ".input.npy"));
  for (const std::size_t batch : kBatches) {
    const Tensor x = slice(input, 0, batch);
    const auto got = gpu.run(x), want = cpu.run(x);
    for (std::size_t k = 0; k < got.size(); ++k)
      for (std::size_t i = 0; i < batch; ++i) {
        EXPECT_TRUE(agree(got[k][i].logits, want[k][i].logits)) << "exit " << k << " sample " << i;
        EXPECT_TRUE(agree(got[k][i].probabilities, want[k][i].probabilities)) << "exit " << k << " sample " << i;
      }
  }
}

TEST_P(CudaModel, RunningEveryStageAllocatesNothingAfterWarmUp) {
  IMPRECISE_REQUIRE_GPU();
  MultiExitModel::Options options;
  options.compile.max_batch = kMaxBatch;
  options.backend = "cuda";
  MultiExitModel model = MultiExitModel::load(fixture(GetParam() + ".onnx"), options);
  const Tensor input = read_npy(fixture(GetParam() + ".input.npy"));
  std::vector<JobState> warm_jobs, jobs;
  for (std::size_t i = 0; i < 3; ++i) {
    warm_jobs.push_back(model.start(slice(input, i, 1)));
    jobs.push_back(model.start(slice(input, i, 1)));
  }
  std::vector<JobState*> warm_batch, batch;
  for (auto& j : warm_jobs) warm_batch.push_back(&j);
  for (auto& j : jobs) batch.push_back(&j);
  std::vector<ExitResult> results;
  for (int k = 0; k < model.stages(); ++k) model.run_stage(k, warm_batch, results);
  const long news = imprecise::testing::g_all_threads.news.load();
  for (int k = 0; k < model.stages(); ++k) model.run_stage(k, batch, results);
  EXPECT_EQ(imprecise::testing::g_all_threads.news.load() - news, 0) << "operator new calls while running " << model.stages() << " stages";
  EXPECT_GT(news, 0) << "the counter sees allocations at all";
#if IMPRECISE_HAS_CUDA_BACKEND
  if (default_cuda_device_exit_head()) {
    for (int k = 0; k < model.stages(); ++k) {
      EXPECT_EQ(model.stage_times(k).device_answers, 6) << "stage " << k << ": the device exit head answered";
    }
  }
#endif
}

// mobilenet_exits is not here: it has a Resize, which has no cuda kernel yet.
INSTANTIATE_TEST_SUITE_P(Fixtures, CudaModel, ::testing::Values("cnn3", "resnet_skip", "audio1d", "pointnet"),
                         test_name);

// ---- on a GPU: the captured CUDA graphs and the eager path (a failed capture's fallback) agree

TEST(CudaStage, GraphAndEagerRunsAgree) {
  IMPRECISE_REQUIRE_GPU();
  Graph graph = load_onnx(fixture("resnet_skip.onnx"));
  prepare(graph);
  const auto stages = partition(graph);
  CompileOptions options;
  options.max_batch = kMaxBatch;
#if IMPRECISE_HAS_CUDA_BACKEND
  const CudaBackend eager_backend(CudaBackendOptions{.graphs = false});  // every size runs eagerly
  const auto eager = eager_backend.compile(graph, stages[0], options);
#else
  const auto eager = cuda()->compile(graph, stages[0], options);  // not reached: no cuda backend, skipped above
#endif
  const auto graphed = cuda()->compile(graph, stages[0], options);
  const Tensor input = read_npy(fixture("resnet_skip.input.npy"));
  for (const std::size_t batch : kBatches) {
    const Tensor x = slice(input, 0, batch);
    const Tensor* inputs[] = {&x};
    std::vector<std::vector<float>> want;
    for (const Tensor* t : eager->run(inputs)) want.emplace_back(t->values().begin(), t->values().end());
    const auto got = graphed->run(inputs);
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t o = 0; o < got.size(); ++o) EXPECT_TRUE(agree(got[o]->values(), want[o])) << "batch " << batch;
  }
}

// ---- on a GPU: a cuda stage rejects what the CPU stage rejects

TEST(CudaStage, RejectsWrongInputShapeAndBatch) {
  IMPRECISE_REQUIRE_GPU();
  Graph graph = load_onnx(fixture("op_conv2d.onnx"));
  prepare(graph);
  const auto stages = partition(graph);
  CompileOptions options;
  options.max_batch = 4;
  const auto stage = cuda()->compile(graph, stages[0], options);
  const Tensor wrong(Shape{2, 3, 9, 8});
  const Tensor* inputs[] = {&wrong};
  try {
    stage->run(inputs);
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'input'"), std::string::npos) << e.what();
  }
  const Tensor too_big(Shape{5, 3, 9, 9});
  inputs[0] = &too_big;
  EXPECT_THROW(stage->run(inputs), Error);
  EXPECT_THROW(stage->run({}), Error);
  options.device = cuda()->device_count();  // one past the last device
  EXPECT_THROW(cuda()->compile(graph, stages[0], options), Error);
}

}  // namespace
}  // namespace imprecise::nn
