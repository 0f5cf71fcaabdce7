// Internal to the onednn backend: the factory of its compiled stages (onednn_stage.cpp).
#pragma once

#include <memory>

#include "imprecise/backends/backend.hpp"

namespace imprecise::nn::onednn {

/// The stage's primitives for every batch size 1..options.max_batch, run with `threads` OpenMP threads.
/// Throws Error (or dnnl::error, which the backend turns into one) when the stage cannot be built.
std::unique_ptr<CompiledStage> make_stage(const Graph& graph, const StageInfo& stage, const CompileOptions& options,
                                          int threads);

}  // namespace imprecise::nn::onednn
