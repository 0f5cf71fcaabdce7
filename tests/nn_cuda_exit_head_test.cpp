// The exit head: the cpu answers on the host, MultiExitModel takes a backend's own answers; on a GPU, the fused
// exit-head kernel against post_process and the device exit head in the serving path against the cpu.
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

TEST(ExitAnswers, TheCpuBackendLeavesTheExitToTheHost) {
  Graph graph = load_onnx(fixture("cnn3.onnx"));
  prepare(graph);
  const auto stages = partition(graph);
  CompileOptions options;
  options.max_batch = kMaxBatch;
  const auto stage = CpuBackend().compile(graph, stages[0], options);
  const Tensor input = read_npy(fixture("cnn3.input.npy"));
  const Tensor x = slice(input, 0, 2);
  const Tensor* inputs[] = {&x};
  stage->run(inputs);
  EXPECT_EQ(stage->exit_answers(), nullptr);
  EXPECT_EQ(stage->counters().device_exit_rows, 0);

  MultiExitModel::Options model_options;
  model_options.compile.max_batch = kMaxBatch;
  model_options.time_stages = true;
  MultiExitModel model = MultiExitModel::load(fixture("cnn3.onnx"), model_options);
  const auto got = model.run(slice(input, 0, 3));
  for (int k = 0; k < model.stages(); ++k) {
    const auto& times = model.stage_times(k);
    EXPECT_EQ(times.runs, 1) << "stage " << k;
    EXPECT_EQ(times.device_answers, 0) << "stage " << k;
    EXPECT_EQ(times.host_answers, 3) << "stage " << k;
    EXPECT_GT(times.backend_ns, 0) << "stage " << k;
    for (std::size_t i = 0; i < 3; ++i) {
      const ExitResult want = post_process(got[static_cast<std::size_t>(k)][i].logits, ConfidenceMeasure::max_prob);
      EXPECT_EQ(got[static_cast<std::size_t>(k)][i].probabilities, want.probabilities);
    }
  }
}

// A backend that answers its exits itself (on the host here, with post_process, standing in for a
// device): checks, without a GPU, how MultiExitModel takes a backend's ExitAnswers (rows, offsets,
// regrouped batches, the counters, ExitHead::on_device).
class AnsweringStage final : public CompiledStage {
 public:
  AnsweringStage(std::unique_ptr<CompiledStage> inner, const ExitHead& head) : inner_(std::move(inner)), head_(head) {}
  int max_batch() const override { return inner_->max_batch(); }
  std::span<const Tensor* const> run(std::span<const Tensor* const> inputs) override {
    const auto outputs = inner_->run(inputs);
    if (!head_.on_device) return outputs;
    const Tensor& exit = *outputs.back();
    const auto batch = static_cast<std::size_t>(exit.dim(0)), classes = static_cast<std::size_t>(exit.dim(1));
    probabilities_.resize(batch * classes);
    prediction_.resize(batch);
    confidence_.resize(batch);
    for (std::size_t j = 0; j < batch; ++j) {
      post_process(exit.sample(j), head_.measure, row_, head_.temperature);
      std::copy(row_.probabilities.begin(), row_.probabilities.end(), probabilities_.begin() + static_cast<std::ptrdiff_t>(j * classes));
      prediction_[j] = row_.prediction;
      confidence_[j] = row_.confidence;
    }
    answers_ = ExitAnswers{exit.dim(0), exit.dim(1), probabilities_, prediction_, confidence_};
    ++counters_.runs;
    counters_.device_exit_rows += exit.dim(0);
    return outputs;
  }
  const ExitAnswers* exit_answers() const override { return head_.on_device ? &answers_ : nullptr; }
  StageCounters counters() const override { return counters_; }

 private:
  std::unique_ptr<CompiledStage> inner_;
  ExitHead head_;
  ExitResult row_;
  std::vector<float> probabilities_, confidence_;
  std::vector<int> prediction_;
  ExitAnswers answers_;
  StageCounters counters_;
};

