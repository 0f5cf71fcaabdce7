// BackendRegistry: the process-wide list of built-in backends (ggml style); the cpu one always, onednn and cuda when built.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "imprecise/backends/backend.hpp"

namespace imprecise::nn {

/// Process-wide registry of the backends built in. The CPU backend is always registered.
class BackendRegistry {
 public:
  static BackendRegistry& get();

  std::vector<std::string> names() const;
  /// nullptr when no backend of that name is registered.
  const Backend* find(std::string_view name) const;
  /// Like find() but throws Error listing the known names.
  const Backend& at(std::string_view name) const;
  /// The backend a model runs on when none is named: the fastest host backend built in ("onednn" when
  /// built, else "cpu", the portable reference). cuda is never the default: a GPU is asked for by name.
  std::string default_name() const;
  /// Adds (or replaces) a backend under backend->name().
  void add(std::unique_ptr<Backend> backend);

 private:
  BackendRegistry();
  std::vector<std::unique_ptr<Backend>> backends_;
};

/// BackendRegistry::get().default_name().
std::string default_backend();

}  // namespace imprecise::nn
