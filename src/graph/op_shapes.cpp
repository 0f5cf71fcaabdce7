// Output-shape rules and attribute checks of every supported operator (batch axis concrete here).
// Over 400 lines on purpose: one rule per operator in one dispatch, so a new operator is added (and
// reviewed) next to all the others; the shared window/broadcast helpers above it are what they use.
#include "op_shapes.hpp"

#include <algorithm>
#include <numeric>
#include <utility>

#include <fmt/core.h>

#include "imprecise/error.hpp"

namespace imprecise::nn::detail {

void fail(const std::string& source, const Node& node, const std::string& what) {
  throw Error(fmt::format("{}: {}: {}", source, node.describe(), what));
}

std::int64_t normalize_axis(std::int64_t axis, std::size_t rank, const std::string& source, const Node& node) {
  const auto r = static_cast<std::int64_t>(rank);
  if (axis < -r || axis >= r) fail(source, node, fmt::format("axis {} out of range for rank {}", axis, rank));
  return axis < 0 ? axis + r : axis;
}

Shape broadcast(const Shape& a, const Shape& b, const std::string& source, const Node& node) {
  const std::size_t rank = std::max(a.size(), b.size());
  Shape out(rank, 1);
  for (std::size_t i = 0; i < rank; ++i) {
    const std::int64_t da = i + a.size() >= rank ? a[i + a.size() - rank] : 1;
    const std::int64_t db = i + b.size() >= rank ? b[i + b.size() - rank] : 1;
    if (da != db && da != 1 && db != 1)
      fail(source, node, fmt::format("shapes {} and {} cannot be broadcast", to_string(a), to_string(b)));
    out[i] = da == 1 ? db : da;
  }
  return out;
}

namespace {

// Shape arithmetic on sizes a file claims: an overflow is a corrupt file (found by fuzzing), not UB.
std::int64_t checked_add(std::int64_t a, std::int64_t b, const std::string& source, const Node& node) {
  std::int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) fail(source, node, "tensor dimension overflows");
  return sum;
}

std::int64_t checked_mul(std::int64_t a, std::int64_t b, const std::string& source, const Node& node) {
  std::int64_t product = 0;
  if (__builtin_mul_overflow(a, b, &product)) fail(source, node, "tensor dimension overflows");
  return product;
}

// Window attributes beyond this are corrupt; the bound keeps dilation * kernel and in + pads in range.
constexpr std::int64_t kMaxWindow = std::int64_t{1} << 31;

std::int64_t pooled_size(std::int64_t in, std::int64_t pads, std::int64_t kernel, std::int64_t stride,
                         std::int64_t dilation, bool ceil_mode, std::int64_t pad_begin) {
  const std::int64_t span = dilation * (kernel - 1) + 1;
  const std::int64_t room = in + pads - span;
  if (room < 0) return 0;
  std::int64_t out = (ceil_mode ? (room + stride - 1) / stride : room / stride) + 1;
  // PyTorch/ONNX: the last window must start inside the input or its leading pad.
  if (ceil_mode && (out - 1) * stride >= in + pad_begin) --out;
  return out;
}

}  // namespace

