// The fused exit head: one warp per row; lanes stride over the classes and meet in shuffle reductions.
#include "exit_head.cuh"

namespace imprecise::detail {
namespace {

constexpr int kWarpsPerBlock = 4;
constexpr unsigned int kAll = 0xffffffffu;

__device__ float warp_max(float v) {
  for (int offset = 16; offset > 0; offset /= 2) v = fmaxf(v, __shfl_xor_sync(kAll, v, offset));
  return v;
}

__device__ double warp_sum(double v) {
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_xor_sync(kAll, v, offset);
  return v;
}

__device__ void exit_head_row(const float* logits, float* probabilities, int* prediction, float* confidence,
                              std::int64_t row, std::int64_t classes, ExitMeasure measure, float temperature,
                              int lane) {
  const float* x = logits + row * classes;
  float* p = probabilities + row * classes;

  float top = -INFINITY;
  for (std::int64_t i = lane; i < classes; i += 32) top = fmaxf(top, x[i]);
  top = warp_max(top);
  // The host sums in double; so do we, to agree to the last bits on long rows.
  double sum = 0.0;
  for (std::int64_t i = lane; i < classes; i += 32) sum += static_cast<double>(expf((x[i] - top) / temperature));
  sum = warp_sum(sum);

  // Argmax of the probabilities, first index on ties: strictly greater within a lane (its indices
  // increase), then the smaller index between lanes.
  float best = -1.0f;
  std::int64_t best_index = classes;
  for (std::int64_t i = lane; i < classes; i += 32) {
    const float q = static_cast<float>(static_cast<double>(expf((x[i] - top) / temperature)) / sum);
    p[i] = q;
    if (q > best) {
      best = q;
      best_index = i;
    }
  }
  for (int offset = 16; offset > 0; offset /= 2) {
    const float other = __shfl_xor_sync(kAll, best, offset);
    const std::int64_t other_index = __shfl_xor_sync(kAll, best_index, offset);
    if (other > best || (other == best && other_index < best_index)) {
      best = other;
      best_index = other_index;
    }
  }

  float result = best;
  if (measure == ExitMeasure::margin) {
    float second = 0.0f;
    for (std::int64_t i = lane; i < classes; i += 32)
      if (i != best_index) second = fmaxf(second, p[i]);
    result = best - warp_max(second);
  } else if (measure == ExitMeasure::entropy) {
    double h = 0.0;
    for (std::int64_t i = lane; i < classes; i += 32)
      if (p[i] > 0.0f) h -= static_cast<double>(p[i]) * log(static_cast<double>(p[i]));
    h = warp_sum(h);
    const double c = classes < 2 ? 1.0 : fmin(fmax(1.0 - h / log(static_cast<double>(classes)), 0.0), 1.0);
    result = static_cast<float>(c);
  }
  if (lane == 0) {
    prediction[row] = static_cast<int>(best_index);
    confidence[row] = result;
  }
}

__global__ void exit_head_kernel(const float* logits, float* probabilities, int* prediction, float* confidence,
                                 std::int64_t rows, std::int64_t classes, ExitMeasure measure,
                                 float temperature) {
  const int lane = static_cast<int>(threadIdx.x) % 32;
  const std::int64_t warps = static_cast<std::int64_t>(gridDim.x) * kWarpsPerBlock;
  // Whole warps take whole rows, so the shuffles in exit_head_row always run converged.
  for (std::int64_t row = blockIdx.x * static_cast<std::int64_t>(kWarpsPerBlock) + threadIdx.x / 32; row < rows;
       row += warps)
    exit_head_row(logits, probabilities, prediction, confidence, row, classes, measure, temperature, lane);
}

}  // namespace

void launch_exit_head(const float* logits, float* probabilities, int* prediction, float* confidence,
                      std::int64_t rows, std::int64_t classes, ExitMeasure measure, float temperature,
                      cudaStream_t stream) {
  const unsigned int blocks = cuda_blocks(rows, kWarpsPerBlock);
  exit_head_kernel<<<blocks, kWarpsPerBlock * 32, 0, stream>>>(logits, probabilities, prediction, confidence, rows,
                                                               classes, measure, temperature);
  IMPRECISE_CUDA_CHECK_LAUNCH();
}

}  // namespace imprecise::detail
