// Resize as oneDNN's resampling. oneDNN maps output index o of an axis resized from `in` to `out` to
// the input coordinate (o + 0.5) * in / out - 0.5 (nearest: rounded), which is the node's own rule only
// for some modes and sizes (e.g. nearest at integer factors, linear half_pixel at scales = out / in):
// the node is lowered when the two agree at every output index of every axis, else it runs the cpu kernel.
#include <algorithm>
#include <cmath>
#include <optional>

#include "op_shapes.hpp"
#include "program_builder.hpp"

namespace imprecise::nn::onednn {

namespace {

using dnnl::algorithm;
using dt = memory::data_type;
using tag = memory::format_tag;

double onednn_source(std::int64_t o, std::int64_t out, std::int64_t in) {
  return (static_cast<double>(o) + 0.5) * static_cast<double>(in) / static_cast<double>(out) - 0.5;
}

bool same_axis(const detail::ResizeSpec& spec, std::size_t axis, std::int64_t in) {
  const std::int64_t out = spec.out[axis];
  const auto top = static_cast<double>(in - 1);
  for (std::int64_t o = 0; o < out; ++o) {
    const double theirs = onednn_source(o, out, in);
    if (spec.mode == detail::ResizeSpec::Mode::nearest) {
      // Away from ties only: oneDNN's versions round a tie differently.
      if (std::abs(theirs - std::floor(theirs) - 0.5) < 1e-3) return false;
      const auto index = std::clamp<std::int64_t>(static_cast<std::int64_t>(std::round(theirs)), 0, in - 1);
      if (index != spec.nearest(axis, o, in)) return false;
    } else if (std::abs(std::clamp(theirs, 0.0, top) - std::clamp(spec.source(axis, o, in), 0.0, top)) > 1e-6) {
      return false;
    }
  }
  return true;
}

}  // namespace

bool lower_resize(ProgramBuilder& b, const Graph& g, const Node& node) {
  Shape xs = g.shapes.at(node.inputs[0]);
  xs[0] = 1;
  std::vector<const Constant*> constants;
  for (const auto& input : node.inputs) constants.push_back(input.empty() ? nullptr : g.find_constant(input));
  const detail::ResizeSpec spec = detail::resize_spec(node, xs, constants, 1, g.source);
  for (std::size_t axis = 2; axis < xs.size(); ++axis)
    if (!same_axis(spec, axis, xs[axis])) return false;
  const std::size_t x = b.value(node.inputs[0]), y = b.value(node.outputs[0]);
  memory::dims dst(spec.out.begin(), spec.out.end());
  dst[0] = b.batch();
  const memory::dims src_dims = b.dims(x);
  const memory::desc channels_last(src_dims, dt::f32, src_dims.size() == 3 ? tag::acb : tag::acdb);
  const algorithm alg =
      spec.mode == detail::ResizeSpec::Mode::nearest ? algorithm::resampling_nearest : algorithm::resampling_linear;
  // The layout the producer left, else channels-last (where plain NCHW has only a scalar kernel).
  for (const memory::desc& src_desc : {b.current(x).get_desc(), channels_last}) {
    try {
      const dnnl::resampling_forward::desc d(dnnl::prop_kind::forward_inference, alg, src_desc,
                                             memory::desc(dst, dt::f32, tag::any));
      const dnnl::resampling_forward::primitive_desc pd(d, user_scratchpad(), b.engine());
      if (worse_than_fallback(pd)) continue;
      const memory src = b.need(x, src_desc);
      const memory out = b.output(y, pd.dst_desc());
      b.call(dnnl::resampling_forward(pd), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, out}}, pd.scratchpad_desc());
      return true;
    } catch (const dnnl::error&) {
    }
  }
  return false;
}

}  // namespace imprecise::nn::onednn
