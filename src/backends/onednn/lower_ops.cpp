// The operators oneDNN runs: Conv, Gemm/MatMul (inner product), pooling, reductions, activations and
// same-shape binary ops (Resize: lower_resize.cpp). Each creates its primitive descriptor first (nothing is added when oneDNN
// declines), then wires the memories: inputs in the layout the primitive chose, weights reordered once.
#include <algorithm>
#include <optional>
#include <cmath>
#include <string>
#include <vector>

#include "op_shapes.hpp"
#include "program_builder.hpp"

namespace imprecise::nn::onednn {

namespace {

using dnnl::algorithm;
using dnnl::prop_kind;
using tag = memory::format_tag;
using dt = memory::data_type;

memory::desc any_desc(const memory::dims& dims) { return memory::desc(dims, dt::f32, tag::any); }

dnnl::primitive_attr attributes(const Node* relu) {  // relu: fused, or nullptr
  dnnl::primitive_attr attr = user_scratchpad();
  if (relu != nullptr) {
    dnnl::post_ops ops;
    ops.append_eltwise(1.0f, algorithm::eltwise_relu, 0.0f, 0.0f);
    attr.set_post_ops(ops);
  }
  return attr;
}

const Constant* constant_input(const Graph& g, const Node& node, std::size_t i) {
  return i < node.inputs.size() && !node.inputs[i].empty() ? g.find_constant(node.inputs[i]) : nullptr;
}

/// Spatial parameters of a window in oneDNN's terms (1-D or 2-D).
struct Spatial {
  memory::dims kernel, strides, dilation, pad_l, pad_r, out;
};

Spatial spatial(const detail::Window& w, bool pool_ceil_pad) {
  Spatial s;
  auto push = [&](std::int64_t in, std::int64_t out, std::int64_t k, std::int64_t st, std::int64_t d, std::int64_t pl,
                  std::int64_t pr) {
    s.kernel.push_back(k);
    s.strides.push_back(st);
    s.dilation.push_back(d - 1);  // oneDNN counts the gaps
    s.pad_l.push_back(pl);
    // Ceil mode: oneDNN wants the right padding that makes its output size the graph's.
    if (pool_ceil_pad) pr = std::max(pr, (out - 1) * st + (k - 1) * d + 1 - in - pl);
    s.pad_r.push_back(pr);
    s.out.push_back(out);
  };
  if (!w.one_d) push(w.height, w.out_height, w.kernel_h, w.stride_h, w.dilation_h, w.pad_top, w.pad_bottom);
  push(w.width, w.out_width, w.kernel_w, w.stride_w, w.dilation_w, w.pad_left, w.pad_right);
  return s;
}

/// A pooling primitive reading value x: in the layout x is in, else (where that layout has only a slow
/// kernel, e.g. plain NCHW) channels-last, into which the caller then reorders x. Empty when neither.
struct Pooling {
  dnnl::pooling_v2_forward::primitive_desc pd;
  memory::desc src;
};

std::optional<Pooling> pooling(ProgramBuilder& b, std::size_t x, algorithm alg, const memory::desc& dst,
                               const Spatial& sp) {
  const memory::dims dims = b.dims(x);
  const memory::desc channels_last(dims, dt::f32, dims.size() == 3 ? tag::acb : dims.size() == 4 ? tag::acdb : tag::undef);
  for (const memory::desc& src : {b.current(x).get_desc(), channels_last}) {
    try {
      const dnnl::pooling_v2_forward::desc d(prop_kind::forward_inference, alg, src, dst, sp.strides, sp.kernel,
                                             sp.dilation, sp.pad_l, sp.pad_r);
      Pooling p{dnnl::pooling_v2_forward::primitive_desc(d, user_scratchpad(), b.engine()), src};
      if (!worse_than_fallback(p.pd)) return p;
    } catch (const dnnl::error&) {
    }
  }
  return std::nullopt;
}

bool lower_conv(ProgramBuilder& b, const Graph& g, const Node& node, const Fused& fused) {
  if (fused.bias_add != nullptr) return false;
  const Constant* w = constant_input(g, node, 1);
  if (w == nullptr || w->type != ElementType::float32 || g.is_constant(node.inputs[0])) return false;
  const Shape& xs = g.shapes.at(node.inputs[0]);
  const detail::Window win = detail::window(node, xs, Shape(w->shape.begin() + 2, w->shape.end()), false, g.source);
  const Spatial sp = spatial(win, false);
  const std::int64_t groups = node.attr_int("group", 1), out_c = w->shape[0];
  const std::size_t x = b.value(node.inputs[0]), y = b.value(fused.output(node));
  memory::dims wdims(w->shape.begin(), w->shape.end());
  if (groups > 1) {
    wdims[0] = out_c / groups;
    wdims.insert(wdims.begin(), groups);
  }
  memory::dims dst = {b.batch(), out_c};
  dst.insert(dst.end(), sp.out.begin(), sp.out.end());
  const memory::desc bias_desc({out_c}, dt::f32, tag::a);
  dnnl::convolution_forward::primitive_desc pd;
  try {
    const dnnl::convolution_forward::desc d(prop_kind::forward_inference, algorithm::convolution_direct,
                                            any_desc(b.dims(x)), any_desc(wdims), bias_desc, any_desc(dst),
                                            sp.strides, sp.dilation, sp.pad_l, sp.pad_r);
    pd = dnnl::convolution_forward::primitive_desc(d, attributes(fused.relu), b.engine());
  } catch (const dnnl::error&) {
    return false;
  }
  if (worse_than_fallback(pd)) return false;
  std::vector<float> bias(static_cast<std::size_t>(out_c), 0.0f);
  if (const Constant* c = constant_input(g, node, 2)) bias = c->floats;
  const memory src = b.need(x, pd.src_desc());
  const memory weights = b.weights(node.name + ":w", w->floats, ProgramBuilder::plain_desc(wdims), pd.weights_desc());
  const memory bias_mem = b.weights(node.name + ":b", bias, bias_desc, bias_desc);
  const memory out = b.output(y, pd.dst_desc());
  b.call(dnnl::convolution_forward(pd),
         {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_BIAS, bias_mem}, {DNNL_ARG_DST, out}},
         pd.scratchpad_desc());
  return true;
}

bool lower_pool(ProgramBuilder& b, const Graph& g, const Node& node) {
  const bool global = node.op.starts_with("Global"), max = node.op.find("Max") != std::string::npos;
  const Shape& xs = g.shapes.at(node.inputs[0]);
  if (xs.size() != 3 && xs.size() != 4) return false;
  Spatial sp;
  if (global) {
    for (std::size_t i = 2; i < xs.size(); ++i) {
      sp.kernel.push_back(xs[i]);
      sp.strides.push_back(1);
      sp.dilation.push_back(0);
      sp.pad_l.push_back(0);
      sp.pad_r.push_back(0);
      sp.out.push_back(1);
    }
  } else {
    const bool ceil = node.attr_int("ceil_mode", 0) != 0;
    const bool include_pad = node.attr_int("count_include_pad", 0) != 0;
    // PyTorch divides a ceil-mode border window by its part inside the padded input; oneDNN by the
    // whole kernel: that case stays on the cpu kernel.
    if (!max && ceil && include_pad) return false;
    const detail::Window win = detail::window(node, xs, node.attr_ints("kernel_shape"), ceil, g.source);
    sp = spatial(win, true);
    if (!max) std::fill(sp.dilation.begin(), sp.dilation.end(), 0);  // average pooling has none (as PyTorch)
  }
  const algorithm alg = max ? algorithm::pooling_max
                            : (!global && node.attr_int("count_include_pad", 0) != 0 ? algorithm::pooling_avg_include_padding
                                                                                     : algorithm::pooling_avg_exclude_padding);
  const std::size_t x = b.value(node.inputs[0]), y = b.value(node.outputs[0]);
  memory::dims dst = {b.batch(), xs[1]};
  dst.insert(dst.end(), sp.out.begin(), sp.out.end());
  const auto p = pooling(b, x, alg, any_desc(dst), sp);
  if (!p) return false;
  const memory src = b.need(x, p->src);
  const memory out = b.output(y, p->pd.dst_desc());
  b.call(dnnl::pooling_v2_forward(p->pd), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, out}}, p->pd.scratchpad_desc());
  return true;
}

