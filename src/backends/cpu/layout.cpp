// CPU kernels, layout and reductions: Transpose, Concat, Pad, Slice, Softmax, ReduceMax/ReduceMean.
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

/// Slice: output element (i0, i1, ...) is input element (start_d + i_d * step_d); one strided walk.
class SliceKernel final : public Kernel {
 public:
  SliceKernel(const Graph& g, const Node& node) {
    Shape x = g.shapes.at(node.inputs[0]);
    x[0] = 1;  // the symbolic batch: prepare() allowed only its whole range, which the walk below keeps
    std::vector<const Constant*> constants;
    for (const auto& input : node.inputs) constants.push_back(input.empty() ? nullptr : g.find_constant(input));
    for (const auto& s : detail::slice_axes(node, x, constants, g.source)) {
      if (s.axis == 0) continue;
      start_[s.axis] = s.start;
      step_[s.axis] = s.step;
    }
  }
  void run(std::span<const Tensor* const> in, Tensor& out) override {
    const Shape& xs = in[0]->shape();
    const Shape& os = out.shape();
    const std::size_t rank = os.size();
    Dims walk{};
    Index stride = 1, off = 0;
    for (std::size_t i = rank; i-- > 0;) {
      off += start_[i] * stride;
      walk[i] = step_[i] * stride;
      stride *= xs[i];
    }
    Dims idx{};
    const float* x = in[0]->data();
    for (std::size_t e = 0; e < out.size(); ++e) {
      out[e] = x[off];
      for (std::size_t d = rank; d-- > 0;) {
        ++idx[d];
        off += walk[d];
        if (idx[d] < os[d]) break;
        off -= walk[d] * idx[d];
        idx[d] = 0;
      }
    }
  }

 private:
  Dims start_{};                                   // 0 on the axes not sliced
  Dims step_ = [] { Dims d; d.fill(1); return d; }();  // 1 on the axes not sliced
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

/// max or sum over x[0, n), in 8 interleaved accumulators so that the loop vectorises (the order of a sum
/// differs from the element order in the last bits; PyTorch's own sums are pairwise).
template <bool Max>
float reduce_run(const float* x, Index n) {
  constexpr int kLanes = 8;
  const float init = Max ? -std::numeric_limits<float>::infinity() : 0.0f;
  std::array<float, kLanes> acc;
  acc.fill(init);
  Index j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (int a = 0; a < kLanes; ++a) acc[a] = Max ? std::max(acc[a], x[j + a]) : acc[a] + x[j + a];
  for (; j < n; ++j) acc[0] = Max ? std::max(acc[0], x[j]) : acc[0] + x[j];
  float r = init;
  for (const float a : acc) r = Max ? std::max(r, a) : r + a;
  return r;
}

/// out[o, i] = max or sum over r of x[o, r, i] for x viewed as [outer, reduced, inner] (out pre-filled).
template <bool Max>
void reduce_block(const float* x, float* out, Index outer, Index reduced, Index inner) {
  for (Index o = 0; o < outer; ++o) {
    const float* base = x + o * reduced * inner;
    float* dst = out + o * inner;
    if (inner == 1) {
      dst[0] = reduce_run<Max>(base, reduced);
      continue;
    }
    for (Index r = 0; r < reduced; ++r) {
      const float* row = base + r * inner;
      for (Index i = 0; i < inner; ++i) dst[i] = Max ? std::max(dst[i], row[i]) : dst[i] + row[i];
    }
  }
}

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
    // The reduced axes as one block [first_, last_) (the usual case: a pooling over the last axes).
    const auto first = std::find(reduced_.begin(), reduced_.end(), true);
    const auto after = std::find(first, reduced_.end(), false);
    block_ = first != reduced_.end() && std::find(after, reduced_.end(), true) == reduced_.end();
    first_ = static_cast<std::size_t>(first - reduced_.begin());
    last_ = static_cast<std::size_t>(after - reduced_.begin());
  }
  void run(std::span<const Tensor* const> in, Tensor& out) override {
    const Shape& xs = in[0]->shape();
    std::fill(out.values().begin(), out.values().end(), max_ ? -std::numeric_limits<float>::infinity() : 0.0f);
    if (block_) {
      Index outer = 1, reduced = 1, inner = 1;
      for (std::size_t i = 0; i < xs.size(); ++i) (i < first_ ? outer : i < last_ ? reduced : inner) *= xs[i];
      if (max_) reduce_block<true>(in[0]->data(), out.data(), outer, reduced, inner);
      else reduce_block<false>(in[0]->data(), out.data(), outer, reduced, inner);
    } else {
      run_any_axes(*in[0], out);
    }
    if (!max_)
      for (auto& v : out.values()) v /= static_cast<float>(count_);
  }

 private:
  // Any set of axes: an odometer over the input, each element folded into its output.
  void run_any_axes(const Tensor& in, Tensor& out) const {
    const Shape& xs = in.shape();
    const std::size_t rank = xs.size();
    Dims step{};
    Index stride = 1;
    for (std::size_t i = rank; i-- > 0;) {
      step[i] = reduced_[i] ? 0 : stride;
      if (!reduced_[i]) stride *= xs[i];
    }
    Dims idx{};
    Index off = 0;
    const float* x = in.data();
    for (std::size_t e = 0; e < in.size(); ++e) {
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
  }

  bool max_;
  std::vector<bool> reduced_;
  Index count_ = 1;
  bool block_ = false;
  std::size_t first_ = 0, last_ = 0;  // the reduced block [first_, last_) when block_
};

}  // namespace

std::unique_ptr<Kernel> make_layout(const Graph& g, const Node& node) {
  const std::string& op = node.op;
  if (op == "Transpose") return std::make_unique<TransposeKernel>(g, node);
  if (op == "Concat") return std::make_unique<ConcatKernel>(g, node);
  if (op == "Pad") return std::make_unique<PadKernel>(g, node);
  if (op == "Slice") return std::make_unique<SliceKernel>(g, node);
  if (op == "Softmax") return std::make_unique<SoftmaxKernel>(g, node);
  if (op == "ReduceMax" || op == "ReduceMean") return std::make_unique<ReduceKernel>(g, node);
  return nullptr;
}

}  // namespace imprecise::nn::cpu
