// CPU backend: a compiled stage = one kernel per operator (elementwise.cpp, matmul.cpp, layout.cpp, conv.cpp,
// pool.cpp) run in order over preallocated buffers.
#include "imprecise/backends/cpu/cpu_backend.hpp"

#include "imprecise/graph/stage_inputs.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <span>
#include <string_view>
#include <utility>

#include <fmt/core.h>

#include "imprecise/error.hpp"
#include "kernel.hpp"
#include "op_shapes.hpp"

namespace imprecise::nn {

std::unique_ptr<cpu::Kernel> cpu::make_kernel(const Graph& g, const Node& node, CpuIsa isa) {
  const std::string& op = node.op;
  if (op == "Conv") return make_conv(g, node, false, isa);
  if (op == "MaxPool" || op == "AveragePool") return make_pool(g, node);
  if (auto k = make_elementwise(g, node)) return k;
  if (auto k = make_activation(g, node)) return k;
  if (auto k = make_resize(g, node)) return k;
  if (auto k = make_matmul(g, node)) return k;
  if (auto k = make_layout(g, node)) return k;
  detail::fail(g.source, node, fmt::format("operator '{}' is not supported by the cpu backend", op));
}

namespace {

using detail::fail;
using cpu::Index;
using cpu::Kernel;
using cpu::make_kernel;

// ---- a compiled stage: kernels in order over a table of tensor slots

class CpuStage final : public CompiledStage {
 public:
  CpuStage(const Graph& g, const StageInfo& stage, const CompileOptions& options, CpuIsa isa)
      : max_batch_(options.max_batch), index_(stage.index), source_(g.source) {
    if (max_batch_ < 1) throw Error(fmt::format("{}: max_batch must be >= 1 (got {})", g.source, max_batch_));
    std::map<std::string, std::size_t> slot;
    // Slots: stage inputs first (bound per run), then constants, then every node output.
    for (const auto& input : stage.inputs) {
      slot[input.name] = table_.size();
      table_.push_back(nullptr);
      input_shapes_.push_back(input.shape);
      input_names_.push_back(input.name);
    }
    std::size_t constants = 0, buffers = 0;
    for (const std::size_t n : stage.nodes) {
      for (const auto& input : g.nodes[n].inputs)
        if (!input.empty() && g.is_constant(input)) ++constants;
      ++buffers;
    }
    // Reserve so that the pointers taken into these vectors stay valid.
    constants_.reserve(constants);
    buffers_.reserve(buffers);
    // A Conv whose only reader anywhere (no later stage, not an exit) is the Relu right after it
    // applies that Relu itself: one pass over the activations less.
    std::map<std::string, int> readers;
    for (const Node& node : g.nodes)
      for (const auto& input : node.inputs) ++readers[input];
    for (const auto& output : g.outputs) ++readers[output.name];
    for (std::size_t i = 0; i < stage.nodes.size(); ++i) {
      const Node& node = g.nodes[stage.nodes[i]];
      if (i + 1 < stage.nodes.size() && node.op == "Conv") {
        const Node& next = g.nodes[stage.nodes[i + 1]];
        if (next.op == "Relu" && next.inputs.size() == 1 && next.inputs[0] == node.outputs[0] &&
            readers[node.outputs[0]] == 1) {
          add_step(g, stage, node, cpu::make_conv(g, node, true, isa), slot);
          slot[next.outputs[0]] = slot.at(node.outputs[0]);  // the Relu's output is the Conv's buffer
          ++i;
          continue;
        }
      }
      add_step(g, stage, node, make_kernel(g, node, isa), slot);
    }
    for (const auto& t : stage.carried_out) outputs_.push_back(table_.at(slot.at(t.name)));
    outputs_.push_back(table_.at(slot.at(stage.exit.name)));
  }

  int max_batch() const override { return max_batch_; }

  std::span<const Tensor* const> run(std::span<const Tensor* const> inputs) override {
    const Index batch = check_stage_inputs(
        inputs, input_shapes_.size(), [&](std::size_t k) -> const Shape& { return input_shapes_[k]; },
        [&](std::size_t k) -> const std::string& { return input_names_[k]; }, source_, index_, max_batch_);
    for (std::size_t i = 0; i < inputs.size(); ++i) table_[i] = inputs[i];
    for (Step& step : steps_) {
      for (std::size_t i = 0; i < step.inputs.size(); ++i) step.args[i] = table_[step.inputs[i]];
      Tensor& out = buffers_[step.output];
      out.set_batch(batch);
      step.kernel->run(step.args, out);
    }
    return outputs_;
  }

 private:
  // Appends the step running `kernel` for `node`, its output a new buffer sized for max_batch_.
  void add_step(const Graph& g, const StageInfo& stage, const Node& node, std::unique_ptr<Kernel> kernel,
                std::map<std::string, std::size_t>& slot) {
    Step step;
    for (const auto& input : node.inputs) {
      if (input.empty()) continue;
      auto it = slot.find(input);
      if (it == slot.end()) {
        const Constant* c = g.find_constant(input);
        if (!c) fail(g.source, node, fmt::format("reads '{}', which stage {} does not have", input, stage.index));
        constants_.push_back(c->as_tensor());
        it = slot.emplace(input, table_.size()).first;
        table_.push_back(&constants_.back());
      }
      step.inputs.push_back(it->second);
    }
    step.kernel = std::move(kernel);
    Shape shape = g.shapes.at(node.outputs[0]);
    shape[0] = max_batch_;
    buffers_.emplace_back(shape);  // allocated once, for the largest batch
    step.output = buffers_.size() - 1;
    step.args.resize(step.inputs.size(), nullptr);
    slot[node.outputs[0]] = table_.size();
    table_.push_back(&buffers_.back());
    steps_.push_back(std::move(step));
  }

  struct Step {
    std::unique_ptr<Kernel> kernel;
    std::vector<std::size_t> inputs;  // slots
    std::vector<const Tensor*> args;  // filled per run, sized at compile
    std::size_t output = 0;           // index into buffers_
  };
  int max_batch_;
  int index_;
  std::string source_;
  std::vector<const Tensor*> table_;
  std::vector<Shape> input_shapes_;
  std::vector<std::string> input_names_;
  std::vector<Tensor> constants_;
  std::vector<Tensor> buffers_;
  std::vector<Step> steps_;
  std::vector<const Tensor*> outputs_;
};

}  // namespace

CpuIsa default_cpu_isa() {
  const char* forced = std::getenv("IMPRECISE_CPU_ISA");
  return forced != nullptr && std::string_view(forced) == "generic" ? CpuIsa::generic : CpuIsa::automatic;
}

std::unique_ptr<CompiledStage> CpuBackend::compile(const Graph& graph, const StageInfo& stage,
                                                   const CompileOptions& options) const {
  return std::make_unique<CpuStage>(graph, stage, options, options_.isa);
}

}  // namespace imprecise::nn