/// Gemm (transA = 0) and MatMul with a constant 2-D right operand: one inner product over every row
/// of the batch (MatMul's leading axes folded into the rows).
bool lower_dense(ProgramBuilder& b, const Graph& g, const Node& node, const Fused& fused) {
  const bool gemm = node.op == "Gemm";
  const Constant* w = constant_input(g, node, 1);
  if (w == nullptr || w->type != ElementType::float32 || w->shape.size() != 2 || g.is_constant(node.inputs[0]))
    return false;
  const Shape& as = g.shapes.at(node.inputs[0]);
  if (as.size() < 2 || (gemm && (as.size() != 2 || node.attr_int("transA", 0) != 0))) return false;
  const bool trans_b = gemm && node.attr_int("transB", 0) != 0;
  const std::int64_t k = trans_b ? w->shape[1] : w->shape[0], n = trans_b ? w->shape[0] : w->shape[1];
  if (as.back() != k) return false;
  // Weights as oneDNN's [out, in]: B^T (a strided view when B is [in, out]), scaled by alpha.
  const float alpha = gemm ? node.attr_float("alpha", 1.0f) : 1.0f;
  std::vector<float> scaled = w->floats;
  for (auto& v : scaled) v *= alpha;
  const memory::desc wplain = trans_b ? ProgramBuilder::plain_desc({n, k}) : memory::desc({n, k}, dt::f32, memory::dims{1, n});
  std::vector<float> bias(static_cast<std::size_t>(n), 0.0f);
  if (const Constant* c = gemm ? constant_input(g, node, 2) : nullptr) {
    if (c->type != ElementType::float32 || (c->size() != 1 && c->size() != static_cast<std::size_t>(n))) return false;
    const float beta = node.attr_float("beta", 1.0f);
    for (std::size_t j = 0; j < bias.size(); ++j) bias[j] = beta * (c->size() == 1 ? c->floats[0] : c->floats[j]);
  } else if (gemm && node.inputs.size() > 2 && !node.inputs[2].empty()) {
    return false;  // an activation as C
  }
  if (fused.bias_add != nullptr) {
    const Node& add = *fused.bias_add;
    const Constant* c = g.find_constant(add.inputs[add.inputs[0] == node.outputs[0] ? 1 : 0]);
    if (c == nullptr || c->type != ElementType::float32 || (c->size() != 1 && c->size() != static_cast<std::size_t>(n)) ||
        g.shapes.at(add.outputs[0]) != g.shapes.at(node.outputs[0]))
      return false;  // not a bias (it would broadcast the output)
    for (std::size_t j = 0; j < bias.size(); ++j) bias[j] += c->size() == 1 ? c->floats[0] : c->floats[j];
  }
  std::int64_t rows = b.batch();
  for (std::size_t i = 1; i + 1 < as.size(); ++i) rows *= as[i];
  const memory::desc src_desc = ProgramBuilder::plain_desc({rows, k}), dst_desc = ProgramBuilder::plain_desc({rows, n});
  const memory::desc bias_desc({n}, dt::f32, tag::a);
  dnnl::inner_product_forward::primitive_desc pd;
  try {
    const dnnl::inner_product_forward::desc d(prop_kind::forward_inference, src_desc, any_desc({n, k}), bias_desc, dst_desc);
    pd = dnnl::inner_product_forward::primitive_desc(d, attributes(fused.relu), b.engine());
  } catch (const dnnl::error&) {
    return false;
  }
  if (worse_than_fallback(pd)) return false;
  const std::size_t x = b.value(node.inputs[0]), y = b.value(fused.output(node));
  const memory src = b.view(b.need(x, b.plain_desc(x)), src_desc);
  const memory weights = b.weights(node.name + ":w", scaled, wplain, pd.weights_desc());
  const memory bias_mem = b.weights(node.name + ":b", bias, bias_desc, bias_desc);
  const memory out = b.view(b.output(y, b.plain_desc(y)), dst_desc);
  b.call(dnnl::inner_product_forward(pd),
         {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_BIAS, bias_mem}, {DNNL_ARG_DST, out}},
         pd.scratchpad_desc());
  return true;
}

