// Windowed pooling: one thread per output element, the same window and divisor rules as the CPU backend.
#include "pool.cuh"

namespace imprecise::detail {
namespace {

__global__ void pool_kernel(bool is_max, bool include_pad, const float* x, float* out, std::int64_t count,
                            PoolGeometry g) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t ox = i % g.out_width, oy = (i / g.out_width) % g.out_height;
    const std::int64_t plane = i / (g.out_width * g.out_height);
    const float* xp = x + plane * g.height * g.width;
    const std::int64_t y0 = oy * g.stride_h - g.pad_top, x0 = ox * g.stride_w - g.pad_left;
    if (is_max) {
      float best = -INFINITY;
      for (std::int64_t ky = 0; ky < g.kernel_h; ++ky) {
        const std::int64_t iy = y0 + ky * g.dilation_h;
        if (iy < 0 || iy >= g.height) continue;
        for (std::int64_t kx = 0; kx < g.kernel_w; ++kx) {
          const std::int64_t ix = x0 + kx * g.dilation_w;
          if (ix >= 0 && ix < g.width) best = fmaxf(best, xp[iy * g.width + ix]);
        }
      }
      out[i] = best;
    } else {
      // PyTorch's divisor: the window clipped to the padded input, or to the input itself.
      const std::int64_t y1 = min(y0 + g.kernel_h, g.height + g.pad_bottom);
      const std::int64_t x1 = min(x0 + g.kernel_w, g.width + g.pad_right);
      const std::int64_t padded = (y1 - y0) * (x1 - x0);
      const std::int64_t ys = max(y0, std::int64_t{0}), xs = max(x0, std::int64_t{0});
      const std::int64_t ye = min(y1, g.height), xe = min(x1, g.width);
      float sum = 0.0f;
      for (std::int64_t iy = ys; iy < ye; ++iy)
        for (std::int64_t ix = xs; ix < xe; ++ix) sum += xp[iy * g.width + ix];
      const std::int64_t n = include_pad ? padded : (ye - ys) * (xe - xs);
      out[i] = n > 0 ? sum / static_cast<float>(n) : 0.0f;
    }
  }
}

}  // namespace

void launch_pool(bool max, bool count_include_pad, const float* x, float* out, std::int64_t planes,
                 const PoolGeometry& g, cudaStream_t stream) {
  const std::int64_t count = planes * g.out_height * g.out_width;
  pool_kernel<<<cuda_blocks(count), 256, 0, stream>>>(max, count_include_pad, x, out, count, g);
  IMPRECISE_CUDA_CHECK_LAUNCH();
}

}  // namespace imprecise::detail
