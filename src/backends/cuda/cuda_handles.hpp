// Move-only RAII owners of CUDA, cuDNN and cuBLAS handles (streams, device/pinned memory, descriptors, graphs).
#pragma once

#include <cstddef>
#include <cstring>
#include <span>
#include <utility>

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include "common.cuh"

namespace imprecise::detail {

/// Owns one handle; Deleter releases it. Destruction never throws (a failing release is ignored:
/// there is nothing useful to do with it while unwinding).
template <typename T, typename Deleter>
class UniqueHandle {
 public:
  UniqueHandle() = default;
  explicit UniqueHandle(T handle) : handle_(handle) {}
  UniqueHandle(UniqueHandle&& other) noexcept : handle_(std::exchange(other.handle_, T{})) {}
  UniqueHandle& operator=(UniqueHandle&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = std::exchange(other.handle_, T{});
    }
    return *this;
  }
  UniqueHandle(const UniqueHandle&) = delete;
  UniqueHandle& operator=(const UniqueHandle&) = delete;
  ~UniqueHandle() { reset(); }

  T get() const { return handle_; }
  explicit operator bool() const { return handle_ != T{}; }
  void reset() {
    if (handle_ != T{}) Deleter{}(handle_);
    handle_ = T{};
  }

 private:
  T handle_{};
};

struct StreamDeleter {
  void operator()(cudaStream_t s) const noexcept { cudaStreamDestroy(s); }
};
struct DeviceFree {
  void operator()(void* p) const noexcept { cudaFree(p); }
};
struct PinnedFree {
  void operator()(void* p) const noexcept { cudaFreeHost(p); }
};
struct GraphExecDeleter {
  void operator()(cudaGraphExec_t g) const noexcept { cudaGraphExecDestroy(g); }
};
struct CudnnDeleter {
  void operator()(cudnnHandle_t h) const noexcept { cudnnDestroy(h); }
};
struct CublasDeleter {
  void operator()(cublasHandle_t h) const noexcept { cublasDestroy(h); }
};
struct TensorDescDeleter {
  void operator()(cudnnTensorDescriptor_t d) const noexcept { cudnnDestroyTensorDescriptor(d); }
};
struct FilterDescDeleter {
  void operator()(cudnnFilterDescriptor_t d) const noexcept { cudnnDestroyFilterDescriptor(d); }
};
struct ConvDescDeleter {
  void operator()(cudnnConvolutionDescriptor_t d) const noexcept { cudnnDestroyConvolutionDescriptor(d); }
};
struct PoolDescDeleter {
  void operator()(cudnnPoolingDescriptor_t d) const noexcept { cudnnDestroyPoolingDescriptor(d); }
};
struct ActivationDescDeleter {
  void operator()(cudnnActivationDescriptor_t d) const noexcept { cudnnDestroyActivationDescriptor(d); }
};

using Stream = UniqueHandle<cudaStream_t, StreamDeleter>;
using GraphExec = UniqueHandle<cudaGraphExec_t, GraphExecDeleter>;
using CudnnHandle = UniqueHandle<cudnnHandle_t, CudnnDeleter>;
using CublasHandle = UniqueHandle<cublasHandle_t, CublasDeleter>;
using TensorDesc = UniqueHandle<cudnnTensorDescriptor_t, TensorDescDeleter>;
using FilterDesc = UniqueHandle<cudnnFilterDescriptor_t, FilterDescDeleter>;
using ConvDesc = UniqueHandle<cudnnConvolutionDescriptor_t, ConvDescDeleter>;
using PoolDesc = UniqueHandle<cudnnPoolingDescriptor_t, PoolDescDeleter>;
using ActivationDesc = UniqueHandle<cudnnActivationDescriptor_t, ActivationDescDeleter>;

/// Device memory for `count` floats (zero-filled, so a warm-up run reads defined values). Load-time
/// only: it synchronizes.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(std::size_t count) : count_(count) {
    if (count == 0) return;
    void* p = nullptr;
    IMPRECISE_CUDA_CHECK(cudaMalloc(&p, count * sizeof(float)));
    memory_ = UniqueHandle<void*, DeviceFree>(p);
    IMPRECISE_CUDA_CHECK(cudaMemset(p, 0, count * sizeof(float)));
    // The memset runs on the legacy default stream, which our non-blocking streams do not wait for.
    IMPRECISE_CUDA_CHECK(cudaStreamSynchronize(nullptr));
  }
  float* get() const { return static_cast<float*>(memory_.get()); }
  std::size_t size() const { return count_; }

 private:
  UniqueHandle<void*, DeviceFree> memory_;
  std::size_t count_ = 0;
};

/// Page-locked host memory for `count` floats (zero-filled): the staging area of asynchronous copies.
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  explicit PinnedBuffer(std::size_t count) : count_(count) {
    if (count == 0) return;
    void* p = nullptr;
    IMPRECISE_CUDA_CHECK(cudaMallocHost(&p, count * sizeof(float)));
    memory_ = UniqueHandle<void*, PinnedFree>(p);
    std::memset(p, 0, count * sizeof(float));
  }
  float* get() const { return static_cast<float*>(memory_.get()); }
  std::size_t size() const { return count_; }

 private:
  UniqueHandle<void*, PinnedFree> memory_;
  std::size_t count_ = 0;
};

/// A device copy of `values` (weights and other constants, uploaded once at load).
inline DeviceBuffer upload(std::span<const float> values) {
  DeviceBuffer buffer(values.size());
  if (!values.empty())
    IMPRECISE_CUDA_CHECK(cudaMemcpy(buffer.get(), values.data(), values.size() * sizeof(float), cudaMemcpyHostToDevice));
  // A pageable copy may return before its DMA lands; non-blocking streams would not wait for it.
  IMPRECISE_CUDA_CHECK(cudaStreamSynchronize(nullptr));
  return buffer;
}

inline Stream make_stream() {
  cudaStream_t s = nullptr;
  IMPRECISE_CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  return Stream(s);
}

inline TensorDesc make_tensor_desc(int n, int c, int h, int w) {
  cudnnTensorDescriptor_t d = nullptr;
  IMPRECISE_CUDNN_CHECK(cudnnCreateTensorDescriptor(&d));
  TensorDesc owned(d);
  IMPRECISE_CUDNN_CHECK(cudnnSetTensor4dDescriptor(d, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, n, c, h, w));
  return owned;
}

}  // namespace imprecise::detail