bool lower_eltwise(ProgramBuilder& b, const Node& node, algorithm alg, float alpha = 0.0f, float beta = 0.0f) {
  const std::size_t x = b.value(node.inputs[0]), y = b.value(node.outputs[0]);
  const memory src = b.current(x);
  dnnl::eltwise_forward::primitive_desc pd;
  try {
    const dnnl::eltwise_forward::desc d(prop_kind::forward_inference, alg, src.get_desc(), alpha, beta);
    pd = dnnl::eltwise_forward::primitive_desc(d, user_scratchpad(), b.engine());
  } catch (const dnnl::error&) {
    return false;
  }
  if (worse_than_fallback(pd)) return false;
  const memory out = b.output(y, pd.dst_desc());
  b.call(dnnl::eltwise_forward(pd), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, out}}, pd.scratchpad_desc());
  return true;
}

/// Add/Sub/Mul/Div of two activations of the same shape (broadcasts stay on the cpu kernel).
bool lower_binary(ProgramBuilder& b, const Graph& g, const Node& node, algorithm alg) {
  if (node.inputs.size() != 2 || g.is_constant(node.inputs[0]) || g.is_constant(node.inputs[1])) return false;
  if (g.shapes.at(node.inputs[0]) != g.shapes.at(node.inputs[1])) return false;
  const std::size_t a = b.value(node.inputs[0]), c = b.value(node.inputs[1]), y = b.value(node.outputs[0]);
  const memory src0 = b.current(a);
  dnnl::binary::primitive_desc pd;
  try {
    const dnnl::binary::desc d(alg, src0.get_desc(), src0.get_desc(), src0.get_desc());
    pd = dnnl::binary::primitive_desc(d, user_scratchpad(), b.engine());
  } catch (const dnnl::error&) {
    return false;
  }
  if (worse_than_fallback(pd)) return false;
  const memory src1 = b.need(c, src0.get_desc());
  const memory out = b.output(y, pd.dst_desc());
  b.call(dnnl::binary(pd), {{DNNL_ARG_SRC_0, src0}, {DNNL_ARG_SRC_1, src1}, {DNNL_ARG_DST, out}}, pd.scratchpad_desc());
  return true;
}

