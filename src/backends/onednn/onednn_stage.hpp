// Internal to the onednn backend: the factory of its compiled stages (onednn_stage.cpp).
#pragma once

#include <memory>

#include "imprecise/backends/backend.hpp"
#include "imprecise/backends/onednn/onednn_backend.hpp"

namespace imprecise::nn::onednn {

/// The stage's primitives for every batch size 1..options.max_batch, run as `backend` says (threads,
/// sub-batches). Throws Error (or dnnl::error, which the backend turns into one) when it cannot be built.
std::unique_ptr<CompiledStage> make_stage(const Graph& graph, const StageInfo& stage, const CompileOptions& options,
                                          const OnednnBackendOptions& backend);

}  // namespace imprecise::nn::onednn
