// MaxPool / AveragePool on the cpu backend: windows fully inside the input take a check-free path.
#include <algorithm>
#include <limits>
#include <tuple>
#include <utility>

#include "kernel.hpp"
#include "op_shapes.hpp"

namespace imprecise::nn::cpu {

namespace {

/// [lo, hi): the outputs whose window [o * stride - pad, + extent) lies inside [0, size).
std::pair<Index, Index> interior(Index outputs, Index stride, Index pad, Index extent, Index size) {
  Index lo = 0;
  while (lo < outputs && lo * stride - pad < 0) ++lo;
  Index hi = lo;
  while (hi < outputs && hi * stride - pad + extent <= size) ++hi;
  return {lo, hi};
}

class PoolKernel final : public Kernel {
 public:
  PoolKernel(const Graph& g, const Node& node) {
    max_ = node.op == "MaxPool";
    w_ = detail::window(node, g.shapes.at(node.inputs[0]), node.attr_ints("kernel_shape"),
                        node.attr_int("ceil_mode", 0) != 0, g.source);
    include_pad_ = node.attr_int("count_include_pad", 0) != 0;
    // Average pooling ignores dilations (the window is contiguous), as PyTorch's does.
    const Index extent_h = max_ ? (w_.kernel_h - 1) * w_.dilation_h + 1 : w_.kernel_h;
    const Index extent_w = max_ ? (w_.kernel_w - 1) * w_.dilation_w + 1 : w_.kernel_w;
    std::tie(y_lo_, y_hi_) = interior(w_.out_height, w_.stride_h, w_.pad_top, extent_h, w_.height);
    std::tie(x_lo_, x_hi_) = interior(w_.out_width, w_.stride_w, w_.pad_left, extent_w, w_.width);
    pairs_ = w_.kernel_w == 2 && w_.stride_w == 2 && w_.kernel_h <= 2 && w_.dilation_h == 1 && w_.dilation_w == 1;
  }

  void run(std::span<const Tensor* const> in, Tensor& out) override {
    const Tensor& x = *in[0];
    const detail::Window& w = w_;
    const Index planes = x.batch() * w.channels;
    for (Index pl = 0; pl < planes; ++pl) {
      const float* xp = x.data() + pl * w.height * w.width;
      float* o = out.data() + pl * w.out_height * w.out_width;
      for (Index oy = 0; oy < w.out_height; ++oy, o += w.out_width) {
        if (oy < y_lo_ || oy >= y_hi_ || x_lo_ >= x_hi_) {
          for (Index ox = 0; ox < w.out_width; ++ox) o[ox] = border(xp, oy, ox);
          continue;
        }
        for (Index ox = 0; ox < x_lo_; ++ox) o[ox] = border(xp, oy, ox);
        const float* row = xp + (oy * w.stride_h - w.pad_top) * w.width - w.pad_left;
        if (pairs_) {
          pool_pairs(row, o);
        } else {
          for (Index ox = x_lo_; ox < x_hi_; ++ox) o[ox] = inside(row + ox * w.stride_w);
        }
        for (Index ox = x_hi_; ox < w.out_width; ++ox) o[ox] = border(xp, oy, ox);
      }
    }
  }

 private:
  // Windows of 1x2 or 2x2, stride 2 along the row: the common downsampling, written so that the
  // compiler vectorizes it. `row` is the window row of output column 0.
  void pool_pairs(const float* row, float* o) const {
    const Index two = w_.kernel_h == 2 ? w_.width : 0;
    if (max_) {
      if (two != 0) {
        for (Index ox = x_lo_; ox < x_hi_; ++ox) {
          const float* p = row + 2 * ox;
          o[ox] = std::max(std::max(p[0], p[1]), std::max(p[two], p[two + 1]));
        }
      } else {
        for (Index ox = x_lo_; ox < x_hi_; ++ox) o[ox] = std::max(row[2 * ox], row[2 * ox + 1]);
      }
    } else {
      if (two != 0) {
        for (Index ox = x_lo_; ox < x_hi_; ++ox) {
          const float* p = row + 2 * ox;
          o[ox] = ((p[0] + p[1]) + (p[two] + p[two + 1])) * 0.25f;
        }
      } else {
        for (Index ox = x_lo_; ox < x_hi_; ++ox) o[ox] = (row[2 * ox] + row[2 * ox + 1]) * 0.5f;
      }
    }
  }

  // A window inside the input; p = its top-left element.
  float inside(const float* p) const {
    const detail::Window& w = w_;
    if (max_) {
      float best = -std::numeric_limits<float>::infinity();
      for (Index ky = 0; ky < w.kernel_h; ++ky)
        for (Index kx = 0; kx < w.kernel_w; ++kx) best = std::max(best, p[ky * w.dilation_h * w.width + kx * w.dilation_w]);
      return best;
    }
    float sum = 0.0f;
    for (Index ky = 0; ky < w.kernel_h; ++ky)
      for (Index kx = 0; kx < w.kernel_w; ++kx) sum += p[ky * w.width + kx];
    return sum / static_cast<float>(w.kernel_h * w.kernel_w);
  }

  // Any window, clipped to the input.
  float border(const float* xp, Index oy, Index ox) const {
    const detail::Window& w = w_;
    const Index y0 = oy * w.stride_h - w.pad_top, x0 = ox * w.stride_w - w.pad_left;
    if (max_) {
      float best = -std::numeric_limits<float>::infinity();
      for (Index ky = 0; ky < w.kernel_h; ++ky) {
        const Index iy = y0 + ky * w.dilation_h;
        if (iy < 0 || iy >= w.height) continue;
        for (Index kx = 0; kx < w.kernel_w; ++kx) {
          const Index ix = x0 + kx * w.dilation_w;
          if (ix >= 0 && ix < w.width) best = std::max(best, xp[iy * w.width + ix]);
        }
      }
      return best;
    }
    // PyTorch's divisor: the window clipped to the padded input, or to the input itself.
    const Index y1 = std::min(y0 + w.kernel_h, w.height + w.pad_bottom);
    const Index x1 = std::min(x0 + w.kernel_w, w.width + w.pad_right);
    const Index padded = (y1 - y0) * (x1 - x0);
    const Index ys = std::max<Index>(y0, 0), xs = std::max<Index>(x0, 0);
    const Index ye = std::min(y1, w.height), xe = std::min(x1, w.width);
    float sum = 0.0f;
    for (Index iy = ys; iy < ye; ++iy)
      for (Index ix = xs; ix < xe; ++ix) sum += xp[iy * w.width + ix];
    const Index count = include_pad_ ? padded : (ye - ys) * (xe - xs);
    return count > 0 ? sum / static_cast<float>(count) : 0.0f;
  }

  detail::Window w_;
  bool max_ = false, include_pad_ = false, pairs_ = false;
  Index y_lo_ = 0, y_hi_ = 0, x_lo_ = 0, x_hi_ = 0;
};

}  // namespace

std::unique_ptr<Kernel> make_pool(const Graph& g, const Node& node) { return std::make_unique<PoolKernel>(g, node); }

}  // namespace imprecise::nn::cpu
