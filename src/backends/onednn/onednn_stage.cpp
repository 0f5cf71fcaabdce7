// OnednnStage: a compiled stage = one Program per batch size 1..max_batch over shared buffers; run()
// picks the batch's program and executes its calls (and the cpu kernels of the nodes oneDNN leaves).
#include <omp.h>

#include <algorithm>
#include <map>
#include <string>

#include <fmt/core.h>

#include "imprecise/graph/stage_inputs.hpp"
#include "imprecise/error.hpp"
#include "onednn_stage.hpp"
#include "op_shapes.hpp"
#include "program_builder.hpp"

namespace imprecise::nn {

namespace onednn {
namespace {

const dnnl::engine& cpu_engine() {
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

/// Sets the OpenMP threads of the calling thread (oneDNN's runtime reads them at creation and at
/// execution) for a scope, restoring the caller's setting after compile.
class ThreadScope {
 public:
  explicit ThreadScope(int threads) : saved_(omp_get_max_threads()) { omp_set_num_threads(threads); }
  ~ThreadScope() { omp_set_num_threads(saved_); }
  ThreadScope(const ThreadScope&) = delete;
  ThreadScope& operator=(const ThreadScope&) = delete;

 private:
  int saved_;
};

class OnednnStage final : public CompiledStage {
 public:
  OnednnStage(const Graph& g, const StageInfo& stage, const CompileOptions& options, const OnednnBackendOptions& backend)
      : max_batch_(options.max_batch), index_(stage.index), threads_(backend.threads), source_(g.source) {
    if (max_batch_ < 1) throw Error(fmt::format("{}: max_batch must be >= 1 (got {})", g.source, max_batch_));
    const ThreadScope scope(threads_);
    s_.engine = cpu_engine();
    s_.max_batch = max_batch_;
    for (const auto& input : stage.inputs) {
      add_value(input.name, input.shape, static_cast<int>(input_names_.size()));
      s_.values.back().carried = std::none_of(g.inputs.begin(), g.inputs.end(), [&](const auto& in) { return in.name == input.name; });
      input_shapes_.push_back(input.shape);
      input_names_.push_back(input.name);
    }
    for (const std::size_t n : stage.nodes) {
      const Node& node = g.nodes[n];
      Shape shape = g.shapes.at(node.outputs[0]);
      add_value(node.outputs[0], shape, -1);
    }
    plan(g, stage);
    for (const auto& t : stage.carried_out) {
      outputs_of_.push_back(s_.value_of.at(t.name));
      Value& v = s_.values[outputs_of_.back()];
      v.carried_out = v.input < 0;
    }
    carried_outputs_ = outputs_of_.size();
    outputs_of_.push_back(s_.value_of.at(stage.exit.name));
    outputs_.resize(outputs_of_.size(), nullptr);

    // Largest batch first: its buffers are the largest, and the smaller programs reuse them.
    programs_.resize(static_cast<std::size_t>(max_batch_));
    for (int b = max_batch_; b >= 1; --b) build(g, b);
    give_scratchpads();
    stream_ = dnnl::stream(s_.engine);
    choose_sub_batch(backend.sub_batch_bytes);
  }

  int max_batch() const override { return max_batch_; }

  std::span<const Tensor* const> run(std::span<const Tensor* const> inputs) override {
    const std::int64_t batch = check(inputs);
    if (omp_get_max_threads() != threads_) omp_set_num_threads(threads_);  // a lane thread's first run
    for (Value& v : s_.values) {
      if (!v.plain.shape().empty()) v.plain.set_batch(batch);
      if (!v.carry.shape().empty()) v.carry.set_batch(batch);
    }
    const std::int64_t step = std::min<std::int64_t>(sub_batch_, batch);
    for (std::int64_t first = 0; first < batch; first += step) {
      Program& p = programs_[static_cast<std::size_t>(std::min(step, batch - first) - 1)];
      point(p, inputs, first);
      execute(p, inputs);
    }
    for (std::size_t i = 0; i < outputs_of_.size(); ++i) outputs_[i] = tensor(outputs_of_[i], inputs);
    return outputs_;
  }

 private:
  // Points the program's memories over the caller's inputs and the plain tensors at sample `first`.
  void point(Program& p, std::span<const Tensor* const> inputs, std::int64_t first) {
    for (auto& [input, m] : p.input_views)
      m.set_data_handle(const_cast<float*>(inputs[input]->data()) + first * static_cast<std::int64_t>(inputs[input]->sample_size()));
    for (auto& [v, m] : p.plain_views) m.set_data_handle(s_.values[v].plain.data() + first * sample_elements_[v]);
    for (auto& [v, m] : p.carry_views) m.set_data_handle(s_.values[v].carry.data() + first * sample_elements_[v]);
  }

  void execute(Program& p, std::span<const Tensor* const> inputs) {
    for (const auto& action : p.actions) {
      if (!action.fallback) {
        const Call& c = p.calls[action.index];
        const dnnl_status_t status = dnnl_primitive_execute(c.primitive.get(), stream_.get(),
                                                            static_cast<int>(c.args.size()), c.args.data());
        if (status != dnnl_success)
          throw Error(fmt::format("{}: stage {}: a oneDNN primitive failed (status {})", source_, index_,
                                  static_cast<int>(status)));
        continue;
      }
      Fallback& f = s_.fallbacks[action.index];
      for (std::size_t i = 0; i < f.inputs.size(); ++i) f.args[i] = plain_tensor(f.inputs[i], inputs);
      f.kernel->run(f.args, s_.values[f.output].plain);
    }
  }

  // Sub-batches whose largest activation fits `budget` bytes, when the whole batch's does not. The
  // fallback kernels run on whole-batch tensors: a stage with one is never split.
  void choose_sub_batch(std::size_t budget) {
    std::int64_t largest = 1;  // elements per sample
    for (const Value& v : s_.values) {
      sample_elements_.push_back(static_cast<std::int64_t>(element_count(Shape(v.shape.begin() + 1, v.shape.end()))));
      largest = std::max(largest, sample_elements_.back());
    }
    sub_batch_ = max_batch_;
    for (const Program& p : programs_)
      if (p.has_fallbacks) return;
    if (budget == 0) return;
    const auto fits = static_cast<std::int64_t>(budget / (static_cast<std::size_t>(largest) * sizeof(float)));
    sub_batch_ = std::clamp<std::int64_t>(fits, 1, max_batch_);
  }

  void add_value(const std::string& name, const Shape& shape, int input) {
    s_.value_of.emplace(name, s_.values.size());
    Value v;
    v.name = name;
    v.shape = shape;
    v.input = input;
    s_.values.push_back(std::move(v));
  }

  // Which nodes run, in order, and what each fuses (as the cpu backend, and more: a bias Add after a
  // Gemm/MatMul, then a Relu after a Conv/Gemm/MatMul), each fused node the only reader anywhere (no
  // later stage, no exit) of what it follows.
  void plan(const Graph& g, const StageInfo& stage) {
    std::map<std::string, int> readers;
    for (const Node& node : g.nodes)
      for (const auto& input : node.inputs) ++readers[input];
    for (const auto& output : g.outputs) ++readers[output.name];
    const std::size_t count = stage.nodes.size();
    for (std::size_t i = 0; i < count; ++i) {
      const Node& node = g.nodes[stage.nodes[i]];
      Step step{stage.nodes[i], {}};
      auto follows = [&](const char* op, const std::string& tensor) -> const Node* {
        if (i + 1 >= count || readers[tensor] != 1) return nullptr;
        const Node& next = g.nodes[stage.nodes[i + 1]];
        const bool reads = std::find(next.inputs.begin(), next.inputs.end(), tensor) != next.inputs.end();
        return next.op == op && reads ? &next : nullptr;
      };
      if (fuses_bias(node.op))
        if (const Node* add = follows("Add", node.outputs[0]); add != nullptr && add->inputs.size() == 2 &&
                                                                (g.is_constant(add->inputs[0]) || g.is_constant(add->inputs[1]))) {
          step.fused.bias_add = add;
          ++i;
        }
      if (fuses_relu(node.op))
        if (const Node* relu = follows("Relu", step.fused.output(node)); relu != nullptr && relu->inputs.size() == 1) {
          step.fused.relu = relu;
          ++i;
        }
      steps_.push_back(step);
    }
  }

  void build(const Graph& g, int batch) {
    Program& p = programs_[static_cast<std::size_t>(batch - 1)];
    ProgramBuilder b(s_, p, batch);
    for (const Step& step : steps_) {
      const Node& node = g.nodes[step.node];
      if (!s_.fallback_of_node.count(step.node) && lower(b, g, node, step.fused)) continue;
      // Unfused, one by one: oneDNN alone where it takes the node, else the cpu kernel.
      if (s_.fallback_of_node.count(step.node) || !lower(b, g, node)) b.fallback(fallback_for(g, step.node));
      for (const Node* next : {step.fused.bias_add, step.fused.relu})
        if (next != nullptr && (s_.fallback_of_node.count(index_of(g, *next)) || !lower(b, g, *next)))
          b.fallback(fallback_for(g, index_of(g, *next)));
    }
    for (std::size_t i = 0; i < outputs_of_.size(); ++i) {
      if (i < carried_outputs_) b.carry(outputs_of_[i]);
      else b.plain(outputs_of_[i]);
    }
  }

  static std::size_t index_of(const Graph& g, const Node& node) { return static_cast<std::size_t>(&node - g.nodes.data()); }

  std::size_t fallback_for(const Graph& g, std::size_t n) {
    if (const auto it = s_.fallback_of_node.find(n); it != s_.fallback_of_node.end()) return it->second;
    const Node& node = g.nodes[n];
    Fallback f;
    f.kernel = cpu::make_kernel(g, node, default_cpu_isa());
    for (const auto& input : node.inputs) {
      if (input.empty()) continue;
      if (const auto it = s_.value_of.find(input); it != s_.value_of.end()) {
        f.inputs.push_back(it->second);
        continue;
      }
      const Constant* c = g.find_constant(input);
      if (c == nullptr) detail::fail(g.source, node, fmt::format("reads '{}', which stage {} does not have", input, index_));
      f.inputs.push_back(kConstant + s_.constants.size());
      s_.constants.push_back(c->as_tensor());
    }
    f.output = s_.value_of.at(node.outputs[0]);
    f.args.resize(f.inputs.size(), nullptr);
    s_.fallbacks.push_back(std::move(f));
    s_.fallback_of_node.emplace(n, s_.fallbacks.size() - 1);
    return s_.fallbacks.size() - 1;
  }

  // One scratchpad for every call of every program (they never run at once), sized for the largest.
  void give_scratchpads() {
    std::size_t bytes = 0;
    for (const Program& p : programs_)
      for (const Call& c : p.calls) bytes = std::max(bytes, c.scratchpad.get_size());
    if (bytes == 0) return;
    scratchpad_ = std::make_unique<onednn::AlignedBuffer>(bytes);
    for (Program& p : programs_)
      for (Call& c : p.calls) {
        if (c.scratchpad.get_size() == 0) continue;
        p.memories.emplace_back(c.scratchpad, s_.engine, scratchpad_->data());
        c.args.push_back({DNNL_ARG_SCRATCHPAD, p.memories.back().get()});
      }
  }

  // What run() returns for value v: a stage input is the caller's tensor, as given; a carried output
  // its carry tensor.
  const Tensor* tensor(std::size_t v, std::span<const Tensor* const> inputs) const {
    const Value& value = s_.values[v];
    if (value.carried_out) return &value.carry;
    return value.input >= 0 ? inputs[static_cast<std::size_t>(value.input)] : &value.plain;
  }
  // What a fallback kernel reads: row-major, so a carried input's plain copy (ProgramBuilder::plain).
  const Tensor* plain_tensor(std::size_t v, std::span<const Tensor* const> inputs) const {
    if (v >= kConstant) return &s_.constants[v - kConstant];
    const Value& value = s_.values[v];
    return value.input >= 0 && !value.carried ? inputs[static_cast<std::size_t>(value.input)] : &value.plain;
  }

  std::int64_t check(std::span<const Tensor* const> inputs) const {
    return check_stage_inputs(
        inputs, input_shapes_.size(), [&](std::size_t k) -> const Shape& { return input_shapes_[k]; },
        [&](std::size_t k) -> const std::string& { return input_names_[k]; }, source_, index_, max_batch_);
  }

  struct Step {
    std::size_t node;
    Fused fused;  // nodes the node's primitive applies too
  };
  int max_batch_;
  int index_;
  int threads_;
  std::string source_;
  StageStorage s_;
  std::vector<Step> steps_;
  std::vector<Program> programs_;  // [batch - 1]
  std::int64_t sub_batch_ = 1;     // largest batch one program runs at once (choose_sub_batch)
  std::vector<std::int64_t> sample_elements_;  // per value, elements of one sample
  std::unique_ptr<AlignedBuffer> scratchpad_;
  dnnl::stream stream_;
  std::vector<Shape> input_shapes_;
  std::vector<std::string> input_names_;
  std::vector<std::size_t> outputs_of_;  // values returned by run(), in order: carried ones, then the exit
  std::size_t carried_outputs_ = 0;
  std::vector<const Tensor*> outputs_;
};

}  // namespace

std::unique_ptr<CompiledStage> make_stage(const Graph& graph, const StageInfo& stage, const CompileOptions& options,
                                          const OnednnBackendOptions& backend) {
  return std::make_unique<OnednnStage>(graph, stage, options, backend);
}

}  // namespace onednn
}  // namespace imprecise::nn
