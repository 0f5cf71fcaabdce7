// Partition of a prepared graph into stages (one per exit) with the tensors carried across boundaries.
#include "imprecise/graph/partition.hpp"

#include <map>
#include <set>

#include <fmt/core.h>

#include "imprecise/error.hpp"
#include "op_shapes.hpp"

namespace imprecise::nn {

namespace {

// Per-sample FLOPs of one node (a multiply-add counts 2), from the prepared shapes.
double node_flops(const Graph& graph, const Node& node) {
  const Shape& out = graph.shapes.at(node.outputs[0]);
  Shape sample(out.begin() + 1, out.end());
  const auto out_elems = static_cast<double>(element_count(sample));
  auto shape_of = [&](const std::string& name) -> Shape {
    if (const Constant* c = graph.find_constant(name)) return c->shape;
    return graph.shapes.at(name);
  };
  if (node.op == "Conv") {
    const Shape w = shape_of(node.inputs[1]);
    double per_output = 1.0;
    for (std::size_t i = 1; i < w.size(); ++i) per_output *= static_cast<double>(w[i]);
    return out_elems * 2.0 * per_output;
  }
  if (node.op == "Gemm" || node.op == "MatMul") {
    const Shape a = shape_of(node.inputs[0]);
    return out_elems * 2.0 * static_cast<double>(a.back());
  }
  if (node.op == "MaxPool" || node.op == "AveragePool") {
    double k = 1.0;
    for (const auto d : node.attr_ints("kernel_shape")) k *= static_cast<double>(d);
    return out_elems * k;
  }
  if (node.op == "GlobalAveragePool" || node.op == "GlobalMaxPool" || node.op == "ReduceMax" ||
      node.op == "ReduceMean") {
    const Shape in = shape_of(node.inputs[0]);
    return static_cast<double>(element_count(Shape(in.begin() + 1, in.end())));
  }
  if (node.op == "Softmax") return out_elems * 3.0;
  if (node.op == "Sigmoid" || node.op == "Tanh" || node.op == "Gelu" || node.op == "Erf") return out_elems * 4.0;
  if (node.op == "Clip" || node.op == "LeakyRelu" || node.op == "HardSigmoid" || node.op == "HardSwish")
    return out_elems * 2.0;
  if (node.op == "Resize") return node.attr_string("mode", "nearest") == "linear" ? out_elems * 6.0 : 0.0;
  if (node.op == "BatchNormalization") return out_elems * 2.0;
  if (node.op == "Add" || node.op == "Sub" || node.op == "Mul" || node.op == "Div" || node.op == "Relu")
    return out_elems;
  return 0.0;  // data movement only
}

}  // namespace

std::vector<StageInfo> partition(const Graph& graph) {
  const std::string& where = graph.source;
  std::map<std::string, std::size_t> producer;
  for (std::size_t i = 0; i < graph.nodes.size(); ++i)
    for (const auto& output : graph.nodes[i].outputs)
      if (!output.empty()) producer[output] = i;

  // stage_of[node] = the first exit that needs it; -1 = no exit needs it.
  std::vector<int> stage_of(graph.nodes.size(), -1);
  std::vector<StageInfo> stages(graph.outputs.size());
  for (std::size_t k = 0; k < graph.outputs.size(); ++k) {
    const std::string& exit = graph.outputs[k].name;
    const auto it = producer.find(exit);
    if (it == producer.end()) throw Error(fmt::format("{}: exit '{}' is not produced by any node", where, exit));
    if (stage_of[it->second] >= 0)
      throw Error(fmt::format("{}: exit {} ('{}') is computed entirely by earlier stages (empty stage)", where, k, exit));
    std::vector<std::size_t> work{it->second};
    while (!work.empty()) {
      const std::size_t n = work.back();
      work.pop_back();
      if (stage_of[n] >= 0) continue;
      stage_of[n] = static_cast<int>(k);
      for (const auto& input : graph.nodes[n].inputs) {
        const auto p = producer.find(input);
        if (p != producer.end() && stage_of[p->second] < 0) work.push_back(p->second);
      }
    }
    stages[k].index = static_cast<int>(k);
    stages[k].exit = CarriedTensor{exit, graph.shapes.at(exit)};
  }

  // Where each activation is produced: the graph input counts as produced before stage 0 (-1).
  std::map<std::string, int> made_in;
  made_in[graph.inputs[0].name] = -1;
  for (std::size_t i = 0; i < graph.nodes.size(); ++i)
    if (stage_of[i] >= 0) made_in[graph.nodes[i].outputs[0]] = stage_of[i];

  std::vector<std::set<std::string>> inputs(stages.size()), carried_out(stages.size());
  for (std::size_t i = 0; i < graph.nodes.size(); ++i) {
    if (stage_of[i] < 0) continue;
    const auto s = static_cast<std::size_t>(stage_of[i]);
    StageInfo& stage = stages[s];
    stage.nodes.push_back(i);
    stage.flops += node_flops(graph, graph.nodes[i]);
    for (const auto& input : graph.nodes[i].inputs) {
      if (input.empty()) continue;
      if (const Constant* c = graph.find_constant(input)) {
        stage.params += static_cast<std::int64_t>(c->size());
        continue;
      }
      const int from = made_in.at(input);
      if (from == static_cast<int>(s)) continue;
      inputs[s].insert(input);
      if (from >= 0) carried_out[static_cast<std::size_t>(from)].insert(input);
    }
  }
  // Keep the order of first appearance in the graph (sets sort by name; re-sort by producer order).
  auto order = [&](const std::set<std::string>& names) {
    std::vector<CarriedTensor> list;
    if (names.count(graph.inputs[0].name)) list.push_back({graph.inputs[0].name, graph.shapes.at(graph.inputs[0].name)});
    for (std::size_t i = 0; i < graph.nodes.size(); ++i) {
      const std::string& name = graph.nodes[i].outputs[0];
      if (names.count(name)) list.push_back({name, graph.shapes.at(name)});
    }
    return list;
  };
  for (std::size_t s = 0; s < stages.size(); ++s) {
    stages[s].inputs = order(inputs[s]);
    stages[s].carried_out = order(carried_out[s]);
  }
  return stages;
}

}  // namespace imprecise::nn