Window window(const Node& node, const Shape& x, const std::vector<std::int64_t>& kernel, bool ceil_mode,
              const std::string& source) {
  if (x.size() != 3 && x.size() != 4)
    fail(source, node, fmt::format("input of shape {}: only 1-D and 2-D windows ([N, C, W] or [N, C, H, W]) are supported",
                                   to_string(x)));
  const std::size_t spatial = x.size() - 2;
  if (kernel.size() != spatial)
    fail(source, node, fmt::format("kernel has {} dimensions, the input {} spatial ones", kernel.size(), spatial));
  auto strides = node.attr_ints("strides", std::vector<std::int64_t>(spatial, 1));
  auto dilations = node.attr_ints("dilations", std::vector<std::int64_t>(spatial, 1));
  auto pads = node.attr_ints("pads", std::vector<std::int64_t>(2 * spatial, 0));
  if (strides.size() != spatial || dilations.size() != spatial || pads.size() != 2 * spatial)
    fail(source, node, "strides/dilations/pads do not match the number of spatial axes");
  for (std::size_t i = 0; i < spatial; ++i) {
    if (strides[i] < 1 || dilations[i] < 1 || kernel[i] < 1)
      fail(source, node, "kernel sizes, strides and dilations must be >= 1");
    if (pads[i] < 0 || pads[i + spatial] < 0) fail(source, node, "pads must be >= 0");
    if (strides[i] > kMaxWindow || dilations[i] > kMaxWindow || kernel[i] > kMaxWindow || pads[i] > kMaxWindow ||
        pads[i + spatial] > kMaxWindow || x[2 + i] > kMaxWindow)
      fail(source, node, "kernel, stride, dilation, pad or input size too large");
  }
  const std::string auto_pad = node.attr_string("auto_pad", "NOTSET");
  if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    for (std::size_t i = 0; i < spatial; ++i) {
      const std::int64_t in = x[2 + i];
      const std::int64_t out = (in + strides[i] - 1) / strides[i];
      const std::int64_t total =
          std::max<std::int64_t>(0, (out - 1) * strides[i] + dilations[i] * (kernel[i] - 1) + 1 - in);
      const std::int64_t small = total / 2;
      pads[i] = auto_pad == "SAME_UPPER" ? small : total - small;
      pads[i + spatial] = total - pads[i];
    }
  } else if (auto_pad == "VALID") {
    std::fill(pads.begin(), pads.end(), 0);
  } else if (auto_pad != "NOTSET") {
    fail(source, node, fmt::format("auto_pad '{}' is not supported", auto_pad));
  }
  Window w;
  w.channels = x[1];
  w.one_d = spatial == 1;
  if (w.one_d) {
    w.height = 1;
    w.width = x[2];
    w.kernel_w = kernel[0];
    w.stride_w = strides[0];
    w.dilation_w = dilations[0];
    w.pad_left = pads[0];
    w.pad_right = pads[1];
  } else {
    w.height = x[2];
    w.width = x[3];
    w.kernel_h = kernel[0];
    w.kernel_w = kernel[1];
    w.stride_h = strides[0];
    w.stride_w = strides[1];
    w.dilation_h = dilations[0];
    w.dilation_w = dilations[1];
    w.pad_top = pads[0];
    w.pad_left = pads[1];
    w.pad_bottom = pads[2];
    w.pad_right = pads[3];
  }
  w.out_height = pooled_size(w.height, w.pad_top + w.pad_bottom, w.kernel_h, w.stride_h, w.dilation_h, ceil_mode, w.pad_top);
  w.out_width = pooled_size(w.width, w.pad_left + w.pad_right, w.kernel_w, w.stride_w, w.dilation_w, ceil_mode, w.pad_left);
  if (w.out_height < 1 || w.out_width < 1)
    fail(source, node, fmt::format("the window does not fit the input of shape {}", to_string(x)));
  return w;
}

