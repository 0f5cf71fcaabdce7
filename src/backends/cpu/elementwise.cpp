// CPU kernels, elementwise: activations, broadcasting binary ops, global pooling, batch normalisation.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <span>
#include <utility>

#include <fmt/core.h>

#include "imprecise/error.hpp"
#include "kernel_util.hpp"

namespace imprecise::nn::cpu {

namespace {

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

}  // namespace

std::unique_ptr<Kernel> make_elementwise(const Graph& g, const Node& node) {
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
  if (op == "GlobalAveragePool" || op == "GlobalMaxPool") return std::make_unique<GlobalPoolKernel>(g, node);
  if (op == "BatchNormalization") return std::make_unique<BatchNormKernel>(g, node);
  return nullptr;
}

}  // namespace imprecise::nn::cpu
