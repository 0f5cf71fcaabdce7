// cuda operators on our own kernels: broadcasting binary ops, BatchNorm, global pooling, softmax, reduce, layout.
#include <cmath>

#include <fmt/core.h>

#include "cuda_handles.hpp"
#include "cuda_ops.hpp"
#include "elementwise.cuh"
#include "global_pool.cuh"
#include "op_shapes.hpp"
#include "pad.cuh"
#include "reduce.cuh"
#include "softmax.cuh"
#include "transpose.cuh"

namespace imprecise::nn::detail {

using ::imprecise::detail::CudaDims;
using ::imprecise::detail::DeviceBuffer;

Extent extent(const DeviceTensor& t, int batch) {
  Extent e;
  e.rank = static_cast<int>(t.shape.size());
  for (std::size_t i = 0; i < t.shape.size(); ++i) {
    e.dims.v[i] = (i == 0 && t.batched) ? batch : t.shape[i];
    e.count *= e.dims.v[i];
  }
  return e;
}

int to_int(std::int64_t v, const Graph& g, const Node& node) {
  if (v < 0 || v > 0x7fffffff) fail(g.source, node, fmt::format("dimension {} does not fit cuDNN's int", v));
  return static_cast<int>(v);
}

CudaDims contiguous_strides(const Extent& e) {
  CudaDims s{};
  std::int64_t stride = 1;
  for (int i = e.rank; i-- > 0;) {
    s.v[i] = stride;
    stride *= e.dims.v[i];
  }
  return s;
}

namespace {

std::int64_t product(const Shape& s, std::size_t from, std::size_t to) {
  std::int64_t p = 1;
  for (std::size_t i = from; i < to && i < s.size(); ++i) p *= s[i];
  return p;
}

// Strides of `x` broadcast to `out` (NumPy rules, aligned on the last axis; 0 on broadcast axes).
CudaDims broadcast_strides(const Extent& x, const Extent& out) {
  CudaDims s{};
  std::int64_t stride = 1;
  for (int i = out.rank; i-- > 0;) {
    const int from_end = out.rank - i;
    if (from_end > x.rank) {
      s.v[i] = 0;
      continue;
    }
    const std::int64_t d = x.dims.v[x.rank - from_end];
    s.v[i] = (d == 1 && out.dims.v[i] != 1) ? 0 : stride;
    stride *= d;
  }
  return s;
}

class BinaryOp final : public GpuOp {
 public:
  BinaryOp(::imprecise::detail::BinaryOp op, DeviceTensor a, DeviceTensor b, DeviceTensor out)
      : op_(op), a_(std::move(a)), b_(std::move(b)), out_(std::move(out)) {}
  void enqueue(int batch, cudaStream_t stream) override {
    const Extent o = extent(out_, batch);
    ::imprecise::detail::launch_binary(op_, a_.data, broadcast_strides(extent(a_, batch), o), b_.data,
                                       broadcast_strides(extent(b_, batch), o), out_.data, o.dims, o.rank, o.count,
                                       stream);
  }

 private:
  ::imprecise::detail::BinaryOp op_;
  DeviceTensor a_, b_, out_;
};

class BatchNormOp final : public GpuOp {
 public:
  BatchNormOp(const Graph& g, const Node& node, DeviceTensor x, DeviceTensor out) : x_(std::move(x)), out_(std::move(out)) {
    channels_ = x_.shape.at(1);
    inner_ = product(x_.shape, 2, x_.shape.size());
    const float eps = node.attr_float("epsilon", 1e-5f);
    const auto& gamma = g.find_constant(node.inputs[1])->floats;
    const auto& beta = g.find_constant(node.inputs[2])->floats;
    const auto& mean = g.find_constant(node.inputs[3])->floats;
    const auto& var = g.find_constant(node.inputs[4])->floats;
    std::vector<float> scale, shift;
    for (std::size_t c = 0; c < gamma.size(); ++c) {
      scale.push_back(gamma[c] / std::sqrt(var[c] + eps));
      shift.push_back(beta[c] - mean[c] * scale.back());
    }
    scale_ = ::imprecise::detail::upload(scale);
    shift_ = ::imprecise::detail::upload(shift);
  }
  void enqueue(int batch, cudaStream_t stream) override {
    ::imprecise::detail::launch_scale_shift(x_.data, scale_.get(), shift_.get(), out_.data,
                                            extent(x_, batch).count, channels_, inner_, stream);
  }

