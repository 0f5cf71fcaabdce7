// Split, Clip, Resize and Gelu in the forms PyTorch 1.13 does not write (opset 11 and 18 Split, opset 6 Clip,
// min > max, Resize's rounding modes), ReduceMax/Mean over every kind of axis set, on every host backend
// against hand-computed values; and the malformed attributes and inputs, each an Error naming the node.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
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

using test_support::ints;

Constant floats(std::vector<float> values, Shape shape = {}) {
  Constant c;
  c.shape = shape.empty() && values.size() != 1 ? Shape{static_cast<std::int64_t>(values.size())} : shape;
  c.floats = std::move(values);
  return c;
}

/// One node `op` named "n" reading x (the graph input, `shape`) and `inputs` after it; its outputs
/// are the graph's outputs (Split: concatenated back by a Concat, so the graph has one exit).
Graph one_node(const std::string& op, Shape shape, std::vector<std::string> inputs = {}, int outputs = 1) {
  Graph g;
  g.source = "params-test";
  g.opset = 13;
  g.inputs = {{"x", std::move(shape)}};
  Node node;
  node.name = "n";
  node.op = op;
  node.inputs = {"x"};
  node.inputs.insert(node.inputs.end(), inputs.begin(), inputs.end());
  for (int k = 0; k < outputs; ++k) node.outputs.push_back("y" + std::to_string(k));
  g.nodes = {node};
  if (outputs == 1) {
    g.outputs = {{"y0", {}}};
  } else {
    Node concat;
    concat.name = "concat";
    concat.op = "Concat";
    concat.inputs = g.nodes[0].outputs;
    concat.outputs = {"out"};
    concat.attributes["axis"] = std::int64_t{-1};
    g.nodes.push_back(concat);
    g.outputs = {{"out", {}}};
  }
  return g;
}

using test_support::prepare_error;

::testing::AssertionResult names(const std::string& message, const std::string& op, const std::string& what) {
  const std::string node = "node 'n' (" + op + ")";
  if (message.find(node) == std::string::npos || message.find(what) == std::string::npos)
    return ::testing::AssertionFailure() << "'" << message << "' lacks " << node << " or '" << what << "'";
  return ::testing::AssertionSuccess();
}

/// Runs the prepared one-stage graph on `x` with `backend`.
std::vector<float> run(Graph& g, const std::string& backend, const Tensor& x) {
  prepare(g);
  const auto stages = partition(g);
  CompileOptions options;
  options.max_batch = static_cast<int>(x.batch());
  const auto stage = BackendRegistry::get().at(backend).compile(g, stages.at(0), options);
  const Tensor* inputs[] = {&x};
  const auto& y = stage->run(inputs).back()->values();
  return {y.begin(), y.end()};
}

Tensor iota(Shape shape) {
  Tensor t(std::move(shape));
  for (std::size_t i = 0; i < t.size(); ++i) t[i] = static_cast<float>(i);
  return t;
}

class OpParams : public ::testing::TestWithParam<std::string> {};

TEST_P(OpParams, SplitByAttributeByNumOutputsAndInEqualParts) {
  // x [N, 1, 5] = 0..4; the Concat puts the parts back in order, so any split gives x back.
  const Tensor x = iota(Shape{1, 1, 5});
  const std::vector<float> same{0, 1, 2, 3, 4};
  Graph by_attribute = one_node("Split", Shape{-1, 1, 5}, {}, 2);  // opset 11: split as an attribute
  by_attribute.nodes[0].attributes["axis"] = std::int64_t{-1};
  by_attribute.nodes[0].attributes["split"] = std::vector<std::int64_t>{2, 3};
  EXPECT_EQ(run(by_attribute, GetParam(), x), same);
  Graph by_count = one_node("Split", Shape{-1, 1, 5}, {}, 3);  // opset 18: 2, 2, 1
  by_count.nodes[0].attributes["axis"] = std::int64_t{2};
  by_count.nodes[0].attributes["num_outputs"] = std::int64_t{3};
  EXPECT_EQ(run(by_count, GetParam(), x), same);
  EXPECT_EQ(by_count.shapes.at("y2"), (Shape{-1, 1, 1}));
  Graph equal = one_node("Split", Shape{-1, 2, 2}, {}, 2);
  equal.nodes[0].attributes["axis"] = std::int64_t{1};  // rows 0 and 1, concatenated on the last axis
  EXPECT_EQ(run(equal, GetParam(), iota(Shape{1, 2, 2})), (std::vector<float>{0, 1, 2, 3}));
  EXPECT_EQ(equal.shapes.at("out"), (Shape{-1, 1, 4}));
}

