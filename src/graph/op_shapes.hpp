// Internal: operator attribute parsing and output-shape rules shared by prepare() and the backends.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "imprecise/graph/graph.hpp"

namespace imprecise::nn::detail {

inline constexpr std::size_t kMaxRank = 8;
/// Values one tensor may hold per sample (2^28: 1 GiB of floats): bounds what a corrupt file can make a
/// backend allocate for an activation or a node's workspace (buffers hold max_batch samples).
inline constexpr std::size_t kMaxSampleElements = std::size_t{1} << 28;

/// Throws Error "<source>: <node>: <what>".
[[noreturn]] void fail(const std::string& source, const Node& node, const std::string& what);

std::int64_t normalize_axis(std::int64_t axis, std::size_t rank, const std::string& source, const Node& node);
/// NumPy broadcasting of two shapes.
Shape broadcast(const Shape& a, const Shape& b, const std::string& source, const Node& node);

/// Sliding-window geometry (Conv, MaxPool, AveragePool), always 2-D: a 1-D window is a 2-D one with
/// height 1.
struct Window {
  std::int64_t channels = 0, height = 0, width = 0;           // input (per sample)
  std::int64_t out_height = 0, out_width = 0;
  std::int64_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1;
  std::int64_t dilation_h = 1, dilation_w = 1, pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  bool one_d = false;
};
/// x: input shape [B, C, (H,) W]; kernel: spatial kernel sizes. Reads strides, pads, dilations,
/// auto_pad and (for pools) ceil_mode from the node.
Window window(const Node& node, const Shape& x, const std::vector<std::int64_t>& kernel, bool ceil_mode,
              const std::string& source);

/// One axis a Slice node cuts, resolved against the data's shape by ONNX's rules: negative starts and
/// ends count from the end, both are clamped to the axis, a negative step walks backwards.
struct SliceAxis {
  std::size_t axis = 0;
  std::int64_t start = 0, step = 1, count = 0;  ///< element i of the output is element start + i * step
};
/// The axes of a Slice node over data of shape `x`: from its inputs starts, ends, [axes], [steps]
/// (opset >= 10; int64 constants in `constants`, indexed like the node's inputs) or from its
/// attributes starts/ends/axes (opset 1-9). Throws Error naming the node (a zero step, a repeated axis).
std::vector<SliceAxis> slice_axes(const Node& node, const Shape& x, const std::vector<const Constant*>& constants,
                                  const std::string& source);

/// Split: the axis (never 0, the batch) and the size of each output along it, from the `split` input
/// (opset 13+), the `split` attribute (opset 11), `num_outputs` (opset 18: equal parts, the last
/// smaller) or, with none of those, equal parts. Throws Error naming the node when they do not sum to
/// the axis. op_params.cpp.
struct SplitSpec {
  std::size_t axis = 0;
  std::vector<std::int64_t> sizes;
};
SplitSpec split_spec(const Node& node, const Shape& x, const std::vector<const Constant*>& constants,
                     const std::string& source);

/// Clip's bounds: inputs min/max (opset 11+, each optional, a one-value constant) or attributes
/// (opset 6); a bound left out is +-infinity. min > max is allowed (ONNX: every output is max).
struct ClipBounds {
  float lo, hi;
};
ClipBounds clip_bounds(const Node& node, const std::vector<const Constant*>& constants, const std::string& source);

/// Resize (opset 11+: X, roi, scales, sizes) on [N, C, W] or [N, C, H, W]: nearest (any nearest_mode)
/// or linear (4-D) with the half_pixel, pytorch_half_pixel, align_corners or asymmetric coordinate
/// transform. Throws Error naming the node and attribute for anything else.
struct ResizeSpec {
  enum class Mode { nearest, linear };
  enum class Transform { half_pixel, pytorch_half_pixel, align_corners, asymmetric };
  enum class Rounding { round_prefer_floor, round_prefer_ceil, floor, ceil };
  Mode mode = Mode::nearest;
  Transform transform = Transform::half_pixel;
  Rounding rounding = Rounding::round_prefer_floor;
  Shape out;                   ///< output shape (batch as given)
  std::vector<double> scales;  ///< per axis, as the coordinate transform uses them (given, or out / in)
  /// Input coordinate of output index `o` along `axis` (before rounding or clamping).
  double source(std::size_t axis, std::int64_t o, std::int64_t in) const;
  /// Nearest input index of output index `o` along `axis`, clamped to [0, in).
  std::int64_t nearest(std::size_t axis, std::int64_t o, std::int64_t in) const;
};
ResizeSpec resize_spec(const Node& node, const Shape& x, const std::vector<const Constant*>& constants,
                       std::int64_t batch, const std::string& source);

/// Output shape of an activation-producing node. inputs[i] = shape of input i (the batch axis set to
/// `batch`); constants[i] = its value when constant, else nullptr. Throws Error naming the node.
Shape infer_shape(const Node& node, const std::vector<Shape>& inputs, const std::vector<const Constant*>& constants,
                  std::int64_t batch, const std::string& source);

/// Rewrites PyTorch 1.13's opset-13 GELU (Div, Erf, Add, Mul, Mul) and Hardswish (HardSigmoid, Mul) into
/// Gelu and HardSwish nodes where nothing else reads the intermediates. fuse_activations.cpp.
void fuse_activations(Graph& graph);

/// Sentinel in a folded int64 shape tensor: "the batch size" (PyTorch's x.size(0)).
inline constexpr std::int64_t kBatchValue = -(std::int64_t{1} << 62);

}  // namespace imprecise::nn::detail
