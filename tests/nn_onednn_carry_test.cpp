// The onednn backend carries 3-D to 5-D tensors between stages channels-last, as its convolutions produce
// and read them: the carried tensor is the cpu backend's transposed, and a later stage reading it through
// a primitive or through a cpu kernel (a fallback: HardSigmoid) gets the same answers as the cpu backend,
// whole and in sub-batches.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "imprecise/config.hpp"
#include "imprecise/graph/graph.hpp"
#include "imprecise/graph/partition.hpp"
#include "imprecise/nn/backend.hpp"
#include "nn_fixtures.hpp"
#if IMPRECISE_HAS_ONEDNN_BACKEND
#include "imprecise/backends/onednn/onednn_backend.hpp"
#endif

namespace imprecise::nn {
namespace {

#if IMPRECISE_HAS_ONEDNN_BACKEND

Constant weights(std::int64_t out, std::int64_t in, std::size_t spatial_axes, float scale) {
  Constant c;
  c.shape = {out, in};
  c.shape.insert(c.shape.end(), spatial_axes, 1);
  for (std::int64_t i = 0; i < out * in; ++i) c.floats.push_back(scale * static_cast<float>((i * 7) % 11 - 5));
  return c;
}

Node node(std::string name, std::string op, std::vector<std::string> inputs) {
  Node n;
  n.outputs = {name + "_out"};
  n.name = std::move(name);
  n.op = std::move(op);
  n.inputs = std::move(inputs);
  return n;
}

/// x [N, 4, spatial...] -> stage 1: h = Relu(Conv 4->8), exit 1 = ReduceMax(h) over space;
/// stage 2 reads h twice, through a cpu kernel (HardSigmoid) and a primitive (Conv 8->8), adds them,
/// Conv 8->5, exit 2 = ReduceMean over space.
Graph two_stage_graph(Shape spatial) {
  const std::size_t axes = spatial.size();
  Graph g;
  g.source = "carry-test";
  g.opset = 13;
  Shape input{-1, 4};
  input.insert(input.end(), spatial.begin(), spatial.end());
  g.inputs = {{"x", input}};
  g.initializers["w1"] = weights(8, 4, axes, 0.1f);
  g.initializers["w2"] = weights(8, 8, axes, 0.05f);
  g.initializers["w3"] = weights(5, 8, axes, 0.07f);
  std::vector<std::int64_t> space;
  for (std::size_t a = 0; a < axes; ++a) space.push_back(static_cast<std::int64_t>(2 + a));
  Node conv1 = node("conv1", "Conv", {"x", "w1"});
  Node relu = node("relu", "Relu", {"conv1_out"});
  Node exit1 = node("exit1", "ReduceMax", {"relu_out"});
  exit1.attributes["axes"] = space;
  exit1.attributes["keepdims"] = std::int64_t{0};
  Node hard = node("hard", "HardSigmoid", {"relu_out"});
  Node conv2 = node("conv2", "Conv", {"relu_out", "w2"});
  Node add = node("add", "Add", {"hard_out", "conv2_out"});
  Node conv3 = node("conv3", "Conv", {"add_out", "w3"});
  Node exit2 = node("exit2", "ReduceMean", {"conv3_out"});
  exit2.attributes["axes"] = space;
  exit2.attributes["keepdims"] = std::int64_t{0};
  g.nodes = {conv1, relu, exit1, hard, conv2, add, conv3, exit2};
  g.outputs = {{"exit1_out", {}}, {"exit2_out", {}}};
  prepare(g);
  return g;
}

Tensor input_for(const Graph& g, std::int64_t batch) {
  Shape shape = g.inputs[0].shape;
  shape[0] = batch;
  Tensor x(shape);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 13) % 17) / 8.0f - 1.0f;
  return x;
}

struct StageOutputs {
  std::vector<Tensor> carried;  // stage 1's carried tensor, copied
  std::vector<std::vector<float>> exits;
};

StageOutputs run_both_stages(const Backend& backend, const Graph& g, const Tensor& x) {
  const auto stages = partition(g);
  EXPECT_EQ(stages.size(), 2u);
  CompileOptions options;
  options.max_batch = static_cast<int>(x.batch());
  const auto first = backend.compile(g, stages[0], options);
  const auto second = backend.compile(g, stages[1], options);
  const Tensor* in1[] = {&x};
  const auto out1 = first->run(in1);
  EXPECT_EQ(out1.size(), 2u);  // the carried tensor, then the exit
  StageOutputs result;
  result.carried.push_back(*out1[0]);
  result.exits.emplace_back(out1.back()->values().begin(), out1.back()->values().end());
  const Tensor* in2[] = {out1[0]};
  const auto out2 = second->run(in2);
  result.exits.emplace_back(out2.back()->values().begin(), out2.back()->values().end());
  return result;
}

class OnednnCarry : public ::testing::TestWithParam<Shape> {};

TEST_P(OnednnCarry, CarriedChannelsLastAndLaterStagesMatchTheCpuBackend) {
  const Graph g = two_stage_graph(GetParam());
  const Tensor x = input_for(g, 3);
  const StageOutputs reference = run_both_stages(BackendRegistry::get().at("cpu"), g, x);
  for (const std::size_t sub_batch_bytes : {std::size_t{0}, std::size_t{1}}) {
    OnednnBackendOptions options;
    options.sub_batch_bytes = sub_batch_bytes;  // 0: whole; 1: one sample at a time, through re-pointed memories
    const OnednnBackend onednn(options);
    const StageOutputs got = run_both_stages(onednn, g, x);
    ASSERT_EQ(got.exits.size(), 2u);
    for (std::size_t k = 0; k < 2; ++k)
      EXPECT_TRUE(testing::close(got.exits[k], reference.exits[k])) << "exit " << k + 1 << ", budget " << sub_batch_bytes;
    // The carried tensor: the same shape, its bytes the cpu backend's with the channel axis moved last.
    const Tensor& plain = reference.carried[0];
    const Tensor& carried = got.carried[0];
    ASSERT_EQ(carried.shape(), plain.shape());
    const std::int64_t channels = plain.shape()[1];
    const std::int64_t positions = static_cast<std::int64_t>(plain.sample_size()) / channels;
    for (std::int64_t n = 0; n < plain.batch(); ++n)
      for (std::int64_t c = 0; c < channels; ++c)
        for (std::int64_t p = 0; p < positions; ++p) {
          const auto from = static_cast<std::size_t>((n * channels + c) * positions + p);
          const auto to = static_cast<std::size_t>((n * positions + p) * channels + c);
          ASSERT_NEAR(carried[to], plain[from], 1e-4f * (1.0f + std::abs(plain[from]))) << "n " << n << " c " << c << " p " << p;
        }
  }
}

INSTANTIATE_TEST_SUITE_P(Ranks, OnednnCarry, ::testing::Values(Shape{6}, Shape{3, 5}),
                         [](const ::testing::TestParamInfo<Shape>& param) { return param.param.size() == 1 ? "conv1d" : "conv2d"; });

#else
TEST(OnednnCarry, NeedsTheOnednnBackend) { GTEST_SKIP() << "built without libdnnl-dev"; }
#endif

}  // namespace
}  // namespace imprecise::nn