 private:
  DeviceTensor x_, out_;
  std::int64_t channels_ = 0, inner_ = 1;
  DeviceBuffer scale_, shift_;
};

class GlobalPoolOp final : public GpuOp {
 public:
  GlobalPoolOp(bool max, DeviceTensor x, DeviceTensor out) : max_(max), x_(std::move(x)), out_(std::move(out)) {}
  void enqueue(int batch, cudaStream_t stream) override {
    ::imprecise::detail::launch_global_pool(max_, x_.data, out_.data, batch * x_.shape.at(1),
                                            product(x_.shape, 2, x_.shape.size()), stream);
  }

 private:
  bool max_;
  DeviceTensor x_, out_;
};

class SoftmaxOp final : public GpuOp {
 public:
  SoftmaxOp(const Graph& g, const Node& node, DeviceTensor x, DeviceTensor out) : x_(std::move(x)), out_(std::move(out)) {
    axis_ = static_cast<int>(normalize_axis(node.attr_int("axis", -1), x_.shape.size(), g.source, node));
  }
  void enqueue(int batch, cudaStream_t stream) override {
    const Extent e = extent(x_, batch);
    std::int64_t outer = 1, inner = 1;
    for (int i = 0; i < axis_; ++i) outer *= e.dims.v[i];
    for (int i = axis_ + 1; i < e.rank; ++i) inner *= e.dims.v[i];
    ::imprecise::detail::launch_softmax(x_.data, out_.data, outer, e.dims.v[axis_], inner, stream);
  }

 private:
  DeviceTensor x_, out_;
  int axis_ = 0;
};

class ReduceOp final : public GpuOp {
 public:
  ReduceOp(const Graph& g, const Node& node, DeviceTensor x, DeviceTensor out)
      : max_(node.op == "ReduceMax"), x_(std::move(x)), out_(std::move(out)) {
    reduced_.assign(x_.shape.size(), false);
    for (const auto a : node.attr_ints("axes"))
      reduced_[static_cast<std::size_t>(normalize_axis(a, x_.shape.size(), g.source, node))] = true;
  }
  void enqueue(int batch, cudaStream_t stream) override {
    const Extent e = extent(x_, batch);
    const CudaDims strides = contiguous_strides(e);
    ::imprecise::detail::ReduceAxes axes{};
    std::int64_t out_count = 1, reduced_count = 1;
    for (int i = 0; i < e.rank; ++i) {
      if (reduced_[static_cast<std::size_t>(i)]) {
        axes.reduced_dims.v[axes.reduced] = e.dims.v[i];
        axes.reduced_strides.v[axes.reduced++] = strides.v[i];
        reduced_count *= e.dims.v[i];
      } else {
        axes.kept_dims.v[axes.kept] = e.dims.v[i];
        axes.kept_strides.v[axes.kept++] = strides.v[i];
        out_count *= e.dims.v[i];
      }
    }
    ::imprecise::detail::launch_reduce(max_, x_.data, axes, out_.data, out_count, reduced_count, stream);
  }

 private:
  bool max_;
  DeviceTensor x_, out_;
  std::vector<bool> reduced_;
};

class TransposeOp final : public GpuOp {
 public:
  TransposeOp(const Node& node, DeviceTensor x, DeviceTensor out) : x_(std::move(x)), out_(std::move(out)) {
    std::vector<std::int64_t> reversed(x_.shape.size());
    for (std::size_t i = 0; i < reversed.size(); ++i) reversed[i] = static_cast<std::int64_t>(reversed.size() - 1 - i);
    perm_ = node.attr_ints("perm", reversed);
  }
  void enqueue(int batch, cudaStream_t stream) override {
    const CudaDims in_strides = contiguous_strides(extent(x_, batch));
    const Extent o = extent(out_, batch);
    CudaDims steps{};
    for (int i = 0; i < o.rank; ++i) steps.v[i] = in_strides.v[perm_[static_cast<std::size_t>(i)]];
    ::imprecise::detail::launch_transpose(x_.data, steps, out_.data, o.dims, o.rank, o.count, stream);
  }

