// cuda operators on the vendor libraries: pooling and activations on cuDNN, Gemm/MatMul on cuBLAS.
#include <array>

#include "cuda_handles.hpp"
#include "cuda_ops.hpp"
#include "elementwise.cuh"
#include "op_shapes.hpp"
#include "pool.cuh"

namespace imprecise::nn::detail {
namespace {

using ::imprecise::detail::ActivationDesc;
using ::imprecise::detail::CudaDims;
using ::imprecise::detail::DeviceBuffer;
using ::imprecise::detail::make_tensor_desc;
using ::imprecise::detail::PoolDesc;
using ::imprecise::detail::TensorDesc;

// ---- pooling: cuDNN where its semantics are ONNX's (symmetric pads, no dilation, floor-mode
// output), our pool kernel for the rest (ceil_mode windows past the padding, asymmetric pads).

class PoolOp final : public GpuOp {
 public:
  PoolOp(const Graph& g, const Node& node, DeviceTensor x, DeviceTensor out, StageContext& ctx)
      : ctx_(ctx), x_(std::move(x)), y_(std::move(out)) {
    max_ = node.op == "MaxPool";
    include_pad_ = node.attr_int("count_include_pad", 0) != 0;
    const Window w = window(node, x_.shape, node.attr_ints("kernel_shape"), node.attr_int("ceil_mode", 0) != 0, g.source);
    geometry_ = {w.height,   w.width,      w.out_height, w.out_width,  w.kernel_h, w.kernel_w,    w.stride_h,
                 w.stride_w, w.dilation_h, w.dilation_w, w.pad_top,    w.pad_left, w.pad_bottom, w.pad_right};
    channels_ = w.channels;
    const bool symmetric = w.pad_top == w.pad_bottom && w.pad_left == w.pad_right && w.pad_top < w.kernel_h &&
                           w.pad_left < w.kernel_w;
    if (!symmetric || w.dilation_h != 1 || w.dilation_w != 1) return;
    cudnnPoolingDescriptor_t p = nullptr;
    IMPRECISE_CUDNN_CHECK(cudnnCreatePoolingDescriptor(&p));
    PoolDesc pool(p);
    const cudnnPoolingMode_t mode = max_ ? CUDNN_POOLING_MAX
                                    : include_pad_ ? CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING
                                                   : CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING;
    IMPRECISE_CUDNN_CHECK(cudnnSetPooling2dDescriptor(p, mode, CUDNN_NOT_PROPAGATE_NAN, to_int(w.kernel_h, g, node),
                                                      to_int(w.kernel_w, g, node), to_int(w.pad_top, g, node),
                                                      to_int(w.pad_left, g, node), to_int(w.stride_h, g, node),
                                                      to_int(w.stride_w, g, node)));
    std::vector<TensorDesc> xs, ys;
    for (int b = 1; b <= ctx.max_batch; ++b) {
      xs.push_back(make_tensor_desc(b, to_int(w.channels, g, node), to_int(w.height, g, node), to_int(w.width, g, node)));
      std::array<int, 4> dims{};
      IMPRECISE_CUDNN_CHECK(cudnnGetPooling2dForwardOutputDim(p, xs.back().get(), &dims[0], &dims[1], &dims[2], &dims[3]));
      // A ceil_mode window that starts inside the input but ends past the padding: not cuDNN's.
      if (dims[2] != w.out_height || dims[3] != w.out_width) return;
      ys.push_back(make_tensor_desc(b, to_int(w.channels, g, node), dims[2], dims[3]));
    }
    pool_ = std::move(pool);
    x_descs_ = std::move(xs);
    y_descs_ = std::move(ys);
  }

  void enqueue(int batch, cudaStream_t stream) override {
    if (pool_) {
      const auto b = static_cast<std::size_t>(batch - 1);
      IMPRECISE_CUDNN_CHECK(cudnnPoolingForward(ctx_.cudnn, pool_.get(), &kOne, x_descs_[b].get(), x_.data, &kZero,
                                                y_descs_[b].get(), y_.data));
      return;
    }
    ::imprecise::detail::launch_pool(max_, include_pad_, x_.data, y_.data, batch * channels_, geometry_, stream);
  }

