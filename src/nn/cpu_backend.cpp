// CPU backend: one kernel per operator (Eigen GEMM; convolutions and pooling in cpu/), a stage = kernels over preallocated buffers.
#include "imprecise/nn/cpu_backend.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <span>
#include <utility>

#include <Eigen/Core>
#include <fmt/core.h>

#include "imprecise/error.hpp"
#include "cpu/kernel.hpp"
#include "op_shapes.hpp"

namespace imprecise::nn {

namespace {

using detail::fail;
using detail::kMaxRank;
using cpu::Index;
using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatMap = Eigen::Map<RowMatrix>;
using ConstMatMap = Eigen::Map<const RowMatrix>;
using Dims = std::array<Index, kMaxRank>;

using cpu::Kernel;

Index product(const Shape& s, std::size_t from, std::size_t to) {
  Index p = 1;
  for (std::size_t i = from; i < to && i < s.size(); ++i) p *= s[i];
  return p;
}

// Strides of an operand of shape `dims` broadcast to a rank-`rank` output (0 on broadcast axes).
// Spans, not Shapes, so kernels can pass sub-ranges of a shape without building a vector per run.
void broadcast_strides(std::span<const Index> dims, std::span<const Index> out, Dims& strides) {
  const std::size_t rank = out.size();
  Index stride = 1;
  for (std::size_t i = rank; i-- > 0;) {
    const std::size_t off = rank - i;
    if (off > dims.size()) {
      strides[i] = 0;
      continue;
    }
    const Index d = dims[dims.size() - off];
    strides[i] = (d == 1 && out[i] != 1) ? 0 : stride;
    stride *= d;
  }
}

// ---- elementwise

class UnaryKernel final : public Kernel {
 public:
  enum class Op { relu, sigmoid, tanh, copy };
  explicit UnaryKernel(Op op) : op_(op) {}
  void run(std::span<const Tensor* const> in, Tensor& out) override {
    const auto n = static_cast<Eigen::Index>(out.size());
    Eigen::Map<const Eigen::ArrayXf> x(in[0]->data(), n);
    Eigen::Map<Eigen::ArrayXf> y(out.data(), n);
    switch (op_) {
      case Op::relu: y = x.max(0.0f); break;
      case Op::sigmoid: y = 1.0f / (1.0f + (-x).exp()); break;
      case Op::tanh: y = x.tanh(); break;
      case Op::copy: y = x; break;
    }
  }

 private:
  Op op_;
};

class BinaryKernel final : public Kernel {
 public:
  enum class Op { add, sub, mul, div };
  explicit BinaryKernel(Op op) : op_(op) {}
  void run(std::span<const Tensor* const> in, Tensor& out) override {
    const Tensor& a = *in[0];
    const Tensor& b = *in[1];
    const Shape& os = out.shape();
    if (a.shape() == os && b.shape() == os) {
      apply(a.data(), 1, b.data(), 1, out.data(), static_cast<Index>(out.size()));
      return;
    }
    Dims sa{}, sb{};
    broadcast_strides(a.shape(), os, sa);
    broadcast_strides(b.shape(), os, sb);
    const std::size_t rank = os.size();
    const Index inner = os[rank - 1];
    const Index outer = static_cast<Index>(out.size()) / std::max<Index>(inner, 1);
    Dims idx{};
    Index oa = 0, ob = 0;
    float* o = out.data();
    for (Index r = 0; r < outer; ++r) {
      apply(a.data() + oa, sa[rank - 1], b.data() + ob, sb[rank - 1], o + r * inner, inner);
      // Advance the counter over all axes but the last.
      for (std::size_t d = rank - 1; d-- > 0;) {
        ++idx[d];
        oa += sa[d];
        ob += sb[d];
        if (idx[d] < os[d]) break;
        oa -= sa[d] * idx[d];
        ob -= sb[d] * idx[d];
        idx[d] = 0;
      }
    }
  }