class AnsweringBackend final : public Backend {
 public:
  std::string name() const override { return "test_answering"; }
  int device_count() const override { return 1; }
  std::unique_ptr<CompiledStage> compile(const Graph& graph, const StageInfo& stage,
                                         const CompileOptions& options) const override {
    return std::make_unique<AnsweringStage>(CpuBackend().compile(graph, stage, options), options.exit_head);
  }
};

TEST(ExitAnswers, MultiExitModelTakesTheBackendsAnswersRowByRow) {
  if (!BackendRegistry::get().find("test_answering")) BackendRegistry::get().add(std::make_unique<AnsweringBackend>());
  const Tensor input = read_npy(fixture("cnn3.input.npy"));
  MultiExitModel::Options options;
  options.compile.max_batch = 3;  // batches of 3, 3 and 2: rows at every offset
  options.confidence = ConfidenceMeasure::margin;
  options.backend = "cpu";
  MultiExitModel cpu = MultiExitModel::load(fixture("cnn3.onnx"), options);
  options.temperatures.assign(static_cast<std::size_t>(cpu.stages()), 2.0f);
  cpu = MultiExitModel::load(fixture("cnn3.onnx"), options);
  options.backend = "test_answering";
  MultiExitModel answering = MultiExitModel::load(fixture("cnn3.onnx"), options);
  options.device_exit_head = false;
  MultiExitModel host = MultiExitModel::load(fixture("cnn3.onnx"), options);
  const auto n = static_cast<std::size_t>(input.batch());
  const auto want = cpu.run(input), got = answering.run(input), got_host = host.run(input);
  for (int k = 0; k < cpu.stages(); ++k) {
    const auto ks = static_cast<std::size_t>(k);
    for (std::size_t i = 0; i < n; ++i) {
      EXPECT_EQ(got[ks][i].logits, want[ks][i].logits) << "exit " << k << " sample " << i;
      EXPECT_EQ(got[ks][i].probabilities, want[ks][i].probabilities) << "exit " << k << " sample " << i;
      EXPECT_EQ(got[ks][i].prediction, want[ks][i].prediction) << "exit " << k << " sample " << i;
      EXPECT_EQ(got[ks][i].confidence, want[ks][i].confidence) << "exit " << k << " sample " << i;
      EXPECT_EQ(got_host[ks][i].probabilities, want[ks][i].probabilities) << "exit " << k << " sample " << i;
    }
    EXPECT_EQ(answering.stage_times(k).device_answers, static_cast<std::int64_t>(n));
    EXPECT_EQ(answering.stage_times(k).host_answers, 0);
    EXPECT_EQ(answering.stage_counters(k).device_exit_rows, static_cast<std::int64_t>(n));
    EXPECT_EQ(host.stage_times(k).device_answers, 0) << "Options::device_exit_head false";
    EXPECT_EQ(host.stage_times(k).host_answers, static_cast<std::int64_t>(n));
  }
}

// ---- on a GPU: the fused exit head against nn::post_process

#if IMPRECISE_HAS_CUDA_BACKEND
class CudaExitHead : public ::testing::TestWithParam<std::string> {};