 private:
  StageContext& ctx_;
  DeviceTensor x_, y_;
  bool max_ = false, include_pad_ = false;
  std::int64_t channels_ = 0;
  ::imprecise::detail::PoolGeometry geometry_{};
  PoolDesc pool_;  // empty: our kernel runs
  std::vector<TensorDesc> x_descs_, y_descs_;
};

// ---- activations: cuDNN over the tensor viewed flat

class ActivationOp final : public GpuOp {
 public:
  ActivationOp(const Graph& g, const Node& node, DeviceTensor x, DeviceTensor out, StageContext& ctx)
      : ctx_(ctx), x_(std::move(x)), y_(std::move(out)) {
    const cudnnActivationMode_t mode = node.op == "Relu"      ? CUDNN_ACTIVATION_RELU
                                       : node.op == "Sigmoid" ? CUDNN_ACTIVATION_SIGMOID
                                                              : CUDNN_ACTIVATION_TANH;
    cudnnActivationDescriptor_t a = nullptr;
    IMPRECISE_CUDNN_CHECK(cudnnCreateActivationDescriptor(&a));
    activation_ = ActivationDesc(a);
    IMPRECISE_CUDNN_CHECK(cudnnSetActivationDescriptor(a, mode, CUDNN_NOT_PROPAGATE_NAN, 0.0));
    for (int b = 1; b <= ctx.max_batch; ++b)
      descs_.push_back(make_tensor_desc(1, 1, 1, to_int(extent(x_, b).count, g, node)));
  }
  void enqueue(int batch, cudaStream_t /*stream*/) override {
    const TensorDesc& d = descs_[static_cast<std::size_t>(batch - 1)];
    IMPRECISE_CUDNN_CHECK(cudnnActivationForward(ctx_.cudnn, activation_.get(), &kOne, d.get(), x_.data, &kZero, d.get(),
                                                 y_.data));
  }

 private:
  StageContext& ctx_;
  DeviceTensor x_, y_;
  ActivationDesc activation_;
  std::vector<TensorDesc> descs_;
};

// ---- matrix products on cuBLAS. cuBLAS is column-major: a row-major C = A B is the column-major
// C^T = B^T A^T, so every call passes B first and swaps m and n.

void row_major_gemm(cublasHandle_t h, const float* a, const float* b, float* c, std::int64_t m, std::int64_t k,
                    std::int64_t n) {
  IMPRECISE_CUBLAS_CHECK(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, static_cast<int>(n), static_cast<int>(m),
                                     static_cast<int>(k), &kOne, b, static_cast<int>(n), a, static_cast<int>(k), &kZero,
                                     c, static_cast<int>(n)));
}

class GemmOp final : public GpuOp {
 public:
  GemmOp(const Graph& g, const Node& node, DeviceTensor x, DeviceTensor out, StageContext& ctx)
      : ctx_(ctx), x_(std::move(x)), y_(std::move(out)) {
    const Constant* b = g.find_constant(node.inputs[1]);
    if (!b) fail(g.source, node, "the cuda backend needs a constant B");
    if (node.attr_int("transA", 0) != 0) fail(g.source, node, "transA is not supported");
    const bool trans_b = node.attr_int("transB", 0) != 0;
    const float alpha = node.attr_float("alpha", 1.0f), beta = node.attr_float("beta", 1.0f);
    k_ = trans_b ? b->shape[1] : b->shape[0];
    n_ = trans_b ? b->shape[0] : b->shape[1];
    // Folded once at load into a row-major [k, n] matrix: alpha * B (or B^T).
    std::vector<float> w(static_cast<std::size_t>(k_ * n_));
    for (std::int64_t i = 0; i < k_; ++i)
      for (std::int64_t j = 0; j < n_; ++j)
        w[static_cast<std::size_t>(i * n_ + j)] =
            alpha * b->floats[static_cast<std::size_t>(trans_b ? j * k_ + i : i * n_ + j)];
    weights_ = ::imprecise::detail::upload(w);
    if (node.inputs.size() > 2 && !node.inputs[2].empty()) {
      const Constant* c = g.find_constant(node.inputs[2]);
      if (!c) fail(g.source, node, "the cuda backend needs a constant C");
      std::vector<float> bias(static_cast<std::size_t>(n_));
      for (std::int64_t j = 0; j < n_; ++j)
        bias[static_cast<std::size_t>(j)] = beta * (c->floats.size() == 1 ? c->floats[0] : c->floats[static_cast<std::size_t>(j)]);
      bias_ = ::imprecise::detail::upload(bias);
    }
  }
  void enqueue(int batch, cudaStream_t stream) override {
    row_major_gemm(ctx_.cublas, x_.data, weights_.get(), y_.data, batch, k_, n_);
    if (bias_.size() > 0) ::imprecise::detail::launch_add_row_bias(y_.data, bias_.get(), batch, n_, stream);
  }