 private:
  void apply(const float* a, Index sa, const float* b, Index sb, float* o, Index n) const {
    switch (op_) {
      case Op::add: for (Index i = 0; i < n; ++i) o[i] = a[i * sa] + b[i * sb]; break;
      case Op::sub: for (Index i = 0; i < n; ++i) o[i] = a[i * sa] - b[i * sb]; break;
      case Op::mul: for (Index i = 0; i < n; ++i) o[i] = a[i * sa] * b[i * sb]; break;
      case Op::div: for (Index i = 0; i < n; ++i) o[i] = a[i * sa] / b[i * sb]; break;
    }
  }
  Op op_;
};

class GlobalPoolKernel final : public Kernel {
 public:
  GlobalPoolKernel(const Graph& g, const Node& node) : max_(node.op == "GlobalMaxPool") {
    const Shape& x = g.shapes.at(node.inputs[0]);
    spatial_ = product(x, 2, x.size());
  }
  void run(std::span<const Tensor* const> in, Tensor& out) override {
    const auto planes = static_cast<Index>(out.size());
    for (Index p = 0; p < planes; ++p) {
      Eigen::Map<const Eigen::ArrayXf> v(in[0]->data() + p * spatial_, spatial_);
      out[static_cast<std::size_t>(p)] = max_ ? v.maxCoeff() : v.mean();
    }
  }

 private:
  bool max_;
  Index spatial_ = 1;
};

class BatchNormKernel final : public Kernel {
 public:
  BatchNormKernel(const Graph& g, const Node& node) {
    const Shape& x = g.shapes.at(node.inputs[0]);
    channels_ = x[1];
    inner_ = product(x, 2, x.size());
    const float eps = node.attr_float("epsilon", 1e-5f);
    const auto& gamma = g.find_constant(node.inputs[1])->floats;
    const auto& beta = g.find_constant(node.inputs[2])->floats;
    const auto& mean = g.find_constant(node.inputs[3])->floats;
    const auto& var = g.find_constant(node.inputs[4])->floats;
    for (std::size_t c = 0; c < gamma.size(); ++c) {
      scale_.push_back(gamma[c] / std::sqrt(var[c] + eps));
      shift_.push_back(beta[c] - mean[c] * scale_.back());
    }
  }
  void run(std::span<const Tensor* const> in, Tensor& out) override {
    const Index planes = in[0]->batch() * channels_;
    for (Index p = 0; p < planes; ++p) {
      const auto c = static_cast<std::size_t>(p % channels_);
      Eigen::Map<const Eigen::ArrayXf> x(in[0]->data() + p * inner_, inner_);
      Eigen::Map<Eigen::ArrayXf>(out.data() + p * inner_, inner_) = x * scale_[c] + shift_[c];
    }
  }

 private:
  Index channels_ = 0, inner_ = 1;
  std::vector<float> scale_, shift_;
};

// ---- matrix products

class GemmKernel final : public Kernel {
 public:
  GemmKernel(const Graph& g, const Node& node) {
    const Constant& b = *g.find_constant(node.inputs[1]);
    const bool trans_b = node.attr_int("transB", 0) != 0;
    const float alpha = node.attr_float("alpha", 1.0f), beta = node.attr_float("beta", 1.0f);
    k_ = trans_b ? b.shape[1] : b.shape[0];
    n_ = trans_b ? b.shape[0] : b.shape[1];
    weights_ = RowMatrix(k_, n_);
    const ConstMatMap bm(b.floats.data(), b.shape[0], b.shape[1]);
    if (trans_b) weights_ = alpha * bm.transpose();
    else weights_ = alpha * bm;
    bias_ = Eigen::RowVectorXf::Zero(n_);
    if (node.inputs.size() > 2 && !node.inputs[2].empty()) {
      const auto& c = g.find_constant(node.inputs[2])->floats;
      for (Index j = 0; j < n_; ++j) bias_[j] = beta * (c.size() == 1 ? c[0] : c[static_cast<std::size_t>(j)]);
    }
  }
  void run(std::span<const Tensor* const> in, Tensor& out) override {
    const Index rows = in[0]->batch();
    MatMap o(out.data(), rows, n_);
    o.noalias() = ConstMatMap(in[0]->data(), rows, k_) * weights_;
    o.rowwise() += bias_;
  }

