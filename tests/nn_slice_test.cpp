// Slice (opset 13 inputs form, and opset 1-9 attributes): shapes, values against hand-written index
// lists (NumPy's slicing), on every host backend; the Shape -> Slice chains folded at load; errors.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "imprecise/error.hpp"
#include "imprecise/graph/graph.hpp"
#include "imprecise/graph/partition.hpp"
#include "support/int64_constant.hpp"
#include "support/prepare_error.hpp"
#include "imprecise/nn/backend.hpp"
#include "nn_fixtures.hpp"

namespace imprecise::nn {
namespace {

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();

using test_support::ints;

/// x [N, 4, 5] -> Slice(x, starts, ends, [axes], [steps]) -> y.
Graph slice_graph(std::vector<std::int64_t> starts, std::vector<std::int64_t> ends, std::vector<std::int64_t> axes,
                  std::vector<std::int64_t> steps) {
  Graph g;
  g.source = "slice-test";
  g.opset = 13;
  g.inputs = {{"x", Shape{-1, 4, 5}}};
  g.outputs = {{"y", {}}};
  g.initializers["starts"] = ints(std::move(starts));
  g.initializers["ends"] = ints(std::move(ends));
  Node node;
  node.name = "slice";
  node.op = "Slice";
  node.inputs = {"x", "starts", "ends", axes.empty() ? "" : "axes", steps.empty() ? "" : "steps"};
  node.outputs = {"y"};
  if (!axes.empty()) g.initializers["axes"] = ints(std::move(axes));
  if (!steps.empty()) g.initializers["steps"] = ints(std::move(steps));
  g.nodes = {node};
  return g;
}

/// x[n, c, w] = 100 n + 10 c + w: every element names its position.
Tensor positions(std::int64_t batch) {
  Tensor x(Shape{batch, 4, 5});
  for (std::int64_t n = 0; n < batch; ++n)
    for (std::int64_t c = 0; c < 4; ++c)
      for (std::int64_t w = 0; w < 5; ++w) x[static_cast<std::size_t>((n * 4 + c) * 5 + w)] = static_cast<float>(100 * n + 10 * c + w);
  return x;
}

struct SliceCase {
  std::string name;
  std::vector<std::int64_t> starts, ends, axes, steps;
  std::vector<std::int64_t> rows, cols;  // the kept indices of axes 1 and 2, in output order
};

class SliceTest : public ::testing::TestWithParam<std::tuple<std::string, SliceCase>> {};

TEST_P(SliceTest, KeepsExactlyTheIndicesNumPyKeeps) {
  const auto& [backend, c] = GetParam();
  Graph g = slice_graph(c.starts, c.ends, c.axes, c.steps);
  prepare(g);
  const Shape want_shape{-1, static_cast<std::int64_t>(c.rows.size()), static_cast<std::int64_t>(c.cols.size())};
  ASSERT_EQ(g.outputs[0].shape, want_shape);
  const auto stages = partition(g);
  CompileOptions options;
  options.max_batch = 3;
  const auto stage = BackendRegistry::get().at(backend).compile(g, stages[0], options);
  for (const std::int64_t batch : {1, 3}) {
    const Tensor x = positions(batch);
    const Tensor* inputs[] = {&x};
    const Tensor& y = *stage->run(inputs).back();
    ASSERT_EQ(y.shape(), (Shape{batch, want_shape[1], want_shape[2]}));
    std::size_t e = 0;
    for (std::int64_t n = 0; n < batch; ++n)
      for (const auto r : c.rows)
        for (const auto col : c.cols) EXPECT_EQ(y[e++], static_cast<float>(100 * n + 10 * r + col)) << c.name;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, SliceTest,
    ::testing::Combine(
        ::testing::ValuesIn(testing::host_backends()),
        ::testing::Values(
            SliceCase{"tail", {1}, {kMax}, {1}, {}, {1, 2, 3}, {0, 1, 2, 3, 4}},                    // x[:, 1:]
            SliceCase{"negative", {-3}, {-1}, {-1}, {}, {0, 1, 2, 3}, {2, 3}},                     // x[..., -3:-1]
            SliceCase{"reversed", {-1}, {kMin}, {2}, {-1}, {0, 1, 2, 3}, {4, 3, 2, 1, 0}},         // x[..., ::-1]
            SliceCase{"steps", {0, 4}, {4, 0}, {1, 2}, {2, -2}, {0, 2}, {4, 2}},                   // x[:, 0:4:2, 4:0:-2]
            SliceCase{"clamped", {-100}, {100}, {2}, {3}, {0, 1, 2, 3}, {0, 3}},                   // x[..., -100:100:3]
            SliceCase{"no_axes", {0, 1, 2}, {kMax, 3, kMax}, {}, {}, {1, 2}, {2, 3, 4}})),          // x[0:, 1:3, 2:]
    [](const ::testing::TestParamInfo<SliceTest::ParamType>& p) {
      return std::get<0>(p.param) + "_" + std::get<1>(p.param).name;
    });

using test_support::prepare_error;

TEST(Slice, RejectsTheBatchAxisAZeroStepARepeatedAxisAndAnEmptySlice) {
  EXPECT_NE(prepare_error(slice_graph({0}, {1}, {0}, {})).find("axis 0"), std::string::npos);  // x[0:1]: only all of it
  EXPECT_NE(prepare_error(slice_graph({1}, {kMax}, {0}, {})).find("axis 0"), std::string::npos);
  EXPECT_NE(prepare_error(slice_graph({0}, {2}, {1}, {0})).find("step of 0"), std::string::npos);
  EXPECT_NE(prepare_error(slice_graph({0, 0}, {2, 2}, {1, -2}, {})).find("twice"), std::string::npos);
  EXPECT_NE(prepare_error(slice_graph({3}, {1}, {1}, {})).find("empty"), std::string::npos);
  EXPECT_NE(prepare_error(slice_graph({0}, {1}, {3}, {})).find("slice"), std::string::npos);  // axis out of range
}

TEST(Slice, OfTheShapeFoldsAtLoadKeepingTheBatchSymbolic) {
  // y = x.reshape(x.shape[0], -1) as PyTorch exports it with a slice: Shape -> Slice -> Concat -> Reshape.
  Graph g;
  g.source = "slice-fold-test";
  g.opset = 13;
  g.inputs = {{"x", Shape{-1, 4, 5}}};
  g.outputs = {{"y", {}}};
  g.initializers["zero"] = ints({0});
  g.initializers["one"] = ints({1});
  g.initializers["rest"] = ints({-1});
  auto node = [](std::string name, std::string op, std::vector<std::string> in, std::string out) {
    Node n;
    n.name = std::move(name);
    n.op = std::move(op);
    n.inputs = std::move(in);
    n.outputs = {std::move(out)};
    return n;
  };
  Node concat = node("concat", "Concat", {"batch", "rest"}, "target");
  concat.attributes["axis"] = std::int64_t{0};
  g.nodes = {node("shape", "Shape", {"x"}, "s"), node("slice", "Slice", {"s", "zero", "one"}, "batch"), concat,
             node("reshape", "Reshape", {"x", "target"}, "y")};
  prepare(g);
  ASSERT_EQ(g.nodes.size(), 1u);
  EXPECT_EQ(g.nodes[0].op, "Reshape");
  EXPECT_EQ(g.outputs[0].shape, (Shape{-1, 20}));
}

}  // namespace
}  // namespace imprecise::nn
