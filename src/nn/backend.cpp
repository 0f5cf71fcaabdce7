// BackendRegistry: the process-wide list of built-in backends (the CPU one always; onednn and cuda when built).
#include "imprecise/nn/backend.hpp"

#include <fmt/core.h>

#include "imprecise/config.hpp"
#include "imprecise/error.hpp"
#include "imprecise/backends/cpu/cpu_backend.hpp"
#if IMPRECISE_HAS_CUDA_BACKEND
#include "imprecise/backends/cuda/cuda_backend.hpp"
#endif
#if IMPRECISE_HAS_ONEDNN_BACKEND
#include "imprecise/backends/onednn/onednn_backend.hpp"
#endif

namespace imprecise::nn {

BackendRegistry::BackendRegistry() {
  backends_.push_back(std::make_unique<CpuBackend>());
#if IMPRECISE_HAS_ONEDNN_BACKEND
  backends_.push_back(std::make_unique<OnednnBackend>());
#endif
#if IMPRECISE_HAS_CUDA_BACKEND
  backends_.push_back(std::make_unique<CudaBackend>());  // registered even with no GPU: it then reports 0 devices
#endif
}

BackendRegistry& BackendRegistry::get() {
  static BackendRegistry registry;
  return registry;
}

std::vector<std::string> BackendRegistry::names() const {
  std::vector<std::string> names;
  for (const auto& b : backends_) names.push_back(b->name());
  return names;
}

const Backend* BackendRegistry::find(std::string_view name) const {
  for (const auto& b : backends_)
    if (b->name() == name) return b.get();
  return nullptr;
}

const Backend& BackendRegistry::at(std::string_view name) const {
  if (const Backend* b = find(name)) return *b;
  std::string known;
  for (const auto& n : names()) known += (known.empty() ? "" : ", ") + n;
  throw Error(fmt::format("unknown backend '{}' (known: {})", name, known));
}

std::string BackendRegistry::default_name() const {
  // Fastest first (measured: docs/results/engine_vs_onnxruntime.md).
  for (const char* name : {"onednn", "cpu"})
    if (const Backend* b = find(name); b != nullptr && b->device_count() > 0) return name;
  return "cpu";
}

std::string default_backend() { return BackendRegistry::get().default_name(); }

void BackendRegistry::add(std::unique_ptr<Backend> backend) {
  for (auto& b : backends_) {
    if (b->name() == backend->name()) {
      b = std::move(backend);
      return;
    }
  }
  backends_.push_back(std::move(backend));
}

}  // namespace imprecise::nn