namespace {

void expect_inputs(const Node& node, const std::vector<Shape>& inputs, std::size_t low, std::size_t high,
                   const std::string& source) {
  if (inputs.size() < low || inputs.size() > high)
    fail(source, node, fmt::format("has {} inputs, expected {} to {}", inputs.size(), low, high));
}

Shape window_output(const Window& w, std::int64_t batch, std::int64_t channels) {
  return w.one_d ? Shape{batch, channels, w.out_width} : Shape{batch, channels, w.out_height, w.out_width};
}

const Constant& constant_input(const Node& node, const std::vector<const Constant*>& constants, std::size_t i,
                               const std::string& source) {
  if (i >= constants.size() || constants[i] == nullptr)
    fail(source, node, fmt::format("input {} ('{}') must be a constant", i, i < node.inputs.size() ? node.inputs[i] : ""));
  return *constants[i];
}

// Weights, biases and normalisation parameters: the kernels read them as float32 (an int64 tensor
// there is a corrupt or hand-edited file; fuzzing found it).
const Constant& float_constant_input(const Node& node, const std::vector<const Constant*>& constants, std::size_t i,
                                     const std::string& source) {
  const Constant& c = constant_input(node, constants, i, source);
  if (c.type != ElementType::float32)
    fail(source, node, fmt::format("input {} ('{}') must be a float32 tensor", i, node.inputs[i]));
  return c;
}

std::vector<std::int64_t> int_values(const Constant& c, const Node& node, const std::string& what,
                                     const std::string& source) {
  if (c.type != ElementType::int64) fail(source, node, fmt::format("{} must be an int64 tensor", what));
  return c.ints;
}

Shape reshape_target(const Node& node, const Shape& in, std::vector<std::int64_t> target, std::int64_t batch,
                     const std::string& source) {
  const bool allow_zero = node.attr_int("allowzero", 0) != 0;
  std::int64_t known = 1;
  int infer = -1;
  for (std::size_t i = 0; i < target.size(); ++i) {
    if (target[i] == kBatchValue) target[i] = batch;
    if (target[i] == 0 && !allow_zero) {
      if (i >= in.size()) fail(source, node, "shape entry 0 refers past the input's rank");
      target[i] = in[i];
    }
    if (target[i] == -1) {
      if (infer >= 0) fail(source, node, "shape has more than one -1");
      infer = static_cast<int>(i);
      continue;
    }
    if (target[i] < 0) fail(source, node, fmt::format("invalid shape entry {}", target[i]));
    known = checked_mul(known, target[i], source, node);
  }
  const auto total = static_cast<std::int64_t>(element_count(in));
  if (infer >= 0) {
    if (known == 0 || total % known != 0)
      fail(source, node, fmt::format("cannot reshape {} to {}", to_string(in), to_string(target)));
    target[static_cast<std::size_t>(infer)] = total / known;
  } else if (known != total) {
    fail(source, node, fmt::format("cannot reshape {} ({} elements) to {} ({} elements)", to_string(in), total,
                                   to_string(target), known));
  }
  return target;
}


// A convolution's workspace per sample, as large as any backend makes it: the input copied into a
// zero-padded buffer, and the im2col matrix (every kernel tap of every input channel for every output
// position). Pads and a stride that are each legal can make either huge while the output stays small.
void check_conv_workspace(const Node& node, const Window& w, const std::string& source) {
  const auto add = [&](std::int64_t a, std::int64_t b) { return checked_add(a, b, source, node); };
  const auto mul = [&](std::int64_t a, std::int64_t b) { return checked_mul(a, b, source, node); };
  const std::int64_t padded =
      mul(w.channels, mul(add(w.height, add(w.pad_top, w.pad_bottom)), add(w.width, add(w.pad_left, w.pad_right))));
  const std::int64_t columns = mul(mul(w.channels, mul(w.kernel_h, w.kernel_w)), mul(w.out_height, w.out_width));
  for (const auto& [values, what] : {std::pair{padded, "padded input"}, std::pair{columns, "im2col matrix"}})
    if (static_cast<std::uint64_t>(values) > kMaxSampleElements)
      fail(source, node, fmt::format("its {} would hold {} values per sample, more than the {} allowed", what, values,
                                     kMaxSampleElements));
}

}  // namespace