 private:
  StageContext& ctx_;
  DeviceTensor x_, y_;
  std::int64_t k_ = 0, n_ = 0;
  DeviceBuffer weights_, bias_;
};

class MatMulOp final : public GpuOp {
 public:
  MatMulOp(DeviceTensor a, DeviceTensor b, DeviceTensor out, StageContext& ctx)
      : ctx_(ctx), a_(std::move(a)), b_(std::move(b)), y_(std::move(out)) {
    k_ = a_.shape.back();
    n_ = b_.shape.back();
    m_ = a_.shape[a_.shape.size() - 2];
    // x @ W with a constant matrix W: one GEMM over all rows of the batch.
    flat_ = !b_.batched && b_.shape.size() == 2 && a_.batched;
  }
  void enqueue(int batch, cudaStream_t /*stream*/) override {
    const Extent a = extent(a_, batch), b = extent(b_, batch), o = extent(y_, batch);
    if (flat_) {
      row_major_gemm(ctx_.cublas, a_.data, b_.data, y_.data, a.count / k_, k_, n_);
      return;
    }
    // Broadcast over the leading axes, one GEMM per (m x k) * (k x n) step.
    const int lead = o.rank - 2;
    Extent ea, eb, eo;
    ea.rank = a.rank - 2;
    eb.rank = b.rank - 2;
    eo.rank = lead;
    for (int i = 0; i < ea.rank; ++i) ea.dims.v[i] = a.dims.v[i];
    for (int i = 0; i < eb.rank; ++i) eb.dims.v[i] = b.dims.v[i];
    std::int64_t steps = 1;
    for (int i = 0; i < lead; ++i) steps *= (eo.dims.v[i] = o.dims.v[i]);
    const CudaDims sa = broadcast(ea, eo), sb = broadcast(eb, eo);
    for (std::int64_t s = 0; s < steps; ++s) {
      std::int64_t rest = s, oa = 0, ob = 0;
      for (int d = lead - 1; d >= 0; --d) {
        const std::int64_t idx = rest % eo.dims.v[d];
        rest /= eo.dims.v[d];
        oa += idx * sa.v[d];
        ob += idx * sb.v[d];
      }
      row_major_gemm(ctx_.cublas, a_.data + oa * m_ * k_, b_.data + ob * k_ * n_, y_.data + s * m_ * n_, m_, k_, n_);
    }
  }

 private:
  // Step strides (in matrices) of the leading axes `x` broadcast to `out`.
  static CudaDims broadcast(const Extent& x, const Extent& out) {
    CudaDims s{};
    std::int64_t stride = 1;
    for (int i = out.rank; i-- > 0;) {
      const int from_end = out.rank - i;
      if (from_end > x.rank) continue;
      const std::int64_t d = x.dims.v[x.rank - from_end];
      s.v[i] = (d == 1 && out.dims.v[i] != 1) ? 0 : stride;
      stride *= d;
    }
    return s;
  }
  StageContext& ctx_;
  DeviceTensor a_, b_, y_;
  std::int64_t m_ = 0, k_ = 0, n_ = 0;
  bool flat_ = false;
};

}  // namespace

std::unique_ptr<GpuOp> make_pool_op(const Graph& g, const Node& node, std::vector<DeviceTensor> in, DeviceTensor out,
                                    StageContext& ctx) {
  return std::make_unique<PoolOp>(g, node, in.at(0), std::move(out), ctx);
}
std::unique_ptr<GpuOp> make_activation_op(const Graph& g, const Node& node, std::vector<DeviceTensor> in,
                                          DeviceTensor out, StageContext& ctx) {
  return std::make_unique<ActivationOp>(g, node, in.at(0), std::move(out), ctx);
}
std::unique_ptr<GpuOp> make_gemm_op(const Graph& g, const Node& node, std::vector<DeviceTensor> in, DeviceTensor out,
                                    StageContext& ctx) {
  return std::make_unique<GemmOp>(g, node, in.at(0), std::move(out), ctx);
}
std::unique_ptr<GpuOp> make_matmul_op(const Graph& /*g*/, const Node& /*node*/, std::vector<DeviceTensor> in,
                                      DeviceTensor out, StageContext& ctx) {
  return std::make_unique<MatMulOp>(in.at(0), in.at(1), std::move(out), ctx);
}

}  // namespace imprecise::nn::detail
