// The cuda convolution: cuDNN (1-D as 2-D with height 1), algorithms and descriptors chosen per batch size at load.
#include <algorithm>
#include <array>

#include <fmt/core.h>

#include "cuda_handles.hpp"
#include "cuda_ops.hpp"
#include "op_shapes.hpp"
#include "pad.cuh"

namespace imprecise::nn::detail {
namespace {

using ::imprecise::detail::ConvDesc;
using ::imprecise::detail::CudaDims;
using ::imprecise::detail::DeviceBuffer;
using ::imprecise::detail::FilterDesc;
using ::imprecise::detail::make_tensor_desc;
using ::imprecise::detail::TensorDesc;

// FFT and Winograd convolutions trade accuracy for speed (errors well above 1e-4 of the result on
// some shapes); the GEMM-based and direct ones sum the same products as the CPU backend.
bool exact(cudnnConvolutionFwdAlgo_t algo) {
  return algo != CUDNN_CONVOLUTION_FWD_ALGO_FFT && algo != CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING &&
         algo != CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD && algo != CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED;
}

// Asymmetric pads are applied by our pad kernel into a scratch buffer first: cuDNN pads both sides alike.

class ConvOp final : public GpuOp {
 public:
  ConvOp(const Graph& g, const Node& node, std::vector<DeviceTensor> in, DeviceTensor out, StageContext& ctx)
      : ctx_(ctx), x_(in.at(0)), w_(in.at(1)), y_(std::move(out)) {
    if (w_.batched) fail(g.source, node, "the cuda backend needs constant convolution weights");
    if (in.size() > 2) {
      if (in[2].batched) fail(g.source, node, "the cuda backend needs a constant convolution bias");
      bias_ = in[2].data;
    }
    const Shape& ws = w_.shape;
    win_ = window(node, x_.shape, Shape(ws.begin() + 2, ws.end()), false, g.source);
    const auto groups = node.attr_int("group", 1);
    out_channels_ = ws[0];
    padded_ = win_.pad_top != win_.pad_bottom || win_.pad_left != win_.pad_right;
    height_ = win_.height + (padded_ ? win_.pad_top + win_.pad_bottom : 0);
    width_ = win_.width + (padded_ ? win_.pad_left + win_.pad_right : 0);
    if (padded_)
      pad_buffer_ = DeviceBuffer(static_cast<std::size_t>(ctx.max_batch * win_.channels * height_ * width_));

    cudnnFilterDescriptor_t f = nullptr;
    IMPRECISE_CUDNN_CHECK(cudnnCreateFilterDescriptor(&f));
    filter_ = FilterDesc(f);
    IMPRECISE_CUDNN_CHECK(cudnnSetFilter4dDescriptor(f, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, to_int(ws[0], g, node),
                                                     to_int(ws[1], g, node), to_int(win_.kernel_h, g, node),
                                                     to_int(win_.kernel_w, g, node)));
    cudnnConvolutionDescriptor_t c = nullptr;
    IMPRECISE_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&c));
    conv_ = ConvDesc(c);
    IMPRECISE_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(
        c, padded_ ? 0 : to_int(win_.pad_top, g, node), padded_ ? 0 : to_int(win_.pad_left, g, node),
        to_int(win_.stride_h, g, node), to_int(win_.stride_w, g, node), to_int(win_.dilation_h, g, node),
        to_int(win_.dilation_w, g, node), CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    IMPRECISE_CUDNN_CHECK(cudnnSetConvolutionGroupCount(c, to_int(groups, g, node)));
    // Plain FP32 FMA: TF32 tensor cores would miss the 1e-4 agreement with the CPU backend.
    IMPRECISE_CUDNN_CHECK(cudnnSetConvolutionMathType(c, CUDNN_FMA_MATH));
    bias_desc_ = make_tensor_desc(1, to_int(out_channels_, g, node), 1, 1);

    // Descriptors, algorithm and workspace for every batch size, so run() creates nothing.
    for (int b = 1; b <= ctx.max_batch; ++b) {
      PerBatch pb;
      pb.x = make_tensor_desc(b, to_int(win_.channels, g, node), to_int(height_, g, node), to_int(width_, g, node));
      pb.y = make_tensor_desc(b, to_int(out_channels_, g, node), to_int(win_.out_height, g, node),
                              to_int(win_.out_width, g, node));
      std::array<int, 4> dims{};
      IMPRECISE_CUDNN_CHECK(cudnnGetConvolution2dForwardOutputDim(c, pb.x.get(), f, &dims[0], &dims[1], &dims[2], &dims[3]));
      if (dims[0] != b || dims[1] != out_channels_ || dims[2] != win_.out_height || dims[3] != win_.out_width)
        fail(g.source, node, fmt::format("cuDNN computes an output of [{}, {}, {}, {}], the model [{}, {}, {}, {}]", dims[0],
                                         dims[1], dims[2], dims[3], b, out_channels_, win_.out_height, win_.out_width));
      std::array<cudnnConvolutionFwdAlgoPerf_t, CUDNN_CONVOLUTION_FWD_ALGO_COUNT> perf{};
      int returned = 0;
      IMPRECISE_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(ctx.cudnn, pb.x.get(), f, c, pb.y.get(),
                                                                   static_cast<int>(perf.size()), &returned, perf.data()));
      bool found = false;
      for (int i = 0; i < returned && !found; ++i) {
        const auto& p = perf[static_cast<std::size_t>(i)];
        if (p.status != CUDNN_STATUS_SUCCESS || p.memory > kMaxWorkspace || !exact(p.algo)) continue;
        std::size_t bytes = 0;
        if (cudnnGetConvolutionForwardWorkspaceSize(ctx.cudnn, pb.x.get(), f, c, pb.y.get(), p.algo, &bytes) !=
            CUDNN_STATUS_SUCCESS)
          continue;
        pb.algo = p.algo;
        pb.workspace = bytes;
        found = true;
      }
      if (!found) fail(g.source, node, fmt::format("cuDNN has no convolution algorithm for batch {}", b));
      workspace_ = std::max(workspace_, pb.workspace);
      per_batch_.push_back(std::move(pb));
    }
  }