 private:
  Index k_ = 0, n_ = 0;
  RowMatrix weights_;
  Eigen::RowVectorXf bias_;
};

class MatMulKernel final : public Kernel {
 public:
  MatMulKernel(const Graph& g, const Node& node) {
    const Constant* b = g.find_constant(node.inputs[1]);
    const bool a_constant = g.is_constant(node.inputs[0]);
    const Shape bs = b ? b->shape : g.shapes.at(node.inputs[1]);
    const Shape as = a_constant ? g.find_constant(node.inputs[0])->shape : g.shapes.at(node.inputs[0]);
    k_ = as.back();
    n_ = bs.back();
    m_ = as[as.size() - 2];
    // x @ W with a constant matrix W: one GEMM over all rows of the batch.
    flat_ = b != nullptr && bs.size() == 2 && !a_constant;
  }
  void run(std::span<const Tensor* const> in, Tensor& out) override {
    const Tensor& a = *in[0];
    const Tensor& b = *in[1];
    if (flat_) {
      const Index rows = static_cast<Index>(a.size()) / k_;
      MatMap(out.data(), rows, n_).noalias() = ConstMatMap(a.data(), rows, k_) * ConstMatMap(b.data(), k_, n_);
      return;
    }
    const Shape& os = out.shape();
    const std::size_t rank = os.size();
    // Broadcast over the leading (batch) axes; each step is one (m x k) * (k x n) product. The
    // leading axes are views into the shapes: this runs per batch and must not allocate.
    const std::span<const Index> batch_out = std::span<const Index>(os).first(rank - 2);
    const std::span<const Index> as(a.shape()), bs(b.shape());
    Dims sa{}, sb{};
    broadcast_strides(as.first(as.size() - 2), batch_out, sa);
    broadcast_strides(bs.first(bs.size() - 2), batch_out, sb);
    Index steps = 1;
    for (const Index d : batch_out) steps *= d;
    Dims idx{};
    Index oa = 0, ob = 0;
    for (Index s = 0; s < steps; ++s) {
      MatMap(out.data() + s * m_ * n_, m_, n_).noalias() =
          ConstMatMap(a.data() + oa * m_ * k_, m_, k_) * ConstMatMap(b.data() + ob * k_ * n_, k_, n_);
      for (std::size_t d = rank - 2; d-- > 0;) {
        ++idx[d];
        oa += sa[d];
        ob += sb[d];
        if (idx[d] < batch_out[d]) break;
        oa -= sa[d] * idx[d];
        ob -= sb[d] * idx[d];
        idx[d] = 0;
      }
    }
  }

 private:
  Index m_ = 0, k_ = 0, n_ = 0;
  bool flat_ = false;
};

// ---- layout

class TransposeKernel final : public Kernel {
 public:
  TransposeKernel(const Graph& g, const Node& node) {
    const Shape& x = g.shapes.at(node.inputs[0]);
    std::vector<Index> perm(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) perm[i] = static_cast<Index>(x.size() - 1 - i);
    perm_ = node.attr_ints("perm", perm);
  }
  void run(std::span<const Tensor* const> in, Tensor& out) override {
    const Shape& xs = in[0]->shape();
    const Shape& os = out.shape();
    const std::size_t rank = os.size();
    Dims in_strides{}, step{};
    Index stride = 1;
    for (std::size_t i = rank; i-- > 0;) {
      in_strides[i] = stride;
      stride *= xs[i];
    }
    for (std::size_t i = 0; i < rank; ++i) step[i] = in_strides[static_cast<std::size_t>(perm_[i])];
    Dims idx{};
    Index off = 0;
    const float* x = in[0]->data();
    for (std::size_t e = 0; e < out.size(); ++e) {
      out[e] = x[off];
      for (std::size_t d = rank; d-- > 0;) {
        ++idx[d];
        off += step[d];
        if (idx[d] < os[d]) break;
        off -= step[d] * idx[d];
        idx[d] = 0;
      }
    }
  }

 private:
  std::vector<Index> perm_;
};

class ConcatKernel final : public Kernel {
 public:
  ConcatKernel(const Graph& g, const Node& node) {
    const Shape& s = g.shapes.at(node.outputs[0]);
    axis_ = static_cast<std::size_t>(detail::normalize_axis(node.attr_int("axis", 0), s.size(), g.source, node));
  }
  void run(std::span<const Tensor* const> in, Tensor& out) override {
    const Shape& os = out.shape();
    const Index outer = product(os, 0, axis_), inner = product(os, axis_ + 1, os.size());
    float* o = out.data();
    for (Index r = 0; r < outer; ++r) {
      for (const Tensor* t : in) {
        const Index chunk = t->shape()[axis_] * inner;
        std::memcpy(o, t->data() + r * chunk, static_cast<std::size_t>(chunk) * sizeof(float));
        o += chunk;
      }
    }
  }