std::vector<SliceAxis> slice_axes(const Node& node, const Shape& x, const std::vector<const Constant*>& constants,
                                  const std::string& source) {
  std::vector<std::int64_t> starts, ends, axes, steps;
  if (node.has("starts")) {  // opset 1-9: attributes
    starts = node.attr_ints("starts");
    ends = node.attr_ints("ends");
    axes = node.attr_ints("axes");
  } else {
    auto values = [&](std::size_t i, const char* what) -> std::vector<std::int64_t> {
      if (i >= node.inputs.size() || node.inputs[i].empty()) return {};
      return int_values(constant_input(node, constants, i, source), node, what, source);
    };
    starts = values(1, "starts");
    ends = values(2, "ends");
    axes = values(3, "axes");
    steps = values(4, "steps");
  }
  if (starts.size() != ends.size() || starts.empty())
    fail(source, node, fmt::format("starts ({} values) and ends ({}) must have the same, non-zero length", starts.size(),
                                   ends.size()));
  if (axes.empty())
    for (std::size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<std::int64_t>(i));
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (axes.size() != starts.size() || steps.size() != starts.size())
    fail(source, node, "starts, ends, axes and steps must have the same length");
  std::vector<SliceAxis> out;
  std::vector<bool> seen(x.size(), false);
  for (std::size_t i = 0; i < starts.size(); ++i) {
    SliceAxis s;
    s.axis = static_cast<std::size_t>(normalize_axis(axes[i], x.size(), source, node));
    if (seen[s.axis]) fail(source, node, fmt::format("axis {} is sliced twice", s.axis));
    seen[s.axis] = true;
    s.step = steps[i];
    if (s.step == 0) fail(source, node, "a step of 0");
    const std::int64_t dim = x[s.axis];
    std::int64_t start = starts[i], end = ends[i];
    if (start < 0) start = start < -dim ? -1 : start + dim;  // (INT64_MIN-safe)
    if (end < 0) end = end < -dim ? -1 : end + dim;
    if (s.step > 0) {
      start = std::clamp<std::int64_t>(start, 0, dim);
      end = std::clamp<std::int64_t>(end, 0, dim);
      s.count = end > start ? (end - start + s.step - 1) / s.step : 0;
    } else {
      start = std::clamp<std::int64_t>(start, 0, dim - 1);
      end = std::clamp<std::int64_t>(end, -1, dim - 1);
      s.count = start > end ? (start - end - s.step - 1) / -s.step : 0;
    }
    s.start = start;
    out.push_back(s);
  }
  return out;
}