 private:
  DeviceTensor x_, out_;
  std::vector<std::int64_t> perm_;
};

// Concat needs no kernel: each input is one strided 2-D copy into its columns of the output.
class ConcatOp final : public GpuOp {
 public:
  ConcatOp(const Graph& g, const Node& node, std::vector<DeviceTensor> in, DeviceTensor out)
      : in_(std::move(in)), out_(std::move(out)) {
    axis_ = static_cast<int>(normalize_axis(node.attr_int("axis", 0), out_.shape.size(), g.source, node));
  }
  void enqueue(int batch, cudaStream_t stream) override {
    const Extent o = extent(out_, batch);
    std::int64_t outer = 1, inner = 1;
    for (int i = 0; i < axis_; ++i) outer *= o.dims.v[i];
    for (int i = axis_ + 1; i < o.rank; ++i) inner *= o.dims.v[i];
    const auto row = static_cast<std::size_t>(o.dims.v[axis_] * inner) * sizeof(float);
    std::size_t column = 0;
    for (const DeviceTensor& t : in_) {
      const auto chunk = static_cast<std::size_t>(extent(t, batch).dims.v[axis_] * inner) * sizeof(float);
      if (chunk > 0)
        IMPRECISE_CUDA_CHECK(cudaMemcpy2DAsync(reinterpret_cast<char*>(out_.data) + column, row, t.data, chunk, chunk,
                                               static_cast<std::size_t>(outer), cudaMemcpyDeviceToDevice, stream));
      column += chunk;
    }
  }

 private:
  std::vector<DeviceTensor> in_;
  DeviceTensor out_;
  int axis_ = 0;
};

class PadOp final : public GpuOp {
 public:
  PadOp(const Graph& g, const Node& node, DeviceTensor x, DeviceTensor out) : x_(std::move(x)), out_(std::move(out)) {
    const auto& pads = g.find_constant(node.inputs[1])->ints;
    if (pads.size() != 2 * x_.shape.size()) fail(g.source, node, "pads must hold two values per axis");
    for (std::size_t i = 0; i < x_.shape.size(); ++i) begin_.v[i] = pads[i];
    if (node.inputs.size() > 2 && !node.inputs[2].empty()) value_ = g.find_constant(node.inputs[2])->as_tensor()[0];
  }
  void enqueue(int batch, cudaStream_t stream) override {
    const Extent x = extent(x_, batch), o = extent(out_, batch);
    ::imprecise::detail::launch_pad(x_.data, x.dims, begin_, out_.data, o.dims, o.rank, o.count, value_, stream);
  }

 private:
  DeviceTensor x_, out_;
  CudaDims begin_{};
  float value_ = 0.0f;
};

}  // namespace

std::unique_ptr<GpuOp> make_basic_op(const Graph& g, const Node& node, std::vector<DeviceTensor> in, DeviceTensor out,
                                     StageContext& /*ctx*/) {
  using Kind = ::imprecise::detail::BinaryOp;
  const std::string& op = node.op;
  if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") {
    const Kind kind = op == "Add" ? Kind::add : op == "Sub" ? Kind::sub : op == "Mul" ? Kind::mul : Kind::div;
    return std::make_unique<BinaryOp>(kind, in.at(0), in.at(1), std::move(out));
  }
  if (op == "BatchNormalization") return std::make_unique<BatchNormOp>(g, node, in.at(0), std::move(out));
  if (op == "GlobalAveragePool" || op == "GlobalMaxPool")
    return std::make_unique<GlobalPoolOp>(op == "GlobalMaxPool", in.at(0), std::move(out));
  if (op == "Softmax") return std::make_unique<SoftmaxOp>(g, node, in.at(0), std::move(out));
  if (op == "ReduceMax" || op == "ReduceMean") return std::make_unique<ReduceOp>(g, node, in.at(0), std::move(out));
  if (op == "Transpose") return std::make_unique<TransposeOp>(node, in.at(0), std::move(out));
  if (op == "Concat") return std::make_unique<ConcatOp>(g, node, std::move(in), std::move(out));
  if (op == "Pad") return std::make_unique<PadOp>(g, node, in.at(0), std::move(out));
  fail(g.source, node, fmt::format("operator '{}' is not supported by the cuda backend", op));
}

std::unique_ptr<GpuOp> make_gpu_op(const Graph& g, const Node& node, std::vector<DeviceTensor> in, DeviceTensor out,
                                   StageContext& ctx) {
  const std::string& op = node.op;
  if (op == "Conv") return make_conv_op(g, node, std::move(in), std::move(out), ctx);
  if (op == "MaxPool" || op == "AveragePool") return make_pool_op(g, node, std::move(in), std::move(out), ctx);
  if (op == "Relu" || op == "Sigmoid" || op == "Tanh")
    return make_activation_op(g, node, std::move(in), std::move(out), ctx);
  if (auto activation = make_unary_activation_op(g, node, in, out)) return activation;
  if (op == "Gemm") return make_gemm_op(g, node, std::move(in), std::move(out), ctx);
  if (op == "MatMul") return make_matmul_op(g, node, std::move(in), std::move(out), ctx);
  return make_basic_op(g, node, std::move(in), std::move(out), ctx);
}

}  // namespace imprecise::nn::detail