/// Whether `desc` lays out `dims` exactly as the row-major layout does (dims of size 1 may have any stride).
bool same_bytes_as_plain(const memory::desc& desc, const memory::dims& dims) {
  const dnnl_memory_desc_t& d = desc.data;
  if (d.format_kind != dnnl_blocked || d.format_desc.blocking.inner_nblks != 0 || d.offset0 != 0) return false;
  memory::dim stride = 1;
  for (std::size_t i = dims.size(); i-- > 0;) {
    if (dims[i] != 1 && d.format_desc.blocking.strides[i] != stride) return false;
    stride *= dims[i];
  }
  return true;
}

/// ReduceMax/ReduceMean over listed non-batch axes, into the plain output (keepdims or not: same bytes).
/// Over every spatial axis of [N, C, ...] it is a global pooling, whose jit kernels take the layout the
/// producer left (oneDNN 2.6 has only a reference kernel for a reduction over channels-last data).
bool lower_reduce(ProgramBuilder& b, const Graph& g, const Node& node) {
  if (node.inputs.size() != 1 || !node.has("axes")) return false;
  const Shape& xs = g.shapes.at(node.inputs[0]);
  const std::size_t x = b.value(node.inputs[0]), y = b.value(node.outputs[0]);
  memory::dims keep = b.dims(x);
  std::vector<bool> reduced(xs.size(), false);
  for (const auto axis : node.attr_ints("axes")) {
    const auto a = static_cast<std::size_t>(detail::normalize_axis(axis, xs.size(), g.source, node));
    if (a == 0) return false;
    keep[a] = 1;
    reduced[a] = true;
  }
  const bool max = node.op == "ReduceMax";
  const bool spatial = xs.size() >= 3 && !reduced[1] && std::all_of(reduced.begin() + 2, reduced.end(), [](bool r) { return r; });
  memory::desc dst_desc = ProgramBuilder::plain_desc(keep);
  dnnl::primitive primitive;
  memory::desc scratchpad, src_desc = b.current(x).get_desc();
  if (spatial) {
    Spatial sp;
    sp.kernel.assign(xs.begin() + 2, xs.end());
    sp.strides.assign(xs.size() - 2, 1);
    sp.dilation.assign(xs.size() - 2, 0);
    sp.pad_l = sp.pad_r = sp.dilation;
    // Pooling's [N, C, 1, ...] output in the layout it picks (channels-last, whose bytes are the plain
    // ones at spatial size 1) runs the jit kernel; a forced plain one, the reference.
    const auto p = pooling(b, x, max ? algorithm::pooling_max : algorithm::pooling_avg_exclude_padding, any_desc(keep), sp);
    if (!p || !same_bytes_as_plain(p->pd.dst_desc(), keep)) return false;
    dst_desc = p->pd.dst_desc();
    src_desc = p->src;
    primitive = dnnl::pooling_v2_forward(p->pd);
    scratchpad = p->pd.scratchpad_desc();
  } else {
    try {
      const dnnl::reduction::desc d(max ? algorithm::reduction_max : algorithm::reduction_mean, src_desc, dst_desc,
                                    0.0f, 0.0f);
      const dnnl::reduction::primitive_desc pd(d, user_scratchpad(), b.engine());
      if (worse_than_fallback(pd)) return false;
      primitive = dnnl::reduction(pd);
      scratchpad = pd.scratchpad_desc();
    } catch (const dnnl::error&) {
      return false;
    }
  }
  const memory src = b.need(x, src_desc);
  const memory out = b.view(b.output(y, b.plain_desc(y)), dst_desc);
  b.call(primitive, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, out}}, scratchpad);
  return true;
}

