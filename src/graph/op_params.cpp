// Attribute/input parsing of Split, Clip and Resize, shared by shape inference and the backends (each
// reads the same spec, so what prepare() accepted is what the kernels run).
#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/core.h>

#include "imprecise/error.hpp"
#include "op_shapes.hpp"

namespace imprecise::nn::detail {

namespace {

// Beyond this an output axis is a corrupt file (and the double -> int64 conversion stays defined).
constexpr std::int64_t kMaxResized = std::int64_t{1} << 24;

// Input i when the node has it (optional inputs may be left out: "" or past the end).
bool present(const Node& node, std::size_t i) { return i < node.inputs.size() && !node.inputs[i].empty(); }

const Constant& constant_at(const Node& node, const std::vector<const Constant*>& constants, std::size_t i,
                            const std::string& source, const char* what) {
  if (i >= constants.size() || constants[i] == nullptr)
    fail(source, node, fmt::format("{} (input {}, '{}') must be a constant", what, i, node.inputs[i]));
  return *constants[i];
}

std::vector<double> float_values(const Constant& c) {
  std::vector<double> v;
  if (c.type == ElementType::float32)
    v.assign(c.floats.begin(), c.floats.end());
  else
    v.assign(c.ints.begin(), c.ints.end());
  return v;
}

}  // namespace

SplitSpec split_spec(const Node& node, const Shape& x, const std::vector<const Constant*>& constants,
                     const std::string& source) {
  SplitSpec s;
  s.axis = static_cast<std::size_t>(normalize_axis(node.attr_int("axis", 0), x.size(), source, node));
  if (s.axis == 0) fail(source, node, "splitting axis 0 would split the batch");
  const std::int64_t dim = x[s.axis];
  const auto outputs = static_cast<std::int64_t>(node.outputs.size());
  if (present(node, 1)) {
    const Constant& c = constant_at(node, constants, 1, source, "split");
    if (c.type != ElementType::int64) fail(source, node, "split must be an int64 tensor");
    s.sizes = c.ints;
  } else if (node.has("split")) {
    s.sizes = node.attr_ints("split");
  } else if (node.has("num_outputs")) {
    const std::int64_t n = node.attr_int("num_outputs", 0);
    if (n != outputs) fail(source, node, fmt::format("num_outputs {} but {} outputs", n, outputs));
    const std::int64_t chunk = (dim + n - 1) / n;
    s.sizes.assign(static_cast<std::size_t>(n), chunk);
    s.sizes.back() = dim - chunk * (n - 1);
  } else {
    if (dim % outputs != 0)
      fail(source, node, fmt::format("axis {} of size {} does not split into {} equal parts", s.axis, dim, outputs));
    s.sizes.assign(static_cast<std::size_t>(outputs), dim / outputs);
  }
  if (static_cast<std::int64_t>(s.sizes.size()) != outputs)
    fail(source, node, fmt::format("split has {} sizes but the node {} outputs", s.sizes.size(), outputs));
  std::int64_t sum = 0;
  for (const auto v : s.sizes) {
    if (v < 1) fail(source, node, fmt::format("split size {} (every part must have at least one element)", v));
    if (v > dim) fail(source, node, fmt::format("split size {} is larger than axis {} ({})", v, s.axis, dim));
    sum += v;
  }
  if (sum != dim) fail(source, node, fmt::format("split sizes sum to {}, but axis {} has {}", sum, s.axis, dim));
  return s;
}

ClipBounds clip_bounds(const Node& node, const std::vector<const Constant*>& constants, const std::string& source) {
  ClipBounds b{-std::numeric_limits<float>::infinity(), std::numeric_limits<float>::infinity()};
  if (node.has("min") || node.has("max")) {  // opset 6
    b.lo = node.attr_float("min", b.lo);
    b.hi = node.attr_float("max", b.hi);
    return b;
  }
  for (std::size_t i = 1; i <= 2; ++i) {
    if (!present(node, i)) continue;
    const Constant& c = constant_at(node, constants, i, source, i == 1 ? "min" : "max");
    if (c.size() != 1) fail(source, node, fmt::format("{} must be a single value", i == 1 ? "min" : "max"));
    (i == 1 ? b.lo : b.hi) = static_cast<float>(float_values(c)[0]);
  }
  return b;
}

double ResizeSpec::source(std::size_t axis, std::int64_t o, std::int64_t in) const {
  const auto x = static_cast<double>(o);
  const double s = scales[axis];
  switch (transform) {
    case Transform::half_pixel:
      return (x + 0.5) / s - 0.5;
    case Transform::pytorch_half_pixel:
      return out[axis] > 1 ? (x + 0.5) / s - 0.5 : 0.0;
    case Transform::align_corners:
      return out[axis] == 1 ? 0.0 : x * static_cast<double>(in - 1) / static_cast<double>(out[axis] - 1);
    case Transform::asymmetric:
      return x / s;
  }
  return 0.0;
}

std::int64_t ResizeSpec::nearest(std::size_t axis, std::int64_t o, std::int64_t in) const {
  const double x = source(axis, o, in);
  double i = 0.0;
  switch (rounding) {
    case Rounding::round_prefer_floor:
      i = x == std::floor(x) + 0.5 ? std::floor(x) : std::round(x);
      break;
    case Rounding::round_prefer_ceil:
      i = x == std::floor(x) + 0.5 ? std::ceil(x) : std::round(x);
      break;
    case Rounding::floor:
      i = std::floor(x);
      break;
    case Rounding::ceil:
      i = std::ceil(x);
      break;
  }
  return std::clamp<std::int64_t>(static_cast<std::int64_t>(i), 0, in - 1);
}

ResizeSpec resize_spec(const Node& node, const Shape& x, const std::vector<const Constant*>& constants,
                       std::int64_t batch, const std::string& source) {
  ResizeSpec r;
  auto unsupported = [&](const char* attribute, const std::string& value) {
    fail(source, node, fmt::format("attribute {} = {} is not supported", attribute, value));
  };
  const std::string mode = node.attr_string("mode", "nearest");
  if (mode == "nearest")
    r.mode = ResizeSpec::Mode::nearest;
  else if (mode == "linear")
    r.mode = ResizeSpec::Mode::linear;
  else
    unsupported("mode", "'" + mode + "' (nearest and linear are)");
  const std::string transform = node.attr_string("coordinate_transformation_mode", "half_pixel");
  if (transform == "half_pixel")
    r.transform = ResizeSpec::Transform::half_pixel;
  else if (transform == "pytorch_half_pixel")
    r.transform = ResizeSpec::Transform::pytorch_half_pixel;
  else if (transform == "align_corners")
    r.transform = ResizeSpec::Transform::align_corners;
  else if (transform == "asymmetric")
    r.transform = ResizeSpec::Transform::asymmetric;
  else
    unsupported("coordinate_transformation_mode", "'" + transform + "'");
  const std::string rounding = node.attr_string("nearest_mode", "round_prefer_floor");
  if (rounding == "round_prefer_floor")
    r.rounding = ResizeSpec::Rounding::round_prefer_floor;
  else if (rounding == "round_prefer_ceil")
    r.rounding = ResizeSpec::Rounding::round_prefer_ceil;
  else if (rounding == "floor")
    r.rounding = ResizeSpec::Rounding::floor;
  else if (rounding == "ceil")
    r.rounding = ResizeSpec::Rounding::ceil;
  else
    unsupported("nearest_mode", "'" + rounding + "'");
  if (node.attr_int("antialias", 0) != 0) unsupported("antialias", "1");
  if (node.has("axes")) unsupported("axes", "(opset 18)");
  if (node.attr_string("keep_aspect_ratio_policy", "stretch") != "stretch")
    unsupported("keep_aspect_ratio_policy", "'" + node.attr_string("keep_aspect_ratio_policy", "") + "'");
  if (x.size() != 3 && x.size() != 4)
    fail(source, node, fmt::format("input of shape {}: only [N, C, W] and [N, C, H, W] are supported", to_string(x)));
  if (r.mode == ResizeSpec::Mode::linear && x.size() != 4)
    fail(source, node, "mode linear is supported on 4-D [N, C, H, W] input only");

  // scales (input 2) or sizes (input 3): exactly one, an empty tensor counting as left out.
  auto given = [&](std::size_t i) -> const Constant* {
    if (!present(node, i)) return nullptr;
    const Constant& c = constant_at(node, constants, i, source, i == 2 ? "scales" : "sizes");
    return c.size() == 0 ? nullptr : &c;
  };
  const Constant* scales = given(2);
  const Constant* sizes = given(3);
  if (scales != nullptr && sizes != nullptr) fail(source, node, "both scales and sizes are given (exactly one may be)");
  if (scales == nullptr && sizes == nullptr) fail(source, node, "neither scales nor sizes is given");
  r.out = x;
  r.scales.assign(x.size(), 1.0);
  if (scales != nullptr) {
    if (scales->type != ElementType::float32) fail(source, node, "scales must be a float tensor");
    if (scales->size() != x.size())
      fail(source, node, fmt::format("scales has {} values, the input rank is {}", scales->size(), x.size()));
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double s = scales->floats[i];
      if (!(s > 0.0) || !std::isfinite(s))
        fail(source, node, fmt::format("scales[{}] = {} (scales must be positive)", i, s));
      r.scales[i] = s;
      const double out = std::floor(static_cast<double>(x[i]) * s);
      if (out > static_cast<double>(kMaxResized))
        fail(source, node, fmt::format("scales[{}] = {} makes axis {} too large", i, s, i));
      r.out[i] = static_cast<std::int64_t>(out);
    }
  } else {
    if (sizes->type != ElementType::int64) fail(source, node, "sizes must be an int64 tensor");
    if (sizes->size() != x.size())
      fail(source, node, fmt::format("sizes has {} values, the input rank is {}", sizes->size(), x.size()));
    for (std::size_t i = 0; i < x.size(); ++i) {
      const std::int64_t v = sizes->ints[i] == kBatchValue ? batch : sizes->ints[i];
      if (v < 1) fail(source, node, fmt::format("sizes[{}] = {} (sizes must be positive)", i, v));
      r.out[i] = v;
      r.scales[i] = static_cast<double>(v) / static_cast<double>(x[i]);
    }
  }
  if (r.out[0] != x[0]) fail(source, node, "resizing axis 0 would change the batch");
  if (r.out[1] != x[1]) fail(source, node, "resizing the channel axis is not supported");
  for (std::size_t i = 2; i < x.size(); ++i) {
    if (r.out[i] < 1) fail(source, node, fmt::format("output axis {} would be empty", i));
    if (r.out[i] > kMaxResized) fail(source, node, fmt::format("output axis {} is too large", i));
  }
  return r;
}

}  // namespace imprecise::nn::detail
