// CPU kernels, matrix products: Gemm and (batched) MatMul on Eigen GEMM.
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

}  // namespace

std::unique_ptr<Kernel> make_matmul(const Graph& g, const Node& node) {
  const std::string& op = node.op;
  if (op == "Gemm") return std::make_unique<GemmKernel>(g, node);
  if (op == "MatMul") return std::make_unique<MatMulKernel>(g, node);
  return nullptr;
}

}  // namespace imprecise::nn::cpu