Shape infer_shape(const Node& node, const std::vector<Shape>& inputs, const std::vector<const Constant*>& constants,
                  std::int64_t batch, const std::string& source) {
  const std::string& op = node.op;
  if (node.outputs.empty() || node.outputs[0].empty()) fail(source, node, "has no output");
  if (node.outputs.size() != 1 && !(op == "BatchNormalization" || op == "MaxPool"))
    fail(source, node, fmt::format("has {} outputs, expected 1", node.outputs.size()));
  if (node.outputs.size() > 1) {
    for (std::size_t i = 1; i < node.outputs.size(); ++i)
      if (!node.outputs[i].empty()) fail(source, node, "only the first output is supported");
  }
  for (std::size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].size() > kMaxRank) fail(source, node, fmt::format("input {} has rank > {}", i, kMaxRank));

  if (op == "Relu" || op == "Sigmoid" || op == "Tanh" || op == "Identity") {
    expect_inputs(node, inputs, 1, 1, source);
    return inputs[0];
  }
  if (op == "LeakyRelu" || op == "HardSigmoid" || op == "HardSwish" || op == "Erf" || op == "Gelu") {
    expect_inputs(node, inputs, 1, 1, source);
    node.attr_float("alpha", 0.0f);  // a wrong type throws here, at load, rather than at compile
    node.attr_float("beta", 0.0f);
    const std::string approximate = node.attr_string("approximate", "none");
    if (op == "Gelu" && approximate != "none" && approximate != "tanh")
      fail(source, node, fmt::format("attribute approximate = '{}' (none or tanh)", approximate));
    return inputs[0];
  }
  if (op == "Clip") {
    expect_inputs(node, inputs, 1, 3, source);
    clip_bounds(node, constants, source);
    return inputs[0];
  }
  if (op == "Resize") {
    expect_inputs(node, inputs, 1, 4, source);
    return resize_spec(node, inputs[0], constants, batch, source).out;
  }
  if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") {
    expect_inputs(node, inputs, 2, 2, source);
    return broadcast(inputs[0], inputs[1], source, node);
  }
  if (op == "Conv") {
    expect_inputs(node, inputs, 2, 3, source);
    const Shape& x = inputs[0];
    const Shape& w = inputs[1];
    float_constant_input(node, constants, 1, source);
    if (w.size() != x.size()) fail(source, node, fmt::format("weight {} and input {} ranks differ", to_string(w), to_string(x)));
    const std::int64_t group = node.attr_int("group", 1);
    if (group < 1 || x[1] % group != 0 || w[0] % group != 0)
      fail(source, node, fmt::format("group {} does not divide the channels", group));
    if (checked_mul(w[1], group, source, node) != x[1])
      fail(source, node, fmt::format("weight {} expects {} input channels, the input {} has {}", to_string(w),
                                     w[1] * group, to_string(x), x[1]));
    const std::vector<std::int64_t> kernel(w.begin() + 2, w.end());
    if (node.has("kernel_shape") && node.attr_ints("kernel_shape") != kernel)
      fail(source, node, "kernel_shape disagrees with the weight's shape");
    if (inputs.size() == 3) {
      float_constant_input(node, constants, 2, source);
      if (inputs[2] != Shape{w[0]}) fail(source, node, fmt::format("bias shape {} is not [{}]", to_string(inputs[2]), w[0]));
    }
    const Window win = window(node, x, kernel, false, source);
    check_conv_workspace(node, win, source);
    return window_output(win, x[0], w[0]);
  }
  if (op == "MaxPool" || op == "AveragePool") {
    expect_inputs(node, inputs, 1, 1, source);
    if (!node.has("kernel_shape")) fail(source, node, "kernel_shape is required");
    if (node.attr_int("storage_order", 0) != 0) fail(source, node, "storage_order 1 is not supported");
    if (op == "AveragePool" && node.has("dilations")) {
      for (const auto d : node.attr_ints("dilations"))
        if (d != 1) fail(source, node, "dilated AveragePool is not supported");
    }
    const Window w = window(node, inputs[0], node.attr_ints("kernel_shape"), node.attr_int("ceil_mode", 0) != 0, source);
    return window_output(w, inputs[0][0], inputs[0][1]);
  }
  if (op == "GlobalAveragePool" || op == "GlobalMaxPool") {
    expect_inputs(node, inputs, 1, 1, source);
    if (inputs[0].size() < 3) fail(source, node, "input must be [N, C, spatial...]");
    Shape out = inputs[0];
    std::fill(out.begin() + 2, out.end(), 1);
    return out;
  }
  if (op == "BatchNormalization") {
    expect_inputs(node, inputs, 5, 5, source);
    if (node.attr_int("training_mode", 0) != 0) fail(source, node, "training_mode is not supported");
    if (inputs[0].size() < 2) fail(source, node, "input must be [N, C, ...]");
    for (std::size_t i = 1; i < 5; ++i) {
      float_constant_input(node, constants, i, source);
      if (inputs[i] != Shape{inputs[0][1]})
        fail(source, node, fmt::format("parameter '{}' has shape {}, expected [{}]", node.inputs[i], to_string(inputs[i]),
                                       inputs[0][1]));
    }
    return inputs[0];
  }
  if (op == "Gemm") {
    expect_inputs(node, inputs, 2, 3, source);
    const Shape& a = inputs[0];
    const Shape& b = inputs[1];
    float_constant_input(node, constants, 1, source);
    if (a.size() != 2 || b.size() != 2) fail(source, node, "A and B must be matrices");
    if (node.attr_int("transA", 0) != 0) fail(source, node, "transA would move the batch axis; not supported");
    const bool trans_b = node.attr_int("transB", 0) != 0;
    const std::int64_t k = trans_b ? b[1] : b[0];
    const std::int64_t n = trans_b ? b[0] : b[1];
    if (a[1] != k) fail(source, node, fmt::format("A {} and B {} do not multiply", to_string(a), to_string(b)));
    if (inputs.size() == 3 && !node.inputs[2].empty()) {
      float_constant_input(node, constants, 2, source);
      const Shape& c = inputs[2];
      const bool row = c.empty() || (c.size() == 1 && (c[0] == n || c[0] == 1)) ||
                       (c.size() == 2 && c[0] == 1 && (c[1] == n || c[1] == 1));
      if (!row) fail(source, node, fmt::format("bias C of shape {} must broadcast to [1, {}]", to_string(c), n));
    }
    return Shape{a[0], n};
  }
  if (op == "MatMul") {
    expect_inputs(node, inputs, 2, 2, source);
    Shape a = inputs[0];
    Shape b = inputs[1];
    if (a.size() < 2 || b.size() < 2) fail(source, node, "1-D MatMul operands are not supported");
    const std::int64_t m = a[a.size() - 2], k = a.back(), k2 = b[b.size() - 2], n = b.back();
    if (k != k2) fail(source, node, fmt::format("shapes {} and {} do not multiply", to_string(a), to_string(b)));
    Shape out = broadcast(Shape(a.begin(), a.end() - 2), Shape(b.begin(), b.end() - 2), source, node);
    out.push_back(m);
    out.push_back(n);
    return out;
  }
  if (op == "Flatten") {
    expect_inputs(node, inputs, 1, 1, source);
    const Shape& x = inputs[0];
    const std::int64_t axis = normalize_axis(node.attr_int("axis", 1), x.size() + 1, source, node);
    std::int64_t outer = 1, inner = 1;
    for (std::size_t i = 0; i < x.size(); ++i) {
      std::int64_t& part = static_cast<std::int64_t>(i) < axis ? outer : inner;
      part = checked_mul(part, x[i], source, node);
    }
    return Shape{outer, inner};
  }
  if (op == "Reshape") {
    expect_inputs(node, inputs, 2, 2, source);
    const Constant& shape = constant_input(node, constants, 1, source);
    return reshape_target(node, inputs[0], int_values(shape, node, "the shape input", source), batch, source);
  }
  if (op == "Unsqueeze" || op == "Squeeze") {
    expect_inputs(node, inputs, 1, 2, source);
    std::vector<std::int64_t> axes;
    if (inputs.size() == 2) axes = int_values(constant_input(node, constants, 1, source), node, "axes", source);
    else if (node.has("axes")) axes = node.attr_ints("axes");
    const Shape& x = inputs[0];
    if (op == "Unsqueeze") {
      const std::size_t rank = x.size() + axes.size();
      std::vector<bool> inserted(rank, false);
      for (const auto a : axes) {
        const auto i = static_cast<std::size_t>(normalize_axis(a, rank, source, node));
        if (inserted[i]) fail(source, node, "repeated axis");
        inserted[i] = true;
      }
      Shape out;
      std::size_t next = 0;
      for (std::size_t i = 0; i < rank; ++i) out.push_back(inserted[i] ? 1 : x[next++]);
      return out;
    }
    std::vector<bool> removed(x.size(), false);
    if (axes.empty()) {
      for (std::size_t i = 0; i < x.size(); ++i) removed[i] = x[i] == 1;
    }
    for (const auto a : axes) {
      const auto i = static_cast<std::size_t>(normalize_axis(a, x.size(), source, node));
      if (x[i] != 1) fail(source, node, fmt::format("cannot squeeze axis {} of size {}", a, x[i]));
      removed[i] = true;
    }
    Shape out;
    for (std::size_t i = 0; i < x.size(); ++i)
      if (!removed[i]) out.push_back(x[i]);
    return out;
  }
  if (op == "Transpose") {
    expect_inputs(node, inputs, 1, 1, source);
    const Shape& x = inputs[0];
    std::vector<std::int64_t> perm(x.size());
    std::iota(perm.rbegin(), perm.rend(), 0);
    perm = node.attr_ints("perm", perm);
    if (perm.size() != x.size()) fail(source, node, "perm does not match the input's rank");
    std::vector<bool> seen(x.size(), false);
    Shape out;
    for (const auto p : perm) {
      if (p < 0 || p >= static_cast<std::int64_t>(x.size()) || seen[static_cast<std::size_t>(p)])
        fail(source, node, "perm is not a permutation");
      seen[static_cast<std::size_t>(p)] = true;
      out.push_back(x[static_cast<std::size_t>(p)]);
    }
    return out;
  }
  if (op == "Concat") {
    expect_inputs(node, inputs, 1, 64, source);
    const std::size_t rank = inputs[0].size();
    const auto axis = static_cast<std::size_t>(normalize_axis(node.attr_int("axis", 0), rank, source, node));
    Shape out = inputs[0];
    for (std::size_t i = 1; i < inputs.size(); ++i) {
      const Shape& s = inputs[i];
      bool ok = s.size() == rank;
      for (std::size_t d = 0; ok && d < rank; ++d) ok = d == axis || s[d] == out[d];
      if (!ok) fail(source, node, fmt::format("input shapes {} and {} do not concatenate on axis {}", to_string(inputs[0]),
                                              to_string(s), axis));
      out[axis] = checked_add(out[axis], s[axis], source, node);
    }
    return out;
  }
  if (op == "Pad") {
    expect_inputs(node, inputs, 2, 3, source);
    if (node.attr_string("mode", "constant") != "constant") fail(source, node, "only constant padding is supported");
    const auto pads = int_values(constant_input(node, constants, 1, source), node, "pads", source);
    const Shape& x = inputs[0];
    if (pads.size() != 2 * x.size()) fail(source, node, fmt::format("pads has {} values, expected {}", pads.size(), 2 * x.size()));
    if (inputs.size() == 3 && !node.inputs[2].empty()) {
      constant_input(node, constants, 2, source);
      if (element_count(inputs[2]) != 1) fail(source, node, "constant_value must be a scalar");
    }
    Shape out = x;
    for (std::size_t i = 0; i < x.size(); ++i) {
      if (pads[i] < 0 || pads[i + x.size()] < 0) fail(source, node, "negative pads are not supported");
      out[i] = checked_add(out[i], checked_add(pads[i], pads[i + x.size()], source, node), source, node);
    }
    return out;
  }
  if (op == "Softmax") {
    expect_inputs(node, inputs, 1, 1, source);
    if (normalize_axis(node.attr_int("axis", -1), inputs[0].size(), source, node) == 0)
      fail(source, node, "softmax over axis 0 would mix the samples of a batch");
    return inputs[0];
  }
  if (op == "ReduceMax" || op == "ReduceMean") {
    expect_inputs(node, inputs, 1, 1, source);
    const Shape& x = inputs[0];
    const bool keep = node.attr_int("keepdims", 1) != 0;
    if (!node.has("axes")) fail(source, node, "reducing over all axes would mix the samples of a batch");
    std::vector<bool> reduced(x.size(), false);
    for (const auto a : node.attr_ints("axes")) {
      const auto i = static_cast<std::size_t>(normalize_axis(a, x.size(), source, node));
      if (i == 0) fail(source, node, "reducing over axis 0 would mix the samples of a batch");
      reduced[i] = true;
    }
    Shape out;
    for (std::size_t i = 0; i < x.size(); ++i) {
      if (!reduced[i]) out.push_back(x[i]);
      else if (keep) out.push_back(1);
    }
    return out;
  }
  if (op == "Slice") {
    expect_inputs(node, inputs, 1, 5, source);
    Shape out = inputs[0];
    for (const SliceAxis& s : slice_axes(node, inputs[0], constants, source)) {
      if (s.axis == 0 && (s.start != 0 || s.step != 1 || s.count != inputs[0][0]))
        fail(source, node, "slicing axis 0 would change the batch (only its whole range may be given)");
      if (s.count < 1) fail(source, node, fmt::format("the slice of axis {} is empty", s.axis));
      out[s.axis] = s.count;
    }
    return out;
  }
  fail(source, node, fmt::format("operator '{}' is not supported", op));
}

}  // namespace imprecise::nn::detail
