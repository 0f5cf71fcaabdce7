// cuda operators for the activations cuDNN has no mode for: Clip, LeakyRelu, HardSigmoid, HardSwish, Gelu, Erf.
#include "cuda_ops.hpp"
#include "elementwise.cuh"
#include "op_shapes.hpp"

namespace imprecise::nn::detail {

namespace {

using Kind = ::imprecise::detail::UnaryOp;

class UnaryActivationOp final : public GpuOp {
 public:
  UnaryActivationOp(Kind kind, float a, float b, DeviceTensor x, DeviceTensor out)
      : kind_(kind), a_(a), b_(b), x_(std::move(x)), out_(std::move(out)) {}
  void enqueue(int batch, cudaStream_t stream) override {
    ::imprecise::detail::launch_unary(kind_, a_, b_, x_.data, out_.data, extent(out_, batch).count, stream);
  }

 private:
  Kind kind_;
  float a_, b_;
  DeviceTensor x_, out_;
};

}  // namespace

std::unique_ptr<GpuOp> make_unary_activation_op(const Graph& g, const Node& node, const std::vector<DeviceTensor>& in,
                                                const DeviceTensor& out) {
  const std::string& op = node.op;
  float a = 0.0f, b = 0.0f;
  Kind kind = Kind::erf;
  if (op == "Clip") {
    std::vector<const Constant*> constants;
    for (const auto& input : node.inputs) constants.push_back(input.empty() ? nullptr : g.find_constant(input));
    const ClipBounds bounds = clip_bounds(node, constants, g.source);
    kind = Kind::clip;
    a = bounds.lo;
    b = bounds.hi;
  } else if (op == "LeakyRelu") {
    kind = Kind::leaky_relu;
    a = node.attr_float("alpha", 0.01f);
  } else if (op == "HardSigmoid") {
    kind = Kind::hard_sigmoid;
    a = node.attr_float("alpha", 0.2f);
    b = node.attr_float("beta", 0.5f);
  } else if (op == "HardSwish") {
    kind = Kind::hard_swish;
  } else if (op == "Gelu") {
    kind = node.attr_string("approximate", "none") == "tanh" ? Kind::gelu_tanh : Kind::gelu;
  } else if (op != "Erf") {
    return nullptr;
  }
  if (in.empty() || !in[0].batched) fail(g.source, node, "its input is not an activation of the batch");
  return std::make_unique<UnaryActivationOp>(kind, a, b, in[0], out);
}

}  // namespace imprecise::nn::detail
