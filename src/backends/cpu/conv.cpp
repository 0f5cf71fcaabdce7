// Convolution on the cpu backend: the input copied into a zero-padded buffer, then a register-tiled
// GEMM whose right-hand rows are shifted views of that buffer (im2col only for strided convolutions).
//
// The hot loop exists twice: built for the baseline ISA of the library and, on x86-64, for AVX2 +
// FMA through a function-level target attribute, chosen once at compile time from the CPU. Only the
// bodies of conv_batch_avx2 use AVX2: everything it calls out of line (memcpy) and every template
// this file instantiates is compiled for the baseline ISA, so a CPU without AVX2 never executes an
// AVX2 instruction and no weak symbol shared with another file carries AVX2 code (no -mavx2 flag,
// unlike a per-file ISA option, which would hand the linker AVX2 copies of inline Eigen templates).
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

#include "kernel.hpp"
#include "op_shapes.hpp"

#if defined(__x86_64__) || defined(__i386__)
#define IMPRECISE_CPU_X86 1
#else
#define IMPRECISE_CPU_X86 0
#endif

namespace imprecise::nn::cpu {

namespace {

constexpr Index kTileRows = 4;   // output channels per register tile
constexpr Index kColAlign = 16;  // GEMM columns are padded to this (the widest tile)

template <int Lanes>
struct VecOf;
template <>
struct VecOf<4> {
  using type = float __attribute__((vector_size(16)));
};
template <>
struct VecOf<8> {
  using type = float __attribute__((vector_size(32)));
};

Index round_up(Index v, Index to) { return (v + to - 1) / to * to; }

/// Geometry and storage of one Conv node, fixed at compile. GEMM per sample and group:
/// acc[m_pad x cols_pad] = packed weights [m_pad x k] * B [k x cols_pad], where row i of B starts
/// at base + offsets[i]: a shifted window of the padded input (stride 1: "implicit" im2col, output
/// position (oy, ox) is column oy * pitch + ox, pitch = padded width), or row i of `cols`, the
/// explicit im2col matrix (strided: pitch = out_width).
struct ConvPlan {
  Index groups = 1, channels = 0, out_channels = 0, cg = 0, mg = 0, m_pad = 0, k = 0;
  Index height = 0, width = 0, hp = 0, wp = 0, pad_top = 0, pad_left = 0;
  Index out_h = 0, out_w = 0, kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, dil_h = 1, dil_w = 1;
  bool implicit = true, relu = false;
  Index pitch = 0, cols = 0, cols_pad = 0;
  const Index* offsets = nullptr;
  const float* weights = nullptr;  // per group: m_pad / kTileRows blocks of [k][kTileRows]
  const float* bias = nullptr;     // out_channels
  float* padded = nullptr;         // cg planes of hp x wp, borders and slack zero for good
  float* im2col = nullptr;         // k x cols_pad (strided only)
  float* acc = nullptr;            // m_pad x cols_pad
};

/// kTileRows x (2 * Lanes) block of acc += w * B over all k. w: packed [k][kTileRows]; b: column 0
/// of the tile in B's row 0 coordinates (row i at b + off[i]).
template <int Lanes>
[[gnu::always_inline]] inline void micro_tile(const float* w, const float* b, const Index* off, Index k, float* c,
                                              Index ldc) {
  using V = typename VecOf<Lanes>::type;
  V c00{}, c01{}, c10{}, c11{}, c20{}, c21{}, c30{}, c31{};
  for (Index i = 0; i < k; ++i) {
    const float* row = b + off[i];
    V b0, b1;
    std::memcpy(&b0, row, sizeof(V));
    std::memcpy(&b1, row + Lanes, sizeof(V));
    const float* wi = w + i * kTileRows;
    c00 += wi[0] * b0;
    c01 += wi[0] * b1;
    c10 += wi[1] * b0;
    c11 += wi[1] * b1;
    c20 += wi[2] * b0;
    c21 += wi[2] * b1;
    c30 += wi[3] * b0;
    c31 += wi[3] * b1;
  }
  std::memcpy(c, &c00, sizeof(V));
  std::memcpy(c + Lanes, &c01, sizeof(V));
  std::memcpy(c + ldc, &c10, sizeof(V));
  std::memcpy(c + ldc + Lanes, &c11, sizeof(V));
  std::memcpy(c + 2 * ldc, &c20, sizeof(V));
  std::memcpy(c + 2 * ldc + Lanes, &c21, sizeof(V));
  std::memcpy(c + 3 * ldc, &c30, sizeof(V));
  std::memcpy(c + 3 * ldc + Lanes, &c31, sizeof(V));
}

/// One sample and group: x = its cg input planes, out = its mg output planes.
template <int Lanes>
[[gnu::always_inline]] inline void conv_group(const ConvPlan& p, const float* x, const float* w, const float* bias,
                                              float* out) {
  const Index plane = p.hp * p.wp;
  // Rows are short (tens of floats): a loop the compiler vectorizes beats a memcpy call per row.
  for (Index c = 0; c < p.cg; ++c)
    for (Index y = 0; y < p.height; ++y) {
      const float* src = x + (c * p.height + y) * p.width;
      float* dst = p.padded + c * plane + (y + p.pad_top) * p.wp + p.pad_left;
      for (Index i = 0; i < p.width; ++i) dst[i] = src[i];
    }
  const float* base = p.padded;
  if (!p.implicit) {
    for (Index c = 0; c < p.cg; ++c)
      for (Index ki = 0; ki < p.kernel_h; ++ki)
        for (Index kj = 0; kj < p.kernel_w; ++kj) {
          float* dst = p.im2col + ((c * p.kernel_h + ki) * p.kernel_w + kj) * p.cols_pad;
          const float* src = p.padded + c * plane + ki * p.dil_h * p.wp + kj * p.dil_w;
          for (Index oy = 0; oy < p.out_h; ++oy) {
            const float* r = src + oy * p.stride_h * p.wp;
            for (Index ox = 0; ox < p.out_w; ++ox) *dst++ = r[ox * p.stride_w];
          }
        }
    base = p.im2col;
  }
  constexpr Index tile_cols = 2 * Lanes;
  for (Index j0 = 0; j0 < p.cols; j0 += tile_cols)
    for (Index m0 = 0; m0 < p.m_pad; m0 += kTileRows)
      micro_tile<Lanes>(w + m0 * p.k, base + j0, p.offsets, p.k, p.acc + m0 * p.cols_pad + j0, p.cols_pad);
  for (Index m = 0; m < p.mg; ++m) {
    const float bm = bias[m];
    const float* a = p.acc + m * p.cols_pad;
    float* o = out + m * p.out_h * p.out_w;
    for (Index oy = 0; oy < p.out_h; ++oy) {
      const float* ar = a + oy * p.pitch;
      float* orow = o + oy * p.out_w;
      if (p.relu) {
        for (Index ox = 0; ox < p.out_w; ++ox) orow[ox] = std::max(ar[ox] + bm, 0.0f);
      } else {
        for (Index ox = 0; ox < p.out_w; ++ox) orow[ox] = ar[ox] + bm;
      }
    }
  }
}

template <int Lanes>
[[gnu::always_inline]] inline void conv_batch_body(const ConvPlan& p, Index batch, const float* x, float* out) {
  const Index in_plane = p.height * p.width, out_plane = p.out_h * p.out_w;
  for (Index n = 0; n < batch; ++n)
    for (Index g = 0; g < p.groups; ++g)
      conv_group<Lanes>(p, x + (n * p.channels + g * p.cg) * in_plane, p.weights + g * p.m_pad * p.k,
                        p.bias + g * p.mg, out + (n * p.out_channels + g * p.mg) * out_plane);
}

using ConvFn = void (*)(const ConvPlan&, Index, const float*, float*);

void conv_batch_generic(const ConvPlan& p, Index batch, const float* x, float* out) {
  conv_batch_body<4>(p, batch, x, out);
}

#if IMPRECISE_CPU_X86
[[gnu::target("avx2,fma")]] void conv_batch_avx2(const ConvPlan& p, Index batch, const float* x, float* out) {
  conv_batch_body<8>(p, batch, x, out);
}
#endif

bool cpu_has_avx2() {
#if IMPRECISE_CPU_X86
  static const bool yes = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }();
  return yes;
#else
  return false;
#endif
}

bool use_avx2(CpuIsa isa) { return isa != CpuIsa::generic && cpu_has_avx2(); }

class ConvKernel final : public Kernel {
 public:
  ConvKernel(const Graph& g, const Node& node, bool relu, CpuIsa isa) {
    const Shape& xs = g.shapes.at(node.inputs[0]);
    const Constant& w = *g.find_constant(node.inputs[1]);
    const detail::Window win =
        detail::window(node, xs, Shape(w.shape.begin() + 2, w.shape.end()), false, g.source);
    if (win.out_height < 1 || win.out_width < 1) detail::fail(g.source, node, "convolution with an empty output");
    ConvPlan& p = plan_;
    p.groups = node.attr_int("group", 1);
    p.channels = win.channels;
    p.out_channels = w.shape[0];
    p.cg = win.channels / p.groups;
    p.mg = p.out_channels / p.groups;
    p.m_pad = round_up(p.mg, kTileRows);
    p.kernel_h = win.kernel_h;
    p.kernel_w = win.kernel_w;
    p.k = p.cg * p.kernel_h * p.kernel_w;
    p.height = win.height;
    p.width = win.width;
    p.pad_top = win.pad_top;
    p.pad_left = win.pad_left;
    p.hp = win.height + win.pad_top + win.pad_bottom;
    p.wp = win.width + win.pad_left + win.pad_right;
    p.out_h = win.out_height;
    p.out_w = win.out_width;
    p.stride_h = win.stride_h;
    p.stride_w = win.stride_w;
    p.dil_h = win.dilation_h;
    p.dil_w = win.dilation_w;
    p.implicit = p.stride_h == 1 && p.stride_w == 1;
    p.relu = relu;
    p.pitch = p.implicit ? p.wp : p.out_w;
    p.cols = (p.out_h - 1) * p.pitch + p.out_w;
    p.cols_pad = round_up(p.cols, kColAlign);

    offsets_.resize(static_cast<std::size_t>(p.k));
    Index last = 0;
    for (Index c = 0; c < p.cg; ++c)
      for (Index ki = 0; ki < p.kernel_h; ++ki)
        for (Index kj = 0; kj < p.kernel_w; ++kj) {
          const Index i = (c * p.kernel_h + ki) * p.kernel_w + kj;
          const Index off = p.implicit ? c * p.hp * p.wp + ki * p.dil_h * p.wp + kj * p.dil_w : i * p.cols_pad;
          offsets_[static_cast<std::size_t>(i)] = off;
          last = std::max(last, off);
        }
    // Tiles read whole rows of cols_pad columns: the padded buffer gets zero slack past its last
    // plane so that the shifted rows of the last tiles stay inside it.
    const Index padded = p.implicit ? std::max(p.cg * p.hp * p.wp, last + p.cols_pad) : p.cg * p.hp * p.wp;
    padded_.assign(static_cast<std::size_t>(padded), 0.0f);
    if (!p.implicit) im2col_.assign(static_cast<std::size_t>(p.k * p.cols_pad), 0.0f);
    acc_.assign(static_cast<std::size_t>(p.m_pad * p.cols_pad), 0.0f);

    // Weights [out_channels][k] -> per group, blocks of kTileRows channels interleaved along k;
    // channels past mg in the last block are zero.
    weights_.assign(static_cast<std::size_t>(p.groups * p.m_pad * p.k), 0.0f);
    for (Index gi = 0; gi < p.groups; ++gi)
      for (Index m = 0; m < p.mg; ++m)
        for (Index i = 0; i < p.k; ++i) {
          const Index block = m / kTileRows, r = m % kTileRows;
          weights_[static_cast<std::size_t>(gi * p.m_pad * p.k + block * kTileRows * p.k + i * kTileRows + r)] =
              w.floats[static_cast<std::size_t>((gi * p.mg + m) * p.k + i)];
        }
    bias_.assign(static_cast<std::size_t>(p.out_channels), 0.0f);
    if (node.inputs.size() > 2 && !node.inputs[2].empty()) bias_ = g.find_constant(node.inputs[2])->floats;

    p.offsets = offsets_.data();
    p.weights = weights_.data();
    p.bias = bias_.data();
    p.padded = padded_.data();
    p.im2col = im2col_.data();
    p.acc = acc_.data();
#if IMPRECISE_CPU_X86
    run_ = use_avx2(isa) ? conv_batch_avx2 : conv_batch_generic;
#else
    run_ = conv_batch_generic;
#endif
  }

  void run(std::span<const Tensor* const> in, Tensor& out) override {
    run_(plan_, in[0]->batch(), in[0]->data(), out.data());
  }

 private:
  ConvPlan plan_;
  ConvFn run_ = conv_batch_generic;
  std::vector<Index> offsets_;
  std::vector<float> weights_, bias_, padded_, im2col_, acc_;
};

}  // namespace

const char* conv_isa(CpuIsa isa) { return use_avx2(isa) ? "avx2" : "generic"; }

std::unique_ptr<Kernel> make_conv(const Graph& g, const Node& node, bool relu, CpuIsa isa) {
  return std::make_unique<ConvKernel>(g, node, relu, isa);
}

}  // namespace imprecise::nn::cpu