  std::size_t workspace_bytes() const override { return workspace_; }

  void enqueue(int batch, cudaStream_t stream) override {
    const PerBatch& pb = per_batch_[static_cast<std::size_t>(batch - 1)];
    const float* x = x_.data;
    if (padded_) {
      const CudaDims in{{batch, win_.channels, win_.height, win_.width}};
      const CudaDims begin{{0, 0, win_.pad_top, win_.pad_left}};
      const CudaDims out{{batch, win_.channels, height_, width_}};
      ::imprecise::detail::launch_pad(x, in, begin, pad_buffer_.get(), out, 4, batch * win_.channels * height_ * width_,
                                      0.0f, stream);
      x = pad_buffer_.get();
    }
    IMPRECISE_CUDNN_CHECK(cudnnConvolutionForward(ctx_.cudnn, &kOne, pb.x.get(), x, filter_.get(), w_.data, conv_.get(),
                                                  pb.algo, ctx_.workspace, ctx_.workspace_bytes, &kZero, pb.y.get(),
                                                  y_.data));
    if (bias_)
      IMPRECISE_CUDNN_CHECK(cudnnAddTensor(ctx_.cudnn, &kOne, bias_desc_.get(), bias_, &kOne, pb.y.get(), y_.data));
  }

 private:
  static constexpr std::size_t kMaxWorkspace = std::size_t{512} << 20;
  struct PerBatch {
    TensorDesc x, y;
    cudnnConvolutionFwdAlgo_t algo = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
    std::size_t workspace = 0;
  };
  StageContext& ctx_;
  DeviceTensor x_, w_, y_;
  const float* bias_ = nullptr;
  Window win_;
  std::int64_t out_channels_ = 0, height_ = 0, width_ = 0;
  bool padded_ = false;
  DeviceBuffer pad_buffer_;
  FilterDesc filter_;
  ConvDesc conv_;
  TensorDesc bias_desc_;
  std::vector<PerBatch> per_batch_;
  std::size_t workspace_ = 0;
};

}  // namespace

std::unique_ptr<GpuOp> make_conv_op(const Graph& g, const Node& node, std::vector<DeviceTensor> in, DeviceTensor out,
                                    StageContext& ctx) {
  return std::make_unique<ConvOp>(g, node, std::move(in), std::move(out), ctx);
}

}  // namespace imprecise::nn::detail