TEST_P(CudaExitHead, MatchesPostProcess) {
  IMPRECISE_REQUIRE_GPU();
  const ConfidenceMeasure measure = parse_confidence_measure(GetParam());
  // Short rows (fewer classes than a warp's lanes), long rows (several per lane), a row with a tie for
  // the top (first index wins), a flat row (entropy 0) and a single class.
  for (const std::int64_t classes : {1, 2, 10, 37, 1000}) {
    const std::int64_t rows = 6;
    Tensor logits(Shape{rows, classes});
    for (std::size_t i = 0; i < logits.size(); ++i)
      logits[i] = static_cast<float>(3.0 * std::sin(0.7 * static_cast<double>(i)) + 0.01 * static_cast<double>(i % 13));
    if (classes >= 2) {
      logits[static_cast<std::size_t>(classes)] = 9.0f;  // row 1: a tie between its first two classes
      logits[static_cast<std::size_t>(classes) + 1] = 9.0f;
      for (std::int64_t j = 0; j < classes; ++j) logits[static_cast<std::size_t>(2 * classes + j)] = 0.5f;  // row 2: flat
    }
    std::vector<ExitResult> got(static_cast<std::size_t>(rows));
    cuda_post_process(logits, measure, got);
    for (std::int64_t r = 0; r < rows; ++r) {
      const auto row = logits.values().subspan(static_cast<std::size_t>(r * classes), static_cast<std::size_t>(classes));
      const ExitResult want = post_process(row, measure);
      const ExitResult& g = got[static_cast<std::size_t>(r)];
      EXPECT_EQ(g.prediction, want.prediction) << classes << " classes, row " << r;
      EXPECT_TRUE(agree(g.probabilities, want.probabilities)) << classes << " classes, row " << r;
      EXPECT_TRUE(agree(std::span<const float>(&g.confidence, 1), std::span<const float>(&want.confidence, 1)))
          << classes << " classes, row " << r << ", " << to_string(measure);
      EXPECT_EQ(g.logits, want.logits);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Measures, CudaExitHead, ::testing::Values("max-prob", "margin", "entropy"),
                         [](const ::testing::TestParamInfo<std::string>& p) {
                           std::string name = p.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

/// Whether the cpu's answer leaves no doubt about the argmax (top two probabilities 1e-4 apart or more):
/// only then must the prediction computed from the GPU's logits be the same.
bool clear_winner(const ExitResult& r) {
  std::vector<float> p = r.probabilities;
  if (p.size() < 2) return true;
  std::partial_sort(p.begin(), p.begin() + 2, p.end(), std::greater<>());
  return p[0] - p[1] >= 1e-4f;
}

::testing::AssertionResult same_answer(const ExitResult& got, const ExitResult& want) {
  if (!agree(got.logits, want.logits)) return ::testing::AssertionFailure() << "logits: " << agree(got.logits, want.logits).message();
  if (!agree(got.probabilities, want.probabilities))
    return ::testing::AssertionFailure() << "probabilities: " << agree(got.probabilities, want.probabilities).message();
  if (!agree(std::span<const float>(&got.confidence, 1), std::span<const float>(&want.confidence, 1)))
    return ::testing::AssertionFailure() << "confidence " << got.confidence << " != " << want.confidence;
  if (clear_winner(want) && got.prediction != want.prediction)
    return ::testing::AssertionFailure() << "prediction " << got.prediction << " != " << want.prediction;
  return ::testing::AssertionSuccess();
}

#define IMPRECISE_REQUIRE_DEVICE_EXIT_HEAD()                                                           \
  do {                                                                                                 \
    IMPRECISE_REQUIRE_GPU();                                                                           \
    if (!default_cuda_device_exit_head()) GTEST_SKIP() << "IMPRECISE_CUDA_EXIT_HEAD=0: the device exit head is off"; \
  } while (false)

class CudaDeviceExitHead : public ::testing::TestWithParam<std::string> {};

// Every stage of every model fixture compiled with an exit head: the answers the stage computed on the
// device equal post_process of the logits it returned (same rule) and the cpu backend's answers.
TEST_P(CudaDeviceExitHead, EveryStageAnswersAsPostProcessOnItsLogits) {
  IMPRECISE_REQUIRE_DEVICE_EXIT_HEAD();
  Graph graph = load_onnx(fixture(GetParam() + ".onnx"));
  prepare(graph);
  const auto stages = partition(graph);
  const Tensor input = read_npy(fixture(GetParam() + ".input.npy"));
  for (const ConfidenceMeasure measure : {ConfidenceMeasure::max_prob, ConfidenceMeasure::margin, ConfidenceMeasure::entropy}) {
    const float temperature = measure == ConfidenceMeasure::margin ? 2.5f : 1.0f;
    CompileOptions options;
    options.max_batch = kMaxBatch;
    options.exit_head = ExitHead{measure, temperature, true};
    for (const auto& stage : stages) {
      const auto gpu = cuda()->compile(graph, stage, options);
      const auto cpu = CpuBackend().compile(graph, stage, options);
      std::int64_t rows = 0;
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
        const Tensor& logits = *gpu->run(inputs).back();
        const ExitAnswers* answers = gpu->exit_answers();
        ASSERT_NE(answers, nullptr) << "stage " << stage.index << ": the device exit head did not answer";
        ASSERT_EQ(answers->batch, static_cast<std::int64_t>(batch));
        ASSERT_EQ(answers->classes, logits.dim(1));
        rows += static_cast<std::int64_t>(batch);
        EXPECT_EQ(gpu->counters().device_exit_rows, rows);
        const Tensor& cpu_logits = *cpu->run(inputs).back();
        EXPECT_EQ(cpu->exit_answers(), nullptr);
        const auto classes = static_cast<std::size_t>(answers->classes);
        for (std::size_t j = 0; j < batch; ++j) {
          ExitResult got;
          got.logits.assign(logits.sample(j).begin(), logits.sample(j).end());
          got.probabilities.assign(answers->probabilities.begin() + static_cast<std::ptrdiff_t>(j * classes),
                                   answers->probabilities.begin() + static_cast<std::ptrdiff_t>((j + 1) * classes));
          got.prediction = answers->prediction[j];
          got.confidence = answers->confidence[j];
          ExitResult own, want;
          post_process(logits.sample(j), measure, own, temperature);
          post_process(cpu_logits.sample(j), measure, want, temperature);
          const std::string where = "stage " + std::to_string(stage.index) + " batch " + std::to_string(batch) +
                                    " row " + std::to_string(j) + " " + to_string(measure);
          EXPECT_TRUE(same_answer(got, own)) << where << " (vs post_process of the GPU logits)";
          EXPECT_TRUE(same_answer(got, want)) << where << " (vs the cpu backend)";
        }
      }
    }
  }
}

// Through MultiExitModel: the device answers every exit (counted), and the ExitResults are the cpu
// backend's and the host-path cuda model's, with jobs regrouped differently at every stage.
TEST_P(CudaDeviceExitHead, ModelAnswersOnTheDeviceLikeTheCpuWithJobsRegrouped) {
  IMPRECISE_REQUIRE_DEVICE_EXIT_HEAD();
  const Tensor input = read_npy(fixture(GetParam() + ".input.npy"));
  for (const ConfidenceMeasure measure : {ConfidenceMeasure::max_prob, ConfidenceMeasure::entropy}) {
    MultiExitModel::Options options;
    options.compile.max_batch = kMaxBatch;
    options.confidence = measure;
    options.backend = "cpu";
    MultiExitModel cpu = MultiExitModel::load(fixture(GetParam() + ".onnx"), options);
    options.temperatures.assign(static_cast<std::size_t>(cpu.stages()), 1.5f);
    cpu = MultiExitModel::load(fixture(GetParam() + ".onnx"), options);
    options.backend = "cuda";
    MultiExitModel device = MultiExitModel::load(fixture(GetParam() + ".onnx"), options);
    options.device_exit_head = false;
    MultiExitModel host = MultiExitModel::load(fixture(GetParam() + ".onnx"), options);
    ASSERT_EQ(device.backend(), "cuda");
    const std::size_t n = std::min<std::size_t>(6, static_cast<std::size_t>(input.batch()));
    std::vector<JobState> jd, jh, jc;
    for (std::size_t i = 0; i < n; ++i) {
      jd.push_back(device.start(slice(input, i, 1)));
      jh.push_back(host.start(slice(input, i, 1)));
      jc.push_back(cpu.start(slice(input, i, 1)));
    }
    std::int64_t rows = 0;
    for (int k = 0; k < device.stages(); ++k) {
      // Stage k: the jobs rotated by k and cut into batches of k + 1 (same order for all three models).
      std::vector<std::size_t> order(n);
      for (std::size_t i = 0; i < n; ++i) order[i] = (i + static_cast<std::size_t>(k)) % n;
      const std::size_t size = static_cast<std::size_t>(k) % n + 1;
      for (std::size_t first = 0; first < n; first += size) {
        std::vector<JobState*> bd, bh, bc;
        for (std::size_t i = first; i < std::min(n, first + size); ++i) {
          bd.push_back(&jd[order[i]]);
          bh.push_back(&jh[order[i]]);
          bc.push_back(&jc[order[i]]);
        }
        std::vector<ExitResult> rd, rh, rc;
        device.run_stage(k, bd, rd);
        host.run_stage(k, bh, rh);
        cpu.run_stage(k, bc, rc);
        for (std::size_t j = 0; j < rd.size(); ++j) {
          const std::string where = "stage " + std::to_string(k) + " job " + std::to_string(order[first + j]) + " " +
                                    to_string(measure);
          EXPECT_TRUE(same_answer(rd[j], rc[j])) << where << " (device head vs cpu)";
          EXPECT_TRUE(same_answer(rd[j], rh[j])) << where << " (device head vs host head)";
        }
        rows += static_cast<std::int64_t>(bd.size());
      }
      EXPECT_EQ(device.stage_times(k).device_answers, static_cast<std::int64_t>(n)) << "stage " << k;
      EXPECT_EQ(device.stage_times(k).host_answers, 0) << "stage " << k;
      EXPECT_EQ(host.stage_times(k).device_answers, 0) << "stage " << k << ": exit_head.on_device false";
      EXPECT_EQ(host.stage_times(k).host_answers, static_cast<std::int64_t>(n)) << "stage " << k;
      EXPECT_EQ(device.stage_counters(k).device_exit_rows, static_cast<std::int64_t>(n)) << "stage " << k;
      EXPECT_EQ(host.stage_counters(k).device_exit_rows, 0) << "stage " << k;
      EXPECT_GT(device.stage_counters(k).device_ns, 0) << "stage " << k;
    }
    EXPECT_GT(rows, 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, CudaDeviceExitHead, ::testing::Values("cnn3", "resnet_skip", "audio1d", "pointnet"),
                         test_name);

// The backend option turns the device exit head off whatever the compile options ask; the captured
// graph and the eager run answer alike.
TEST(CudaDeviceExitHeadOptions, BackendOptionOffAndEagerRuns) {
  IMPRECISE_REQUIRE_GPU();
  Graph graph = load_onnx(fixture("cnn3.onnx"));
  prepare(graph);
  const auto stages = partition(graph);
  CompileOptions options;
  options.max_batch = kMaxBatch;
  options.exit_head = ExitHead{ConfidenceMeasure::margin, 1.0f, true};
  const CudaBackend off(CudaBackendOptions{.graphs = true, .device_exit_head = false});
  const CudaBackend eager(CudaBackendOptions{.graphs = false, .device_exit_head = true});
  const CudaBackend graphed(CudaBackendOptions{.graphs = true, .device_exit_head = true});
  const auto s_off = off.compile(graph, stages[0], options);
  const auto s_eager = eager.compile(graph, stages[0], options);
  const auto s_graph = graphed.compile(graph, stages[0], options);
  const Tensor input = read_npy(fixture("cnn3.input.npy"));
  for (const std::size_t batch : kBatches) {
    const Tensor x = slice(input, 0, batch);
    const Tensor* inputs[] = {&x};
    s_off->run(inputs);
    EXPECT_EQ(s_off->exit_answers(), nullptr);
    s_eager->run(inputs);
    s_graph->run(inputs);
    const ExitAnswers* e = s_eager->exit_answers();
    const ExitAnswers* g = s_graph->exit_answers();
    ASSERT_NE(e, nullptr);
    ASSERT_NE(g, nullptr);
    EXPECT_TRUE(agree(g->probabilities, e->probabilities)) << "batch " << batch;
    EXPECT_TRUE(agree(g->confidence, e->confidence)) << "batch " << batch;
    EXPECT_EQ(std::vector<int>(g->prediction.begin(), g->prediction.end()),
              std::vector<int>(e->prediction.begin(), e->prediction.end())) << "batch " << batch;
  }
  EXPECT_EQ(s_off->counters().device_exit_rows, 0);
  EXPECT_EQ(s_graph->counters().device_exit_rows, 12);
  EXPECT_EQ(s_graph->counters().runs, 3);
}

TEST(CudaExitHeadErrors, RejectsBadArgumentsOrAMissingDevice) {
  if (cuda() == nullptr) GTEST_SKIP() << "built without the cuda backend";
  std::vector<ExitResult> one(1);
  const Tensor logits(Shape{2, 4});
  // No device, too few results: an Error either way, never an abort.
  EXPECT_THROW(cuda_post_process(logits, ConfidenceMeasure::max_prob, one), Error);
}
#endif


}  // namespace
}  // namespace imprecise::nn