TEST_P(OpParams, ClipByAttributesAndWithMinAboveMax) {
  const Tensor x = iota(Shape{1, 6});
  Graph opset6 = one_node("Clip", Shape{-1, 6});
  opset6.nodes[0].attributes["min"] = 1.5f;
  opset6.nodes[0].attributes["max"] = 3.0f;
  EXPECT_EQ(run(opset6, GetParam(), x), (std::vector<float>{1.5f, 1.5f, 2, 3, 3, 3}));
  Graph crossed = one_node("Clip", Shape{-1, 6}, {"lo", "hi"});  // ONNX: min > max gives max everywhere
  crossed.initializers["lo"] = floats({4.0f});
  crossed.initializers["hi"] = floats({2.0f});
  EXPECT_EQ(run(crossed, GetParam(), x), (std::vector<float>(6, 2.0f)));
  Graph min_only = one_node("Clip", Shape{-1, 6}, {"lo"});
  min_only.initializers["lo"] = floats({2.5f});
  EXPECT_EQ(run(min_only, GetParam(), x), (std::vector<float>{2.5f, 2.5f, 2.5f, 3, 4, 5}));
}

TEST_P(OpParams, ResizeNearestRoundingModes) {
  const Tensor x = iota(Shape{1, 1, 1, 4});
  auto resize = [&](const char* transform, const char* rounding, std::vector<float> scales) {
    Graph g = one_node("Resize", Shape{-1, 1, 1, 4}, {"", "scales"});
    g.initializers["scales"] = floats(std::move(scales));
    g.nodes[0].attributes["coordinate_transformation_mode"] = std::string(transform);
    g.nodes[0].attributes["nearest_mode"] = std::string(rounding);
    return run(g, GetParam(), x);
  };
  // half_pixel, 4 -> 8: coordinates o / 2 - 0.25.
  EXPECT_EQ(resize("half_pixel", "round_prefer_floor", {1, 1, 1, 2}), (std::vector<float>{0, 0, 1, 1, 2, 2, 3, 3}));
  // half_pixel, 4 -> 2: coordinates 0.5 and 2.5, both ties.
  EXPECT_EQ(resize("half_pixel", "round_prefer_floor", {1, 1, 1, 0.5f}), (std::vector<float>{0, 2}));
  EXPECT_EQ(resize("half_pixel", "round_prefer_ceil", {1, 1, 1, 0.5f}), (std::vector<float>{1, 3}));
  EXPECT_EQ(resize("asymmetric", "ceil", {1, 1, 1, 0.75f}), (std::vector<float>{0, 2, 3}));              // 0, 4/3, 8/3
  EXPECT_EQ(resize("align_corners", "floor", {1, 1, 1, 1.5f}), (std::vector<float>{0, 0, 1, 1, 2, 3}));  // o * 3/5
}

/// ReduceMax (or mean) of x (shape dims, row-major) over `axes`, kept as size-1 axes: the plain definition.
std::vector<float> reduced(const Tensor& x, const std::vector<std::int64_t>& axes, bool max) {
  const Shape& dims = x.shape();
  std::vector<bool> on(dims.size(), false);
  for (const auto a : axes) on[static_cast<std::size_t>(a)] = true;
  std::size_t outputs = 1, count = 1;
  for (std::size_t d = 0; d < dims.size(); ++d) (on[d] ? count : outputs) *= static_cast<std::size_t>(dims[d]);
  std::vector<float> out(outputs, max ? -1e30f : 0.0f);
  for (std::size_t e = 0; e < x.size(); ++e) {
    std::size_t rest = e, o = 0, scale = 1;
    for (std::size_t d = dims.size(); d-- > 0;) {
      const std::size_t i = rest % static_cast<std::size_t>(dims[d]);
      rest /= static_cast<std::size_t>(dims[d]);
      if (!on[d]) {
        o += i * scale;
        scale *= static_cast<std::size_t>(dims[d]);
      }
    }
    out[o] = max ? std::max(out[o], x[e]) : out[o] + x[e];
  }
  if (!max)
    for (float& v : out) v /= static_cast<float>(count);
  return out;
}

