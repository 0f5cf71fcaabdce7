// Multi-exit models on every host backend (cpu, onednn): every exit against PyTorch, stage-by-stage batching;
// partitions, metadata and the registry.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <cmath>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "imprecise/config.hpp"
#include "imprecise/error.hpp"
#include "imprecise/graph/onnx_import.hpp"
#include "imprecise/graph/partition.hpp"
#include "imprecise/nn/backend.hpp"
#include "imprecise/nn/multi_exit_model.hpp"
#include "nn_fixtures.hpp"
#if IMPRECISE_HAS_ONEDNN_BACKEND
#include "imprecise/backends/onednn/onednn_backend.hpp"
#endif

namespace imprecise::nn {
namespace {

using testing::close;
using testing::fixture;
using testing::slice;

struct Reference {
  Tensor input;
  std::vector<Tensor> exits;
};

Reference reference(const std::string& name, int exits) {
  Reference r{read_npy(fixture(name + ".input.npy")), {}};
  for (int k = 0; k < exits; ++k) r.exits.push_back(read_npy(fixture(name + ".exit" + std::to_string(k) + ".npy")));
  return r;
}

MultiExitModel load(const std::string& name, int max_batch, const std::string& backend = "cpu") {
  MultiExitModel::Options options;
  options.compile.max_batch = max_batch;
  options.backend = backend;
  return MultiExitModel::load(fixture(name + ".onnx"), options);
}

struct ModelCase {
  std::string name;
  int exits;
};

class ModelTest : public ::testing::TestWithParam<std::tuple<std::string, ModelCase>> {};

TEST_P(ModelTest, EveryExitMatchesPyTorchAtBatch1And3And8) {
  const auto& [backend, model_case] = GetParam();
  const auto& [name, exits] = model_case;
  const Reference ref = reference(name, exits);
  for (const int batch : {1, 3, 8}) {
    MultiExitModel model = load(name, batch, backend);
    ASSERT_EQ(model.backend(), backend);
    ASSERT_EQ(model.stages(), exits);
    // run() splits the 8 samples into chunks of max_batch and runs stage by stage.
    const auto results = model.run(ref.input);
    ASSERT_EQ(results.size(), static_cast<std::size_t>(exits));
    for (int k = 0; k < exits; ++k) {
      const auto& exit = results[static_cast<std::size_t>(k)];
      ASSERT_EQ(exit.size(), 8u);
      for (std::size_t i = 0; i < 8; ++i) {
        const auto want = ref.exits[static_cast<std::size_t>(k)].sample(i);
        EXPECT_TRUE(close(exit[i].logits, want)) << name << " exit " << k << " sample " << i << " batch " << batch;
        const auto argmax = std::max_element(want.begin(), want.end()) - want.begin();
        EXPECT_EQ(exit[i].prediction, argmax);
        const ExitResult expected = post_process(want, ConfidenceMeasure::max_prob);
        EXPECT_NEAR(exit[i].confidence, expected.confidence, 1e-4);
      }
    }
  }
}

TEST_P(ModelTest, JobsRegroupedAtEveryStageGiveTheSameAnswers) {
  const auto& [backend, model_case] = GetParam();
  const auto& [name, exits] = model_case;
  const Reference ref = reference(name, exits);
  MultiExitModel model = load(name, 8, backend);
  std::vector<JobState> jobs;
  for (std::size_t i = 0; i < 8; ++i) jobs.push_back(model.start(slice(ref.input, i, 1)));
  // Stage 0 in one batch of 8 (in reverse order), then batches of 3 + 5, then one job at a time.
  std::vector<std::vector<ExitResult>> got(static_cast<std::size_t>(exits), std::vector<ExitResult>(8));
  for (int k = 0; k < exits; ++k) {
    std::vector<std::vector<std::size_t>> groups;
    if (k == 0) groups = {{7, 6, 5, 4, 3, 2, 1, 0}};
    else if (k == 1) groups = {{0, 4, 6}, {1, 2, 3, 5, 7}};
    else groups = {{0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}};
    for (const auto& group : groups) {
      std::vector<JobState*> batch;
      for (const auto i : group) batch.push_back(&jobs[i]);
      std::vector<ExitResult> results;
      model.run_stage(k, batch, results);
      ASSERT_EQ(results.size(), group.size());
      for (std::size_t j = 0; j < group.size(); ++j) got[static_cast<std::size_t>(k)][group[j]] = results[j];
    }
    for (std::size_t i = 0; i < 8; ++i) {
      EXPECT_EQ(jobs[i].stages_done(), k + 1);
      EXPECT_TRUE(close(got[static_cast<std::size_t>(k)][i].logits, ref.exits[static_cast<std::size_t>(k)].sample(i)))
          << name << " exit " << k << " sample " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ModelTest,
                         ::testing::Combine(::testing::ValuesIn(testing::host_backends()),
                                            ::testing::Values(ModelCase{"cnn3", 3}, ModelCase{"resnet_skip", 2},
                                                              ModelCase{"audio1d", 3}, ModelCase{"pointnet", 2},
                                                              ModelCase{"mobilenet_exits", 3})),
                         [](const ::testing::TestParamInfo<ModelTest::ParamType>& param) {
                           return std::get<0>(param.param) + "_" + std::get<1>(param.param).name;
                         });

#if IMPRECISE_HAS_ONEDNN_BACKEND
// With a budget of 1 byte every stage run wholly by oneDNN (audio1d's, lidar-like ones) runs one sample
// at a time through the pointers its programs re-point per sub-batch; the others run whole.
TEST(OnednnSubBatches, SplitStagesStillMatchPyTorch) {
  OnednnBackendOptions options;
  options.sub_batch_bytes = 1;
  const OnednnBackend backend(options);
  for (const ModelCase& model : {ModelCase{"cnn3", 3}, ModelCase{"resnet_skip", 2}, ModelCase{"audio1d", 3},
                                 ModelCase{"pointnet", 2}, ModelCase{"mobilenet_exits", 3}}) {
    Graph graph = load_onnx(fixture(model.name + ".onnx"));
    prepare(graph);
    const auto stages = partition(graph);
    const Reference ref = reference(model.name, model.exits);
    CompileOptions compile;
    compile.max_batch = 8;
    std::map<std::string, const Tensor*> tensors{{graph.inputs[0].name, &ref.input}};
    std::vector<std::unique_ptr<CompiledStage>> compiled;  // each keeps its outputs until its next run
    for (std::size_t k = 0; k < stages.size(); ++k) {
      compiled.push_back(backend.compile(graph, stages[k], compile));
      std::vector<const Tensor*> inputs;
      for (const auto& t : stages[k].inputs) inputs.push_back(tensors.at(t.name));
      const auto outputs = compiled.back()->run(inputs);
      for (std::size_t i = 0; i < stages[k].carried_out.size(); ++i) tensors[stages[k].carried_out[i].name] = outputs[i];
      EXPECT_TRUE(close(outputs.back()->values(), ref.exits[k].values())) << model.name << " exit " << k;
    }
  }
}
#endif

TEST(Partition, Cnn3HasOneCarriedTensorPerBoundary) {
  const MultiExitModel model = load("cnn3", 4);
  const auto& stages = model.stage_info();
  ASSERT_EQ(stages.size(), 3u);
  ASSERT_EQ(stages[0].inputs.size(), 1u);
  EXPECT_EQ(stages[0].inputs[0].name, "input");
  EXPECT_EQ(stages[0].inputs[0].shape, (Shape{-1, 3, 16, 16}));
  ASSERT_EQ(stages[0].carried_out.size(), 1u);
  EXPECT_EQ(stages[0].carried_out[0].shape, (Shape{-1, 8, 8, 8}));
  ASSERT_EQ(stages[1].inputs.size(), 1u);
  EXPECT_EQ(stages[1].inputs[0].name, stages[0].carried_out[0].name);
  ASSERT_EQ(stages[1].carried_out.size(), 1u);
  EXPECT_EQ(stages[1].carried_out[0].shape, (Shape{-1, 16, 4, 4}));
  EXPECT_TRUE(stages[2].carried_out.empty());
  EXPECT_EQ(stages[2].exit.shape, (Shape{-1, 10}));
  // The stages' node sets are disjoint, and every exit's own nodes land in its stage.
  std::set<std::size_t> seen;
  for (const auto& stage : stages) {
    EXPECT_FALSE(stage.nodes.empty());
    EXPECT_GT(stage.flops, 0.0);
    EXPECT_GT(stage.params, 0);
    for (const auto n : stage.nodes) EXPECT_TRUE(seen.insert(n).second) << "node " << n << " in two stages";
    const auto& graph = model.graph();
    EXPECT_TRUE(std::any_of(stage.nodes.begin(), stage.nodes.end(),
                            [&](std::size_t n) { return graph.nodes[n].outputs[0] == stage.exit.name; }));
  }
  // Stage 0: conv(3->8, 3x3) on 16x16 = 2*8*27*256 FLOPs dominate.
  EXPECT_GE(stages[0].flops, 2.0 * 8 * 27 * 256);
  // Parameters of stage 0: conv 8*3*3*3 + 8 bias + head 8*10 + 10.
  EXPECT_EQ(stages[0].params, 8 * 27 + 8 + 80 + 10);
}

TEST(Partition, SkipConnectionCarriesTwoTensors) {
  const MultiExitModel model = load("resnet_skip", 2);
  const auto& stages = model.stage_info();
  ASSERT_EQ(stages.size(), 2u);
  ASSERT_EQ(stages[1].inputs.size(), 2u);  // block output and the stem output (residual)
  for (const auto& t : stages[1].inputs) EXPECT_EQ(t.shape, (Shape{-1, 8, 8, 8}));
  ASSERT_EQ(stages[0].carried_out.size(), 2u);
  EXPECT_EQ(stages[0].carried_out[0].name, stages[1].inputs[0].name);
  EXPECT_EQ(stages[0].carried_out[1].name, stages[1].inputs[1].name);
}

TEST(Partition, MobileNetExitsFromTorchvisionBlocks) {
  // scripts/make_op_fixtures.py: MobileNetV3 blocks; the last stage upsamples and splits the channels.
  const MultiExitModel model = load("mobilenet_exits", 2);
  const auto& stages = model.stage_info();
  ASSERT_EQ(stages.size(), 3u);
  ASSERT_EQ(stages[0].carried_out.size(), 1u);
  EXPECT_EQ(stages[0].carried_out[0].shape, (Shape{-1, 8, 10, 10}));
  ASSERT_EQ(stages[1].carried_out.size(), 1u);
  EXPECT_EQ(stages[1].carried_out[0].shape, (Shape{-1, 16, 5, 5}));
  std::multiset<std::string> last;
  for (const auto n : stages[2].nodes) last.insert(model.graph().nodes[n].op);
  EXPECT_EQ(last.count("Resize"), 1u);
  EXPECT_EQ(last.count("Slice"), 2u);  // the Split, one Slice per output
  EXPECT_EQ(last.count("Split"), 0u);
  EXPECT_EQ(last.count("Clip"), 1u);
  EXPECT_EQ(last.count("LeakyRelu"), 1u);
  EXPECT_GE(last.count("HardSigmoid"), 1u);  // Hardswish at opset 13, and the squeeze-excitation gate
  for (const auto& stage : stages) EXPECT_EQ(stage.exit.shape, (Shape{-1, 10}));
}

TEST(Metadata, ReadFromTheModelAndOverriddenByOptions) {
  const MultiExitModel cnn = load("cnn3", 1);
  EXPECT_EQ(cnn.mandatory_depth(), 1);
  ASSERT_EQ(cnn.labels().size(), 10u);
  EXPECT_EQ(cnn.labels()[3], "class3");
  EXPECT_EQ(cnn.exit_names(), (std::vector<std::string>{"early", "middle", "final"}));
  EXPECT_EQ(cnn.classes(0), 10);
  EXPECT_EQ(cnn.backend(), "cpu");
  EXPECT_EQ(cnn.input_shape(), (Shape{-1, 3, 16, 16}));

  const MultiExitModel res = load("resnet_skip", 1);
  EXPECT_EQ(res.mandatory_depth(), 2);
  EXPECT_TRUE(res.labels().empty());
  EXPECT_EQ(res.exit_names(), (std::vector<std::string>{"exit0", "exit1"}));

  const MultiExitModel audio = load("audio1d", 1);
  EXPECT_EQ(audio.labels(), (std::vector<std::string>{"yes", "no", "up", "down"}));

  MultiExitModel::Options options;
  options.mandatory_depth = 3;
  options.labels = {"a", "b", "c", "d"};
  const MultiExitModel over = MultiExitModel::load(fixture("audio1d.onnx"), options);
  EXPECT_EQ(over.mandatory_depth(), 3);
  EXPECT_EQ(over.labels()[0], "a");

  options.mandatory_depth = 4;
  EXPECT_THROW(MultiExitModel::load(fixture("audio1d.onnx"), options), Error);
  options.mandatory_depth = 1;
  options.labels = {"only", "three", "labels"};
  EXPECT_THROW(MultiExitModel::load(fixture("audio1d.onnx"), options), Error);
  options.labels.clear();
  options.backend = "no-such-backend";
  EXPECT_THROW(MultiExitModel::load(fixture("audio1d.onnx"), options), Error);
}

TEST(PostProcess, ConfidenceMeasures) {
  const std::vector<float> logits{std::log(0.6f), std::log(0.3f), std::log(0.1f)};
  const ExitResult p = post_process(logits, ConfidenceMeasure::max_prob);
  EXPECT_EQ(p.prediction, 0);
  EXPECT_NEAR(p.confidence, 0.6, 1e-6);
  EXPECT_NEAR(p.probabilities[2], 0.1, 1e-6);
  EXPECT_NEAR(post_process(logits, ConfidenceMeasure::margin).confidence, 0.3, 1e-6);
  const double h = -(0.6 * std::log(0.6) + 0.3 * std::log(0.3) + 0.1 * std::log(0.1));
  EXPECT_NEAR(post_process(logits, ConfidenceMeasure::entropy).confidence, 1.0 - h / std::log(3.0), 1e-6);
  const std::vector<float> flat{2.0f, 2.0f};
  EXPECT_NEAR(post_process(flat, ConfidenceMeasure::entropy).confidence, 0.0, 1e-6);
  EXPECT_EQ(post_process(flat, ConfidenceMeasure::max_prob).prediction, 0);  // first on ties
  EXPECT_EQ(parse_confidence_measure("margin"), ConfidenceMeasure::margin);
  EXPECT_STREQ(to_string(ConfidenceMeasure::entropy), "entropy");
  EXPECT_THROW(parse_confidence_measure("certainty"), Error);
}

TEST(PostProcess, TemperatureSoftensConfidenceButKeepsThePrediction) {
  const std::vector<float> logits{2.0f, 1.0f, 0.0f};
  ExitResult cold, warm;
  post_process(logits, ConfidenceMeasure::max_prob, cold);
  post_process(logits, ConfidenceMeasure::max_prob, warm, 2.0f);
  EXPECT_EQ(warm.prediction, cold.prediction);
  const double z = 1.0 + std::exp(-0.5) + std::exp(-1.0);  // softmax of logits / 2
  EXPECT_NEAR(warm.confidence, 1.0 / z, 1e-6);
  EXPECT_LT(warm.confidence, cold.confidence);
}

TEST(MultiExitModel, AppliesPerExitTemperaturesAndChecksThem) {
  MultiExitModel::Options options;
  options.temperatures = {1.0f, 1.0f, 3.0f};
  MultiExitModel scaled = MultiExitModel::load(fixture("cnn3.onnx"), options);
  MultiExitModel plain = MultiExitModel::load(fixture("cnn3.onnx"));
  const Tensor input = read_npy(fixture("cnn3.input.npy"));
  const auto a = plain.run(input), b = scaled.run(input);
  for (std::size_t i = 0; i < a[0].size(); ++i) {
    EXPECT_FLOAT_EQ(b[0][i].confidence, a[0][i].confidence);
    EXPECT_EQ(b[2][i].prediction, a[2][i].prediction);
    const ExitResult expected = [&] {
      ExitResult r;
      post_process(a[2][i].logits, ConfidenceMeasure::max_prob, r, 3.0f);
      return r;
    }();
    EXPECT_FLOAT_EQ(b[2][i].confidence, expected.confidence);
  }
  options.temperatures = {1.0f, 1.0f};
  EXPECT_THROW(MultiExitModel::load(fixture("cnn3.onnx"), options), Error);
  options.temperatures = {1.0f, 0.0f, 1.0f};
  EXPECT_THROW(MultiExitModel::load(fixture("cnn3.onnx"), options), Error);
}

TEST(MultiExitModel, RejectsMisuseWithErrors) {
  MultiExitModel model = load("cnn3", 2);
  // Wrong input shapes name the input tensor.
  try {
    model.start(Tensor(Shape{1, 3, 16, 15}));
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'input'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("cnn3.onnx"), std::string::npos) << e.what();
  }
  EXPECT_THROW(model.run(Tensor(Shape{2, 3, 16})), Error);
  EXPECT_NO_THROW(model.start(Tensor(Shape{3, 16, 16})));  // the sample shape without batch axis is accepted
  JobState a = model.start(Tensor(Shape{1, 3, 16, 16}));
  JobState b = model.start(Tensor(Shape{1, 3, 16, 16}));
  JobState c = model.start(Tensor(Shape{1, 3, 16, 16}));
  EXPECT_THROW(model.run_stage(1, a), Error);  // stage 0 not done yet
  EXPECT_THROW(model.run_stage(3, a), Error);
  std::vector<ExitResult> results;
  JobState* three[] = {&a, &b, &c};
  EXPECT_THROW(model.run_stage(0, three, results), Error);  // more than max_batch
  EXPECT_THROW(model.run_stage(0, std::span<JobState* const>{}, results), Error);
  EXPECT_NO_THROW(model.run_stage(0, a));
  EXPECT_THROW(model.run_stage(0, a), Error);  // already done
  EXPECT_EQ(model.run_stage(1, a).logits.size(), 10u);
  EXPECT_THROW(model.run(Tensor(Shape{1, 3, 16, 16}), 4), Error);
}

TEST(MultiExitModel, RestartReusesAJobForAnotherInputOrModel) {
  MultiExitModel cnn3 = load("cnn3", 2);
  MultiExitModel audio = load("audio1d", 2);
  const Reference ref = reference("cnn3", 3);
  const Reference audio_ref = reference("audio1d", 3);
  // Every exit's logits of a fresh job for `input`.
  const auto fresh_logits = [](MultiExitModel& model, const Tensor& input) {
    JobState j = model.start(input);
    std::vector<std::vector<float>> logits;
    for (int k = 0; k < model.stages(); ++k) logits.push_back(model.run_stage(k, j).logits);
    return logits;
  };
  const auto run_logits = [](MultiExitModel& model, JobState& j) {
    std::vector<std::vector<float>> logits;
    for (int k = 0; k < model.stages(); ++k) logits.push_back(model.run_stage(k, j).logits);
    return logits;
  };
  // A job that ran cnn3 to its end, restarted for another input, answers as a fresh job would.
  JobState job = cnn3.start(slice(ref.input, 0, 1));
  const auto first = run_logits(cnn3, job);
  cnn3.restart(slice(ref.input, 1, 1), job);
  EXPECT_EQ(job.stages_done(), 0);
  const auto second = run_logits(cnn3, job);
  EXPECT_EQ(second, fresh_logits(cnn3, slice(ref.input, 1, 1)));
  EXPECT_NE(second, first) << "the two inputs must answer differently for this check to mean anything";
  // The same job may serve another model next: its tensors take that model's shapes.
  audio.restart(slice(audio_ref.input, 0, 1), job);
  EXPECT_EQ(run_logits(audio, job), fresh_logits(audio, slice(audio_ref.input, 0, 1)));
  // A wrong shape names the input, and the job cannot run until it is restarted properly.
  try {
    cnn3.restart(Tensor(Shape{1, 3, 16, 15}), job);
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'input'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(cnn3.run_stage(0, job), Error);
  cnn3.restart(slice(ref.input, 1, 1), job);
  EXPECT_EQ(run_logits(cnn3, job), second);
}

TEST(BackendRegistry, DefaultsToTheFastestHostBackend) {
  const auto hosts = testing::host_backends();
  EXPECT_EQ(default_backend(), hosts.back());  // onednn when built, else cpu
  EXPECT_EQ(MultiExitModel::Options{}.backend, default_backend());
  EXPECT_EQ(MultiExitModel::load(fixture("cnn3.onnx")).backend(), default_backend());
}

TEST(BackendRegistry, ListsTheCpuBackend) {
  auto& registry = BackendRegistry::get();
  const auto names = registry.names();
  EXPECT_NE(std::find(names.begin(), names.end(), "cpu"), names.end());
  ASSERT_NE(registry.find("cpu"), nullptr);
  EXPECT_EQ(registry.find("cpu")->device_count(), 1);
  EXPECT_EQ(registry.find("nope"), nullptr);
  try {
    registry.at("nope");
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cpu"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace imprecise::nn
