// CudaStage: a stage compiled for the GPU: buffers, operators and one CUDA graph per batch size, all made at load.
#include "imprecise/graph/stage_inputs.hpp"
#include "cuda_stage.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string_view>

#include <fmt/core.h>

#include "imprecise/error.hpp"
#include "op_shapes.hpp"

namespace imprecise::nn::detail {

namespace {

bool aliases_input(const std::string& op) {
  // Same elements in the same order: the output is a view of the input's device buffer.
  return op == "Identity" || op == "Reshape" || op == "Flatten" || op == "Squeeze" || op == "Unsqueeze";
}

// A library error (file:line: call: reason) gets the node that made the call in front of it.
[[noreturn]] void rethrow_naming(const std::string& source, const std::string& node, const Error& e) {
  const std::string what = e.what();
  if (what.find(node) != std::string::npos) throw e;  // fail() already named it
  throw Error(fmt::format("{}: {}: {}", source, node, what));
}

std::size_t sample_size(const Shape& shape) {
  std::size_t n = 1;
  for (std::size_t i = 1; i < shape.size(); ++i) n *= static_cast<std::size_t>(shape[i]);
  return n;
}

}  // namespace

CudaStage::CudaStage(const Graph& g, const StageInfo& stage, const CompileOptions& options, bool use_graphs,
                     bool device_exit_head)
    : device_(options.device), max_batch_(options.max_batch), index_(stage.index), source_(g.source) {
  using namespace ::imprecise::detail;
  if (max_batch_ < 1) throw Error(fmt::format("{}: max_batch must be >= 1 (got {})", g.source, max_batch_));
  IMPRECISE_CUDA_CHECK(cudaSetDevice(device_));
  stream_ = make_stream();
  cudnnHandle_t dnn = nullptr;
  IMPRECISE_CUDNN_CHECK(cudnnCreate(&dnn));
  cudnn_ = CudnnHandle(dnn);
  IMPRECISE_CUDNN_CHECK(cudnnSetStream(dnn, stream_.get()));
  cublasHandle_t blas = nullptr;
  IMPRECISE_CUBLAS_CHECK(cublasCreate(&blas));
  cublas_ = CublasHandle(blas);
  IMPRECISE_CUBLAS_CHECK(cublasSetStream(blas, stream_.get()));
  // A workspace of our own: cuBLAS would otherwise allocate one lazily, which a graph capture forbids.
  cublas_workspace_ = DeviceBuffer(kCublasWorkspaceBytes / sizeof(float));
  IMPRECISE_CUBLAS_CHECK(cublasSetWorkspace(blas, cublas_workspace_.get(), kCublasWorkspaceBytes));
  IMPRECISE_CUBLAS_CHECK(cublasSetMathMode(blas, CUBLAS_DEFAULT_MATH));  // no TF32: agree with the CPU to 1e-4
  context_.cudnn = dnn;
  context_.cublas = blas;
  context_.max_batch = max_batch_;
  context_.source = g.source;

  std::map<std::string, DeviceTensor> slot;
  auto allocate = [&](const Shape& shape, std::size_t count) {
    buffers_.emplace_back(count);
    return DeviceTensor{buffers_.back().get(), shape, true};
  };
  for (const auto& input : stage.inputs) {
    Input in;
    in.device = allocate(input.shape, static_cast<std::size_t>(max_batch_) * sample_size(input.shape));
    in.staging = PinnedBuffer(static_cast<std::size_t>(max_batch_) * sample_size(input.shape));
    in.sample = sample_size(input.shape);
    in.name = input.name;
    slot[input.name] = in.device;
    inputs_.push_back(std::move(in));
  }
  for (const std::size_t n : stage.nodes) {
    const Node& node = g.nodes[n];
    std::vector<DeviceTensor> args;
    for (const auto& name : node.inputs) {
      if (name.empty()) continue;
      auto it = slot.find(name);
      if (it == slot.end()) {
        const Constant* c = g.find_constant(name);
        if (!c) fail(g.source, node, fmt::format("reads '{}', which stage {} does not have", name, stage.index));
        const Tensor values = c->as_tensor();
        buffers_.push_back(upload(values.values()));
        it = slot.emplace(name, DeviceTensor{buffers_.back().get(), c->shape, false}).first;
      }
      args.push_back(it->second);
    }
    const Shape& shape = g.shapes.at(node.outputs[0]);
    if (aliases_input(node.op) && !args.empty() && args[0].batched) {
      slot[node.outputs[0]] = DeviceTensor{args[0].data, shape, true};
      continue;
    }
    // prepare() folds every node whose inputs are all constant, so a view always has an activation.
    if (aliases_input(node.op)) fail(g.source, node, "a view of a constant should have been folded at load");
    const DeviceTensor out = allocate(shape, static_cast<std::size_t>(max_batch_) * sample_size(shape));
    try {
      ops_.push_back(make_gpu_op(g, node, std::move(args), out, context_));
    } catch (const Error& e) {
      rethrow_naming(g.source, node.describe(), e);
    }
    op_names_.push_back(node.describe());
    slot[node.outputs[0]] = out;
  }
  auto add_output = [&](const CarriedTensor& t) {
    Output out;
    out.device = slot.at(t.name).data;
    out.sample = sample_size(t.shape);
    out.staging = PinnedBuffer(static_cast<std::size_t>(max_batch_) * out.sample);
    Shape shape = t.shape;
    shape[0] = max_batch_;
    out.host = Tensor(shape);
    outputs_.push_back(std::move(out));
  };
  for (const auto& t : stage.carried_out) add_output(t);
  add_output(stage.exit);
  for (const auto& out : outputs_) output_ptrs_.push_back(&out.host);

  // The exit head on the device: an exit [N, classes] with classes > 0 (else the host answers it).
  if (device_exit_head && stage.exit.shape.size() == 2 && stage.exit.shape[1] > 0) {
    const ExitHead& head = options.exit_head;
    if (!(head.temperature > 0.0f) || !std::isfinite(head.temperature))
      throw Error(fmt::format("{}: stage {}: exit head temperature {} is not > 0 and finite", g.source, stage.index,
                              head.temperature));
    head_ = true;
    head_logits_ = outputs_.back().device;
    head_classes_ = stage.exit.shape[1];
    head_measure_ = static_cast<ExitMeasure>(static_cast<int>(head.measure));
    head_temperature_ = head.temperature;
    const auto mb = static_cast<std::size_t>(max_batch_), classes = static_cast<std::size_t>(head_classes_);
    static_assert(sizeof(int) == sizeof(float));  // predictions travel in the float-sized packed buffer
    head_device_ = DeviceBuffer(mb * (classes + 2));
    head_staging_ = PinnedBuffer(mb * (classes + 2));
    head_probabilities_.resize(mb * classes);
    head_confidence_.resize(mb);
    head_prediction_.resize(mb);
  }

  std::size_t workspace = 0;
  for (const auto& op : ops_) workspace = std::max(workspace, op->workspace_bytes());
  workspace_ = DeviceBuffer((workspace + sizeof(float) - 1) / sizeof(float));
  context_.workspace = workspace_.get();
  context_.workspace_bytes = workspace;

  // Per batch size: one eager run first, which loads the kernels that size uses (cuDNN may pick
  // another algorithm per size; CUDA loads modules lazily) and lets cuDNN/cuBLAS finish their lazy
  // set-up outside a capture; then its graph, captured here at load rather than on first use, so
  // the first job of every size already runs at its steady latency.
  // use_graphs false (CudaBackendOptions::graphs) keeps every size eager (the path a failed capture falls back to).
  graphs_.resize(static_cast<std::size_t>(max_batch_));
  for (int b = 1; b <= max_batch_; ++b) {
    enqueue(b);
    IMPRECISE_CUDA_CHECK(cudaStreamSynchronize(stream_.get()));
    if (use_graphs) graphs_[static_cast<std::size_t>(b - 1)] = capture(b);
  }
}

::imprecise::detail::GraphExec CudaStage::capture(int batch) {
  // Thread-local capture: other threads (other models loading) may keep calling CUDA meanwhile.
  if (cudaStreamBeginCapture(stream_.get(), cudaStreamCaptureModeThreadLocal) != cudaSuccess) {
    cudaGetLastError();
    return {};
  }
  bool enqueued = true;
  try {
    enqueue(batch);
  } catch (const Error&) {
    enqueued = false;  // a library call that cannot be captured: this batch size runs eagerly
  }
  cudaGraph_t graph = nullptr;
  const cudaError_t ended = cudaStreamEndCapture(stream_.get(), &graph);
  cudaGraphExec_t exec = nullptr;
  bool ok = enqueued && ended == cudaSuccess && graph != nullptr &&
            cudaGraphInstantiate(&exec, graph, 0) == cudaSuccess;
  if (graph) cudaGraphDestroy(graph);
  if (!ok) {
    if (exec) cudaGraphExecDestroy(exec);
    cudaGetLastError();  // clear the (not sticky) error the failed capture left
    return {};
  }
  return ::imprecise::detail::GraphExec(exec);
}

void CudaStage::enqueue(int batch) {
  const cudaStream_t s = stream_.get();
  const auto b = static_cast<std::size_t>(batch);
  for (const Input& in : inputs_)
    IMPRECISE_CUDA_CHECK(cudaMemcpyAsync(in.device.data, in.staging.get(), b * in.sample * sizeof(float),
                                         cudaMemcpyHostToDevice, s));
  for (std::size_t i = 0; i < ops_.size(); ++i) {
    try {
      ops_[i]->enqueue(batch, s);
    } catch (const Error& e) {
      rethrow_naming(source_, op_names_[i], e);  // the error path may allocate; the run path does not
    }
  }
  if (head_) {
    // Packed for this batch size: [probabilities b*classes | confidence b | prediction b].
    const std::size_t n = b * static_cast<std::size_t>(head_classes_);
    float* packed = head_device_.get();
    ::imprecise::detail::launch_exit_head(head_logits_, packed, reinterpret_cast<int*>(packed + n + b), packed + n,
                                          batch, head_classes_, head_measure_, head_temperature_, s);
    IMPRECISE_CUDA_CHECK(cudaMemcpyAsync(head_staging_.get(), packed, (n + 2 * b) * sizeof(float),
                                         cudaMemcpyDeviceToHost, s));
  }
  for (const Output& out : outputs_)
    IMPRECISE_CUDA_CHECK(cudaMemcpyAsync(out.staging.get(), out.device, b * out.sample * sizeof(float),
                                         cudaMemcpyDeviceToHost, s));
}

std::span<const Tensor* const> CudaStage::run(std::span<const Tensor* const> inputs) {
  const std::int64_t batch = check_stage_inputs(
      inputs, inputs_.size(), [&](std::size_t k) -> const Shape& { return inputs_[k].device.shape; },
      [&](std::size_t k) -> const std::string& { return inputs_[k].name; }, source_, index_, max_batch_);
  using Clock = std::chrono::steady_clock;
  IMPRECISE_CUDA_CHECK(cudaSetDevice(device_));
  answers_.batch = 0;  // no answers until this run has completed
  const auto t0 = Clock::now();
  for (std::size_t i = 0; i < inputs.size(); ++i)
    std::memcpy(inputs_[i].staging.get(), inputs[i]->data(), inputs[i]->size() * sizeof(float));
  const auto t1 = Clock::now();
  const auto& graph = graphs_[static_cast<std::size_t>(batch - 1)];
  if (graph) IMPRECISE_CUDA_CHECK(cudaGraphLaunch(graph.get(), stream_.get()));
  else enqueue(static_cast<int>(batch));
  IMPRECISE_CUDA_CHECK(cudaStreamSynchronize(stream_.get()));
  const auto t2 = Clock::now();
  for (Output& out : outputs_) {
    out.host.set_batch(batch);
    std::memcpy(out.host.data(), out.staging.get(), out.host.size() * sizeof(float));
  }
  if (head_) {
    const auto b = static_cast<std::size_t>(batch);
    const std::size_t n = b * static_cast<std::size_t>(head_classes_);
    const float* packed = head_staging_.get();
    std::memcpy(head_probabilities_.data(), packed, n * sizeof(float));
    std::memcpy(head_confidence_.data(), packed + n, b * sizeof(float));
    std::memcpy(head_prediction_.data(), packed + n + b, b * sizeof(int));
    answers_ = ExitAnswers{batch, head_classes_, std::span<const float>(head_probabilities_.data(), n),
                           std::span<const int>(head_prediction_.data(), b),
                           std::span<const float>(head_confidence_.data(), b)};
    counters_.device_exit_rows += batch;
  }
  const auto t3 = Clock::now();
  ++counters_.runs;
  counters_.staging_ns += std::chrono::duration_cast<std::chrono::nanoseconds>((t1 - t0) + (t3 - t2)).count();
  counters_.device_ns += std::chrono::duration_cast<std::chrono::nanoseconds>(t2 - t1).count();
  return output_ptrs_;
}

}  // namespace imprecise::nn::detail