TEST_P(OpParams, ReduceOverTrailingMiddleAndScatteredAxes) {
  // [2, 3, 4, 11]: a trailing run longer than the kernel's 8 accumulators, a middle block with an inner
  // run after it, every axis but the batch, and axes that are not one block. Values in a jagged order, so
  // that the max is not always the last element.
  Tensor x(Shape{2, 3, 4, 11});
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 37) % 101) - 50.0f;
  for (const char* op : {"ReduceMax", "ReduceMean"}) {
    for (const std::vector<std::int64_t>& axes : std::vector<std::vector<std::int64_t>>{{3}, {1}, {1, 2}, {1, 2, 3}, {1, 3}}) {
      Graph g = one_node(op, Shape{-1, 3, 4, 11});
      g.nodes[0].attributes["axes"] = axes;
      const std::vector<float> got = run(g, GetParam(), x);
      const std::vector<float> want = reduced(x, axes, std::string(op) == "ReduceMax");
      ASSERT_EQ(got.size(), want.size()) << op << " axes " << ::testing::PrintToString(axes);
      for (std::size_t i = 0; i < got.size(); ++i)
        EXPECT_NEAR(got[i], want[i], 1e-5f * std::max(1.0f, std::abs(want[i])))
            << op << " axes " << ::testing::PrintToString(axes) << " output " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, OpParams, ::testing::ValuesIn(testing::host_backends()),
                         [](const ::testing::TestParamInfo<std::string>& param) { return param.param; });

TEST(OpParamErrors, SplitNamesTheNode) {
  Graph sum = one_node("Split", Shape{-1, 6, 2}, {"sizes"}, 2);
  sum.initializers["sizes"] = ints({2, 3});
  sum.nodes[0].attributes["axis"] = std::int64_t{1};
  EXPECT_TRUE(names(prepare_error(sum), "Split", "split sizes sum to 5, but axis 1 has 6"));
  Graph count = one_node("Split", Shape{-1, 6, 2}, {"sizes"}, 2);
  count.initializers["sizes"] = ints({2, 2, 2});
  count.nodes[0].attributes["axis"] = std::int64_t{1};
  EXPECT_TRUE(names(prepare_error(count), "Split", "3 sizes"));
  Graph batch = one_node("Split", Shape{-1, 6, 2}, {}, 2);
  EXPECT_TRUE(names(prepare_error(batch), "Split", "axis 0"));  // the default axis
  Graph uneven = one_node("Split", Shape{-1, 5, 2}, {}, 2);
  uneven.nodes[0].attributes["axis"] = std::int64_t{1};
  EXPECT_TRUE(names(prepare_error(uneven), "Split", "equal parts"));
  Graph zero = one_node("Split", Shape{-1, 4, 2}, {"sizes"}, 2);
  zero.initializers["sizes"] = ints({4, 0});
  zero.nodes[0].attributes["axis"] = std::int64_t{1};
  EXPECT_TRUE(names(prepare_error(zero), "Split", "split size 0"));
  Graph axis = one_node("Split", Shape{-1, 4, 2}, {}, 2);
  axis.nodes[0].attributes["axis"] = std::int64_t{3};
  EXPECT_TRUE(names(prepare_error(axis), "Split", "axis 3 out of range"));
}

TEST(OpParamErrors, ResizeNamesTheNodeAndAttribute) {
  auto resize = [](std::vector<std::string> inputs) {
    Graph g = one_node("Resize", Shape{-1, 2, 3, 4}, std::move(inputs));
    g.initializers["scales"] = floats({1, 1, 2, 2});
    g.initializers["sizes"] = ints({1, 2, 6, 8});
    g.initializers["negative"] = floats({1, 1, -2, 2});
    g.initializers["channels"] = floats({1, 2, 2, 2});
    g.initializers["short"] = floats({2, 2});
    g.initializers["huge"] = floats({1, 1, 1e12f, 1});
    return g;
  };
  EXPECT_TRUE(names(prepare_error(resize({"", "scales", "sizes"})), "Resize", "both scales and sizes"));
  EXPECT_TRUE(names(prepare_error(resize({"", "negative"})), "Resize", "scales[2] = -2"));
  EXPECT_TRUE(names(prepare_error(resize({"", "channels"})), "Resize", "channel"));
  EXPECT_TRUE(names(prepare_error(resize({"", "short"})), "Resize", "scales has 2 values"));
  EXPECT_TRUE(names(prepare_error(resize({"", "huge"})), "Resize", "too large"));
  EXPECT_TRUE(names(prepare_error(resize({})), "Resize", "neither scales nor sizes"));
  Graph x_input = resize({"", "x"});  // scales computed at run time
  EXPECT_TRUE(names(prepare_error(x_input), "Resize", "must be a constant"));
  const std::vector<std::pair<std::string, std::string>> bad{{"mode", "cubic"},
                                                             {"coordinate_transformation_mode", "tf_crop_and_resize"},
                                                             {"nearest_mode", "up"},
                                                             {"keep_aspect_ratio_policy", "not_larger"}};
  for (const auto& [attribute, value] : bad) {
    Graph g = resize({"", "scales"});
    g.nodes[0].attributes[attribute] = value;
    EXPECT_TRUE(names(prepare_error(g), "Resize", "attribute " + attribute + " = '" + value + "'"));
  }
  Graph antialias = resize({"", "scales"});
  antialias.nodes[0].attributes["antialias"] = std::int64_t{1};
  EXPECT_TRUE(names(prepare_error(antialias), "Resize", "antialias"));
  Graph linear_1d = one_node("Resize", Shape{-1, 2, 4}, {"", "scales"});
  linear_1d.initializers["scales"] = floats({1, 1, 2});
  linear_1d.nodes[0].attributes["mode"] = std::string("linear");
  EXPECT_TRUE(names(prepare_error(linear_1d), "Resize", "linear"));
}

TEST(OpParamErrors, ClipAndGeluNameTheNode) {
  Graph runtime_bound = one_node("Clip", Shape{-1, 3}, {"x"});
  EXPECT_TRUE(names(prepare_error(runtime_bound), "Clip", "min (input 1, 'x') must be a constant"));
  Graph vector_bound = one_node("Clip", Shape{-1, 3}, {"lo"});
  vector_bound.initializers["lo"] = floats({0, 1});
  EXPECT_TRUE(names(prepare_error(vector_bound), "Clip", "single value"));
  Graph gelu = one_node("Gelu", Shape{-1, 3});
  gelu.nodes[0].attributes["approximate"] = std::string("fast");
  EXPECT_TRUE(names(prepare_error(gelu), "Gelu", "approximate = 'fast'"));
  Graph leaky = one_node("LeakyRelu", Shape{-1, 3});
  leaky.nodes[0].attributes["alpha"] = std::string("0.1");  // the wrong attribute type
  EXPECT_TRUE(names(prepare_error(leaky), "LeakyRelu", "attribute 'alpha' has the wrong type"));
}

TEST(OpParamErrors, ALeftOutFirstInputIsAnErrorNotACrash) {
  // Found by the fuzzer once Clip and Resize fixtures (with left-out inputs) joined its corpus.
  Graph g = one_node("Add", Shape{-1, 3}, {"k"});
  g.nodes[0].inputs[0] = "";
  g.initializers["k"] = floats({1, 2, 3});
  EXPECT_TRUE(names(prepare_error(g), "Add", "no activation input"));
}

TEST(ModelSize, ActivationsThatAddUpPastTheLimitAreRefusedAtTheNodeThatCrossesIt) {
  // Each tensor of 2^25 values is allowed; the input and four Relu outputs make 5 x 2^25 > 2^27 per
  // sample, so the fourth Relu is refused, by name. Three of them (2^27 in all) still load.
  auto chain = [](int relus) {
    Graph g = one_node("Relu", {1, std::int64_t{1} << 25});
    for (int k = 1; k < relus; ++k) {
      Node relu = g.nodes.back();
      relu.name = "n" + std::to_string(k);
      relu.inputs = {relu.outputs[0]};
      relu.outputs = {"y" + std::to_string(k)};
      g.nodes.push_back(relu);
    }
    g.outputs = {{g.nodes.back().outputs[0], {}}};
    return g;
  };
  const std::string message = prepare_error(chain(4));
  EXPECT_NE(message.find("node 'n3' (Relu)"), std::string::npos) << message;
  EXPECT_NE(message.find("activations"), std::string::npos) << message;
  Graph fits = chain(3);
  EXPECT_NO_THROW(prepare(fits));
}

// Legal pads and strides can make a convolution's workspace huge while its output stays small: the
// padded input, or the im2col matrix of a large kernel. Both are refused by name; a normal one loads.
TEST(ModelSize, AConvolutionWhoseWorkspaceIsTooLargeIsRefusedByName) {
  auto conv = [](Shape input, std::int64_t kernel, std::int64_t pad, std::int64_t stride) {
    Graph g = one_node("Conv", std::move(input), {"w"});
    Constant w;
    w.shape = {1, 1, kernel, kernel};
    w.floats.assign(static_cast<std::size_t>(kernel * kernel), 0.5f);
    g.initializers["w"] = std::move(w);
    g.nodes[0].attributes["pads"] = std::vector<std::int64_t>{pad, pad, pad, pad};
    g.nodes[0].attributes["strides"] = std::vector<std::int64_t>{stride, stride};
    return g;
  };
  // 1 x 200,008 x 200,008 padded values for an output of 3 x 3.
  EXPECT_TRUE(names(prepare_error(conv({1, 1, 8, 8}, 3, 100'000, 100'000)), "Conv", "padded input"));
  // A 64 x 64 kernel over 2,048 x 2,048 at stride 2: 4,096 taps x 993 x 993 positions.
  EXPECT_TRUE(names(prepare_error(conv({1, 1, 2048, 2048}, 64, 0, 2)), "Conv", "im2col matrix"));
  Graph fits = conv({1, 1, 32, 32}, 3, 1, 2);
  EXPECT_NO_THROW(prepare(fits));
}

}  // namespace
}  // namespace imprecise::nn