 private:
  std::size_t axis_ = 0;
};

class PadKernel final : public Kernel {
 public:
  PadKernel(const Graph& g, const Node& node) {
    pads_ = g.find_constant(node.inputs[1])->ints;
    if (node.inputs.size() > 2 && !node.inputs[2].empty()) value_ = g.find_constant(node.inputs[2])->as_tensor()[0];
  }
  void run(std::span<const Tensor* const> in, Tensor& out) override {
    const Shape& xs = in[0]->shape();
    const Shape& os = out.shape();
    const std::size_t rank = xs.size();
    std::fill(out.values().begin(), out.values().end(), value_);
    Dims out_strides{};
    Index stride = 1;
    for (std::size_t i = rank; i-- > 0;) {
      out_strides[i] = stride;
      stride *= os[i];
    }
    // Copy the input row by row (rows = runs along the last axis) to its place inside the padding.
    Index base = 0;
    for (std::size_t i = 0; i < rank; ++i) base += pads_[i] * out_strides[i];
    const Index inner = xs[rank - 1];
    const Index rows = static_cast<Index>(in[0]->size()) / std::max<Index>(inner, 1);
    Dims idx{};
    Index off = base;
    for (Index r = 0; r < rows; ++r) {
      std::copy(in[0]->data() + r * inner, in[0]->data() + (r + 1) * inner, out.data() + off);
      for (std::size_t d = rank - 1; d-- > 0;) {
        ++idx[d];
        off += out_strides[d];
        if (idx[d] < xs[d]) break;
        off -= out_strides[d] * idx[d];
        idx[d] = 0;
      }
    }
  }

 private:
  std::vector<std::int64_t> pads_;
  float value_ = 0.0f;
};

class SoftmaxKernel final : public Kernel {
 public:
  SoftmaxKernel(const Graph& g, const Node& node) {
    const Shape& s = g.shapes.at(node.inputs[0]);
    axis_ = static_cast<std::size_t>(detail::normalize_axis(node.attr_int("axis", -1), s.size(), g.source, node));
  }
  void run(std::span<const Tensor* const> in, Tensor& out) override {
    const Shape& s = out.shape();
    const Index outer = product(s, 0, axis_), n = s[axis_], inner = product(s, axis_ + 1, s.size());
    const float* x = in[0]->data();
    float* o = out.data();
    for (Index r = 0; r < outer; ++r) {
      for (Index j = 0; j < inner; ++j) {
        const Index base = r * n * inner + j;
        float top = -std::numeric_limits<float>::infinity();
        for (Index i = 0; i < n; ++i) top = std::max(top, x[base + i * inner]);
        float sum = 0.0f;
        for (Index i = 0; i < n; ++i) sum += (o[base + i * inner] = std::exp(x[base + i * inner] - top));
        for (Index i = 0; i < n; ++i) o[base + i * inner] /= sum;
      }
    }
  }

 private:
  std::size_t axis_ = 0;
};

class ReduceKernel final : public Kernel {
 public:
  ReduceKernel(const Graph& g, const Node& node) : max_(node.op == "ReduceMax") {
    const Shape& x = g.shapes.at(node.inputs[0]);
    reduced_.assign(x.size(), false);
    for (const auto a : node.attr_ints("axes"))
      reduced_[static_cast<std::size_t>(detail::normalize_axis(a, x.size(), g.source, node))] = true;
    count_ = 1;
    for (std::size_t i = 0; i < x.size(); ++i)
      if (reduced_[i]) count_ *= x[i];
  }
  void run(std::span<const Tensor* const> in, Tensor& out) override {
    const Shape& xs = in[0]->shape();
    const std::size_t rank = xs.size();
    Dims step{};
    Index stride = 1;
    for (std::size_t i = rank; i-- > 0;) {
      step[i] = reduced_[i] ? 0 : stride;
      if (!reduced_[i]) stride *= xs[i];
    }
    std::fill(out.values().begin(), out.values().end(), max_ ? -std::numeric_limits<float>::infinity() : 0.0f);
    Dims idx{};
    Index off = 0;
    const float* x = in[0]->data();
    for (std::size_t e = 0; e < in[0]->size(); ++e) {
      float& o = out[static_cast<std::size_t>(off)];
      o = max_ ? std::max(o, x[e]) : o + x[e];
      for (std::size_t d = rank; d-- > 0;) {
        ++idx[d];
        off += step[d];
        if (idx[d] < xs[d]) break;
        off -= step[d] * idx[d];
        idx[d] = 0;
      }
    }
    if (!max_)
      for (auto& v : out.values()) v /= static_cast<float>(count_);
  }

