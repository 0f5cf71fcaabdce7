// CPU kernels, parameterised activations: Clip, LeakyRelu, HardSigmoid, HardSwish, Gelu (erf or tanh), Erf.
#include <cmath>
#include <span>

#include "kernel_util.hpp"

namespace imprecise::nn::cpu {

namespace {

class ActivationKernel final : public Kernel {
 public:
  enum class Op { clip, leaky_relu, hard_sigmoid, hard_swish, gelu, gelu_tanh, erf };
  ActivationKernel(Op op, float a, float b) : op_(op), a_(a), b_(b) {}
  void run(std::span<const Tensor* const> in, Tensor& out) override {
    const auto n = static_cast<Eigen::Index>(out.size());
    Eigen::Map<const Eigen::ArrayXf> x(in[0]->data(), n);
    Eigen::Map<Eigen::ArrayXf> y(out.data(), n);
    switch (op_) {
      // max then min: with a > b every value becomes b, as ONNX specifies.
      case Op::clip:
        y = x.max(a_).min(b_);
        break;
      case Op::leaky_relu:
        y = (x >= 0.0f).select(x, a_ * x);
        break;
      case Op::hard_sigmoid:
        y = (a_ * x + b_).max(0.0f).min(1.0f);
        break;
      case Op::hard_swish:
        y = x * (x * (1.0f / 6.0f) + 0.5f).max(0.0f).min(1.0f);
        break;
      // Eigen's erf is vectorised only for some ISAs; std::erf is exact to a few ulp everywhere.
      case Op::gelu:
        for (Eigen::Index i = 0; i < n; ++i) y[i] = 0.5f * x[i] * (1.0f + std::erf(x[i] * 0.70710678118654752f));
        break;
      case Op::gelu_tanh: {
        constexpr float k = 0.79788456080286536f;  // sqrt(2 / pi)
        y = 0.5f * x * (1.0f + (k * (x + 0.044715f * x * x * x)).tanh());
        break;
      }
      case Op::erf:
        for (Eigen::Index i = 0; i < n; ++i) y[i] = std::erf(x[i]);
        break;
    }
  }

 private:
  Op op_;
  float a_, b_;
};

}  // namespace

std::unique_ptr<Kernel> make_activation(const Graph& g, const Node& node) {
  using Op = ActivationKernel::Op;
  const std::string& op = node.op;
  if (op == "Clip") {
    std::vector<const Constant*> constants;
    for (const auto& input : node.inputs) constants.push_back(input.empty() ? nullptr : g.find_constant(input));
    const detail::ClipBounds b = detail::clip_bounds(node, constants, g.source);
    return std::make_unique<ActivationKernel>(Op::clip, b.lo, b.hi);
  }
  if (op == "LeakyRelu")
    return std::make_unique<ActivationKernel>(Op::leaky_relu, node.attr_float("alpha", 0.01f), 0.0f);
  if (op == "HardSigmoid")
    return std::make_unique<ActivationKernel>(Op::hard_sigmoid, node.attr_float("alpha", 0.2f),
                                              node.attr_float("beta", 0.5f));
  if (op == "HardSwish") return std::make_unique<ActivationKernel>(Op::hard_swish, 0.0f, 0.0f);
  if (op == "Gelu")
    return std::make_unique<ActivationKernel>(
        node.attr_string("approximate", "none") == "tanh" ? Op::gelu_tanh : Op::gelu, 0.0f, 0.0f);
  if (op == "Erf") return std::make_unique<ActivationKernel>(Op::erf, 0.0f, 0.0f);
  return nullptr;
}

}  // namespace imprecise::nn::cpu
