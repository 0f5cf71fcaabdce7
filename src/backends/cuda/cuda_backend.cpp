// CudaBackend: device discovery that never aborts, stage compilation, and the exit-head kernel for host callers.
#include "imprecise/backends/cuda/cuda_backend.hpp"

#include <cstdlib>
#include <string_view>

#include <fmt/core.h>

#include "cuda_handles.hpp"
#include "cuda_stage.hpp"
#include "exit_head.cuh"
#include "imprecise/error.hpp"

namespace imprecise::nn {

namespace {

using detail_measure = ::imprecise::detail::ExitMeasure;

void require_device(int device, int count) {
  if (device < 0 || device >= count)
    throw Error(fmt::format("cuda backend: device {} requested, {} present", device, count));
}

}  // namespace

bool default_cuda_graphs() {
  const char* graphs = std::getenv("IMPRECISE_CUDA_GRAPHS");
  return graphs == nullptr || std::string_view(graphs) != "0";
}

bool default_cuda_device_exit_head() {
  const char* head = std::getenv("IMPRECISE_CUDA_EXIT_HEAD");
  return head == nullptr || std::string_view(head) != "0";
}

int CudaBackend::device_count() const {
  // Asked once: no GPU, no driver or a driver older than the runtime all read as "0 devices"
  // (cudaErrorNoDevice, cudaErrorInsufficientDriver, ...), silently.
  static const int count = [] {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
      cudaGetLastError();
      return 0;
    }
    return n;
  }();
  return count;
}

std::unique_ptr<CompiledStage> CudaBackend::compile(const Graph& graph, const StageInfo& stage,
                                                    const CompileOptions& options) const {
  require_device(options.device, device_count());
  return std::make_unique<detail::CudaStage>(graph, stage, options, options_.graphs,
                                             options_.device_exit_head && options.exit_head.on_device);
}

// The kernel takes the measure as its number.
static_assert(static_cast<int>(ConfidenceMeasure::max_prob) == static_cast<int>(detail_measure::max_prob) &&
              static_cast<int>(ConfidenceMeasure::margin) == static_cast<int>(detail_measure::margin) &&
              static_cast<int>(ConfidenceMeasure::entropy) == static_cast<int>(detail_measure::entropy));

void cuda_post_process(const Tensor& logits, ConfidenceMeasure measure, std::span<ExitResult> results,
                       float temperature, int device) {
  using namespace ::imprecise::detail;
  require_device(device, CudaBackend().device_count());
  if (logits.rank() != 2)
    throw Error(fmt::format("cuda_post_process: logits of shape {}, expected [rows, classes]",
                            to_string(logits.shape())));
  const auto rows = static_cast<std::size_t>(logits.dim(0)), classes = static_cast<std::size_t>(logits.dim(1));
  if (!(temperature > 0.0f)) throw Error(fmt::format("cuda_post_process: temperature {} is not > 0", temperature));
  if (results.size() < rows)
    throw Error(fmt::format("cuda_post_process: {} results for {} rows", results.size(), rows));
  if (classes == 0) {  // nothing to launch; post_process's answer for an empty row
    for (std::size_t r = 0; r < rows; ++r) results[r] = ExitResult{};
    return;
  }
  IMPRECISE_CUDA_CHECK(cudaSetDevice(device));
  const Stream stream = make_stream();
  const DeviceBuffer x = upload(logits.values()), p(rows * classes), confidence(rows);
  // int predictions travel in a float-sized buffer (same size, no second buffer type).
  static_assert(sizeof(int) == sizeof(float));
  const DeviceBuffer prediction(rows);
  launch_exit_head(x.get(), p.get(), reinterpret_cast<int*>(prediction.get()), confidence.get(),
                   static_cast<std::int64_t>(rows), static_cast<std::int64_t>(classes),
                   static_cast<ExitMeasure>(static_cast<int>(measure)), temperature, stream.get());
  std::vector<float> probabilities(rows * classes), confidences(rows);
  std::vector<int> predictions(rows);
  IMPRECISE_CUDA_CHECK(cudaMemcpyAsync(probabilities.data(), p.get(), probabilities.size() * sizeof(float),
                                       cudaMemcpyDeviceToHost, stream.get()));
  IMPRECISE_CUDA_CHECK(cudaMemcpyAsync(confidences.data(), confidence.get(), rows * sizeof(float),
                                       cudaMemcpyDeviceToHost, stream.get()));
  IMPRECISE_CUDA_CHECK(cudaMemcpyAsync(predictions.data(), prediction.get(), rows * sizeof(int),
                                       cudaMemcpyDeviceToHost, stream.get()));
  IMPRECISE_CUDA_CHECK(cudaStreamSynchronize(stream.get()));
  for (std::size_t r = 0; r < rows; ++r) {
    ExitResult& out = results[r];
    const auto row = logits.values().subspan(r * classes, classes);
    out.logits.assign(row.begin(), row.end());
    out.probabilities.assign(probabilities.begin() + static_cast<std::ptrdiff_t>(r * classes),
                             probabilities.begin() + static_cast<std::ptrdiff_t>((r + 1) * classes));
    out.prediction = predictions[r];
    out.confidence = confidences[r];
  }
}

}  // namespace imprecise::nn
