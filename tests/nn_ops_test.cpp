// Every supported operator on every host backend (cpu, onednn) against PyTorch's output (one tiny graph per operator), batches 1/3/8.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <tuple>
#include <vector>

#include "imprecise/error.hpp"
#include "imprecise/graph/graph.hpp"
#include "imprecise/graph/onnx_import.hpp"
#include "imprecise/graph/partition.hpp"
#include "imprecise/nn/backend.hpp"
#include "nn_fixtures.hpp"

namespace imprecise::nn {
namespace {

using testing::close;
using testing::fixture;
using testing::host_backends;
using testing::slice;

class OpTest : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(OpTest, MatchesPyTorchAtBatch1And3And8) {
  const auto& [backend, name] = GetParam();
  Graph graph = load_onnx(fixture(name + ".onnx"));
  prepare(graph);
  const auto stages = partition(graph);
  ASSERT_EQ(stages.size(), 1u);
  const Tensor input = read_npy(fixture(name + ".input.npy"));
  const Tensor want = read_npy(fixture(name + ".exit0.npy"));
  CompileOptions options;
  options.max_batch = 8;
  const auto stage = BackendRegistry::get().at(backend).compile(graph, stages[0], options);
  for (const std::size_t batch : {1u, 3u, 8u}) {
    for (std::size_t first = 0; first + batch <= 8; first += batch) {
      const Tensor x = slice(input, first, batch);
      const Tensor* inputs[] = {&x};
      const auto outputs = stage->run(inputs);
      ASSERT_EQ(outputs.size(), 1u);
      const Tensor expected = slice(want, first, batch);
      EXPECT_EQ(outputs[0]->shape(), expected.shape()) << name << " batch " << batch;
      EXPECT_TRUE(close(outputs[0]->values(), expected.values())) << name << " batch " << batch << " first " << first;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, OpTest,
    ::testing::Combine(::testing::ValuesIn(host_backends()), ::testing::Values("op_conv2d", "op_conv2d_groups", "op_conv2d_pointwise", "op_conv2d_asym", "op_conv1d",
                      "op_conv1d_depthwise", "op_gemm", "op_matmul", "op_matmul_batched", "op_add_broadcast",
                      "op_mul_broadcast", "op_residual", "op_relu", "op_sigmoid", "op_tanh", "op_batchnorm2d",
                      "op_batchnorm1d", "op_maxpool2d", "op_maxpool2d_ceil", "op_avgpool2d", "op_avgpool2d_nopad",
                      "op_avgpool2d_ceil", "op_maxpool1d", "op_avgpool1d", "op_global_avgpool", "op_global_maxpool",
                      "op_reduce_mean", "op_reduce_max", "op_flatten", "op_view", "op_reshape", "op_transpose",
                      "op_concat", "op_softmax", "op_unsqueeze", "op_conv_bn", "op_gemm_bn", "op_identity_constant",
                      // scripts/make_op_fixtures.py
                      "op_split", "op_split_chunks", "op_clip", "op_clip_max", "op_relu6", "op_leaky_relu",
                      "op_hardsigmoid", "op_hardswish", "op_gelu_erf", "op_gelu", "op_gelu_tanh", "op_resize_nearest",
                      "op_resize_nearest_size", "op_resize_nearest1d", "op_resize_bilinear", "op_resize_bilinear_frac",
                      "op_resize_bilinear_align")),
    [](const ::testing::TestParamInfo<OpTest::ParamType>& param) {
      return std::get<0>(param.param) + "_" + std::get<1>(param.param);
    });

std::vector<std::string> ops_after_prepare(const std::string& name) {
  Graph graph = load_onnx(fixture(name + ".onnx"));
  prepare(graph);
  std::vector<std::string> ops;
  for (const auto& node : graph.nodes) ops.push_back(node.op);
  return ops;
}

TEST(Prepare, FoldsBatchNormIntoConvAndGemm) {
  EXPECT_EQ(ops_after_prepare("op_conv_bn"), std::vector<std::string>{"Conv"});
  EXPECT_EQ(ops_after_prepare("op_gemm_bn"), std::vector<std::string>{"Gemm"});
  // A BatchNormalization with no Conv/Gemm before it stays and runs as scale/shift.
  EXPECT_EQ(ops_after_prepare("op_batchnorm2d"), std::vector<std::string>{"BatchNormalization"});
}

TEST(Prepare, FusesPyTorchsOpset13GeluAndHardswish) {
  // GELU exported as Div, Erf, Add, Mul, Mul; Hardswish as HardSigmoid, Mul (make_op_fixtures.py).
  EXPECT_EQ(ops_after_prepare("op_gelu_erf"), std::vector<std::string>{"Gelu"});
  EXPECT_EQ(ops_after_prepare("op_hardsigmoid"), std::vector<std::string>{"HardSigmoid"});  // no Mul: kept
  const auto mobilenet = ops_after_prepare("mobilenet_exits");
  EXPECT_GE(std::count(mobilenet.begin(), mobilenet.end(), "HardSwish"), 5);
  // The squeeze-excitation gates multiply another tensor than the HardSigmoid's input: not a Hardswish.
  EXPECT_EQ(std::count(mobilenet.begin(), mobilenet.end(), "HardSigmoid"), 3);
}

TEST(Prepare, FoldsThePyTorchViewPatternKeepingTheBatchSymbolic) {
  // Shape -> Gather -> Unsqueeze -> Concat -> Reshape becomes a single Reshape.
  EXPECT_EQ(ops_after_prepare("op_view"), std::vector<std::string>{"Reshape"});
  EXPECT_EQ(ops_after_prepare("op_identity_constant"), (std::vector<std::string>{"Identity", "Add"}));
  Graph graph = load_onnx(fixture("op_view.onnx"));
  prepare(graph);
  EXPECT_EQ(graph.outputs[0].shape, (Shape{-1, 24}));
  EXPECT_EQ(graph.shapes.at("input"), (Shape{-1, 2, 3, 4}));
}

class HostStage : public ::testing::TestWithParam<std::string> {};

TEST_P(HostStage, RejectsWrongInputShapeAndBatch) {
  Graph graph = load_onnx(fixture("op_conv2d.onnx"));
  prepare(graph);
  const auto stages = partition(graph);
  CompileOptions options;
  options.max_batch = 4;
  const auto stage = BackendRegistry::get().at(GetParam()).compile(graph, stages[0], options);
  EXPECT_EQ(stage->max_batch(), 4);
  const Tensor wrong(Shape{2, 3, 9, 8});
  const Tensor* inputs[] = {&wrong};
  try {
    stage->run(inputs);
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'input'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[2, 3, 9, 8]"), std::string::npos) << e.what();
  }
  const Tensor too_big(Shape{5, 3, 9, 9});
  inputs[0] = &too_big;
  EXPECT_THROW(stage->run(inputs), Error);
  EXPECT_THROW(stage->run({}), Error);
}

INSTANTIATE_TEST_SUITE_P(Backends, HostStage, ::testing::ValuesIn(host_backends()),
                         [](const ::testing::TestParamInfo<std::string>& param) { return param.param; });

}  // namespace
}  // namespace imprecise::nn
