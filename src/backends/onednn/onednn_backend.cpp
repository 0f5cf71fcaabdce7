// OnednnBackend: its options and compile(), which builds an OnednnStage (onednn_stage.cpp).
#include "imprecise/backends/onednn/onednn_backend.hpp"

#include <cstdlib>

#include <fmt/core.h>
#include <oneapi/dnnl/dnnl.hpp>

#include "imprecise/error.hpp"
#include "onednn_stage.hpp"

namespace imprecise::nn {

int default_onednn_threads() {
  const char* text = std::getenv("IMPRECISE_ONEDNN_THREADS");
  const int threads = text != nullptr ? std::atoi(text) : 1;
  return threads >= 1 ? threads : 1;
}

std::unique_ptr<CompiledStage> OnednnBackend::compile(const Graph& graph, const StageInfo& stage,
                                                      const CompileOptions& options) const {
  try {
    return onednn::make_stage(graph, stage, options, options_);
  } catch (const dnnl::error& e) {
    throw Error(fmt::format("{}: stage {}: oneDNN: {}", graph.source, stage.index, e.what()));
  }
}

}  // namespace imprecise::nn