 private:
  bool max_;
  std::vector<bool> reduced_;
  Index count_ = 1;
};

std::unique_ptr<Kernel> make_kernel(const Graph& g, const Node& node) {
  const std::string& op = node.op;
  if (op == "Relu") return std::make_unique<UnaryKernel>(UnaryKernel::Op::relu);
  if (op == "Sigmoid") return std::make_unique<UnaryKernel>(UnaryKernel::Op::sigmoid);
  if (op == "Tanh") return std::make_unique<UnaryKernel>(UnaryKernel::Op::tanh);
  if (op == "Identity" || op == "Reshape" || op == "Flatten" || op == "Squeeze" || op == "Unsqueeze")
    return std::make_unique<UnaryKernel>(UnaryKernel::Op::copy);
  if (op == "Add") return std::make_unique<BinaryKernel>(BinaryKernel::Op::add);
  if (op == "Sub") return std::make_unique<BinaryKernel>(BinaryKernel::Op::sub);
  if (op == "Mul") return std::make_unique<BinaryKernel>(BinaryKernel::Op::mul);
  if (op == "Div") return std::make_unique<BinaryKernel>(BinaryKernel::Op::div);
  if (op == "Conv") return cpu::make_conv(g, node, false);
  if (op == "MaxPool" || op == "AveragePool") return cpu::make_pool(g, node);
  if (op == "GlobalAveragePool" || op == "GlobalMaxPool") return std::make_unique<GlobalPoolKernel>(g, node);
  if (op == "BatchNormalization") return std::make_unique<BatchNormKernel>(g, node);
  if (op == "Gemm") return std::make_unique<GemmKernel>(g, node);
  if (op == "MatMul") return std::make_unique<MatMulKernel>(g, node);
  if (op == "Transpose") return std::make_unique<TransposeKernel>(g, node);
  if (op == "Concat") return std::make_unique<ConcatKernel>(g, node);
  if (op == "Pad") return std::make_unique<PadKernel>(g, node);
  if (op == "Softmax") return std::make_unique<SoftmaxKernel>(g, node);
  if (op == "ReduceMax" || op == "ReduceMean") return std::make_unique<ReduceKernel>(g, node);
  fail(g.source, node, fmt::format("operator '{}' is not supported by the cpu backend", op));
}

// ---- a compiled stage: kernels in order over a table of tensor slots

class CpuStage final : public CompiledStage {
 public:
  CpuStage(const Graph& g, const StageInfo& stage, const CompileOptions& options)
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
          add_step(g, stage, node, cpu::make_conv(g, node, true), slot);
          slot[next.outputs[0]] = slot.at(node.outputs[0]);  // the Relu's output is the Conv's buffer
          ++i;
          continue;
        }
      }
      add_step(g, stage, node, make_kernel(g, node), slot);
    }
    for (const auto& t : stage.carried_out) outputs_.push_back(table_.at(slot.at(t.name)));
    outputs_.push_back(table_.at(slot.at(stage.exit.name)));
  }

  int max_batch() const override { return max_batch_; }

  std::span<const Tensor* const> run(std::span<const Tensor* const> inputs) override {
    if (inputs.size() != input_shapes_.size())
      throw Error(fmt::format("{}: stage {} takes {} inputs, given {}", source_, index_, input_shapes_.size(), inputs.size()));
    Index batch = -1;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      const Shape& want = input_shapes_[i];
      const Shape& have = inputs[i]->shape();
      bool ok = have.size() == want.size() && inputs[i]->size() == element_count(have);
      for (std::size_t d = 1; ok && d < want.size(); ++d) ok = have[d] == want[d];
      if (!ok)
        throw Error(fmt::format("{}: stage {}: input '{}' has shape {}, expected {}", source_, index_, input_names_[i],
                                to_string(have), to_string(want)));
      if (batch >= 0 && have[0] != batch)
        throw Error(fmt::format("{}: stage {}: inputs disagree on the batch size ({} and {})", source_, index_, batch,
                                have[0]));
      batch = have[0];
      table_[i] = inputs[i];
    }
    if (batch < 1 || batch > max_batch_)
      throw Error(fmt::format("{}: stage {}: batch {} outside [1, {}]", source_, index_, batch, max_batch_));
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

std::unique_ptr<CompiledStage> CpuBackend::compile(const Graph& graph, const StageInfo& stage,
                                                   const CompileOptions& options) const {
  return std::make_unique<CpuStage>(graph, stage, options);
}

}  // namespace imprecise::nn