/// Identity, Reshape, Flatten, Squeeze, Unsqueeze: the output's bytes are the input's plain ones. A
/// plain input is just viewed under the output's dims; another layout is reordered straight into the
/// output's plain tensor (one pass, where the cpu kernel would need a reorder and a copy).
bool lower_reshape(ProgramBuilder& b, const Node& node) {
  const std::size_t x = b.value(node.inputs[0]), y = b.value(node.outputs[0]);
  const memory in = b.current(x);
  if (in.get_desc() == b.plain_desc(x)) {
    b.alias(y, b.view(in, b.plain_desc(y)));
    return true;
  }
  const memory out = b.view(b.output(y, b.plain_desc(y)), b.plain_desc(x));
  const dnnl::reorder::primitive_desc pd(in, out, user_scratchpad());
  b.call(dnnl::reorder(pd), {{DNNL_ARG_SRC, in}, {DNNL_ARG_DST, out}}, pd.scratchpad_desc());
  return true;
}

}  // namespace

// A reference ("ref:") kernel is slower than the cpu kernel, and so is a "simple" one (e.g. pooling's
// simple_nchw on plain data, a scalar loop); the GEMM-based ones ("gemm:jit", for shapes the direct
// kernels skip, e.g. odd group widths) malloc their packing buffers at every call, outside the scratchpad.
bool worse_than_fallback(const dnnl::primitive_desc_base& pd) {
  const std::string name = std::string(":") + pd.impl_info_str() + ":";  // e.g. "x64:gemm:jit" (not "brgemm:...")
  return name.find(":gemm:") != std::string::npos || name.starts_with(":ref:") || name.starts_with(":simple");
}

bool fuses_bias(const std::string& op) { return op == "Gemm" || op == "MatMul"; }
bool fuses_relu(const std::string& op) { return op == "Conv" || op == "Gemm" || op == "MatMul"; }

bool lower(ProgramBuilder& b, const Graph& g, const Node& node, const Fused& fused) {
  const std::string& op = node.op;
  if (op == "Conv") return lower_conv(b, g, node, fused);
  if (op == "Gemm" || op == "MatMul") return lower_dense(b, g, node, fused);
  if (fused.bias_add != nullptr || fused.relu != nullptr) return false;
  if (op == "MaxPool" || op == "AveragePool" || op == "GlobalMaxPool" || op == "GlobalAveragePool")
    return lower_pool(b, g, node);
  if (op == "ReduceMax" || op == "ReduceMean") return lower_reduce(b, g, node);
  if (op == "Identity" || op == "Reshape" || op == "Flatten" || op == "Squeeze" || op == "Unsqueeze")
    return lower_reshape(b, node);
  if (op == "Relu") return lower_eltwise(b, node, algorithm::eltwise_relu);
  if (op == "Sigmoid") return lower_eltwise(b, node, algorithm::eltwise_logistic);
  if (op == "Tanh") return lower_eltwise(b, node, algorithm::eltwise_tanh);
  // The parameterised activations oneDNN 2.6 has; HardSigmoid and Erf it lacks (they run the cpu kernel).
  if (op == "LeakyRelu") return lower_eltwise(b, node, algorithm::eltwise_relu, node.attr_float("alpha", 0.01f));
  if (op == "HardSwish") return lower_eltwise(b, node, algorithm::eltwise_hardswish);
  if (op == "Gelu")
    return lower_eltwise(b, node, node.attr_string("approximate", "none") == "tanh" ? algorithm::eltwise_gelu_tanh
                                                                                      : algorithm::eltwise_gelu_erf);
  if (op == "Clip") {
    std::vector<const Constant*> constants;
    for (std::size_t i = 0; i < node.inputs.size(); ++i) constants.push_back(constant_input(g, node, i));
    const detail::ClipBounds c = detail::clip_bounds(node, constants, g.source);
    if (!(c.lo <= c.hi)) return false;  // ONNX's min > max (every value = max) is not clip_v2's rule
    return lower_eltwise(b, node, algorithm::eltwise_clip_v2, c.lo, c.hi);
  }
  if (op == "Resize") return lower_resize(b, g, node);
  if (op == "Add") return lower_binary(b, g, node, algorithm::binary_add);
  if (op == "Sub") return lower_binary(b, g, node, algorithm::binary_sub);
  if (op == "Mul") return lower_binary(b, g, node, algorithm::binary_mul);
  if (op == "Div") return lower_binary(b, g, node, algorithm::binary_div);
  return false;
}

}  // namespace imprecise::nn::onednn
