// CPU kernel, Resize: nearest and bilinear over the last one or two axes of [N, C, (H,) W], from index
// and weight tables built once at compile (the coordinate rules are detail::ResizeSpec's).
#include <algorithm>
#include <cmath>
#include <span>
#include <vector>

#include "kernel_util.hpp"

namespace imprecise::nn::cpu {

namespace {

class ResizeKernel final : public Kernel {
 public:
  ResizeKernel(const Graph& g, const Node& node) {
    Shape x = g.shapes.at(node.inputs[0]);
    x[0] = 1;
    std::vector<const Constant*> constants;
    for (const auto& input : node.inputs) constants.push_back(input.empty() ? nullptr : g.find_constant(input));
    const detail::ResizeSpec spec = detail::resize_spec(node, x, constants, 1, g.source);
    linear_ = spec.mode == detail::ResizeSpec::Mode::linear;
    const bool two_d = x.size() == 4;
    in_h_ = two_d ? x[2] : 1;
    in_w_ = x.back();
    rows_ = axis(spec, two_d ? 2 : 0, two_d ? spec.out[2] : 1, in_h_);
    cols_ = axis(spec, x.size() - 1, spec.out.back(), in_w_);
  }

  void run(std::span<const Tensor* const> in, Tensor& out) override {
    const auto out_h = static_cast<Index>(rows_.size()), out_w = static_cast<Index>(cols_.size());
    const Index planes = static_cast<Index>(out.size()) / (out_h * out_w);
    const float* x = in[0]->data();
    float* y = out.data();
    for (Index p = 0; p < planes; ++p) {
      const float* plane = x + p * in_h_ * in_w_;
      for (const Tap& r : rows_) {
        const float* top = plane + r.i0 * in_w_;
        const float* bottom = plane + r.i1 * in_w_;
        if (!linear_) {
          for (const Tap& c : cols_) *y++ = top[c.i0];
          continue;
        }
        for (const Tap& c : cols_) {
          const float t = top[c.i0] + c.w * (top[c.i1] - top[c.i0]);
          const float b = bottom[c.i0] + c.w * (bottom[c.i1] - bottom[c.i0]);
          *y++ = t + r.w * (b - t);
        }
      }
    }
  }

 private:
  /// Output index -> the input indices it reads and the weight of the second (nearest: i0 only).
  struct Tap {
    Index i0 = 0, i1 = 0;
    float w = 0.0f;
  };

  // The taps of one axis; `spec_axis` is the axis in the spec (unused when the axis is the height of
  // 1-D input, whose one output row reads row 0).
  std::vector<Tap> axis(const detail::ResizeSpec& spec, std::size_t spec_axis, Index out, Index in) const {
    std::vector<Tap> taps(static_cast<std::size_t>(out));
    if (spec_axis == 0) return taps;
    for (Index o = 0; o < out; ++o) {
      Tap& t = taps[static_cast<std::size_t>(o)];
      if (!linear_) {
        t.i0 = t.i1 = spec.nearest(spec_axis, o, in);
        continue;
      }
      // ONNX (and PyTorch): a coordinate outside the input takes the edge value.
      const double src = std::clamp(spec.source(spec_axis, o, in), 0.0, static_cast<double>(in - 1));
      t.i0 = static_cast<Index>(std::floor(src));
      t.i1 = std::min<Index>(t.i0 + 1, in - 1);
      t.w = static_cast<float>(src - static_cast<double>(t.i0));
    }
    return taps;
  }

  bool linear_ = false;
  Index in_h_ = 1, in_w_ = 1;
  std::vector<Tap> rows_, cols_;
};

}  // namespace

std::unique_ptr<Kernel> make_resize(const Graph& g, const Node& node) {
  if (node.op != "Resize") return nullptr;
  return std::make_unique<ResizeKernel>(g, node);
}

}  // namespace imprecise::nn::cpu
