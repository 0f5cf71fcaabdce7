// Partition: splits a prepared multi-exit graph into stages, one per exit, and lists what crosses each boundary.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "imprecise/graph/graph.hpp"

namespace imprecise::nn {

/// A tensor that enters or leaves a stage, with its shape (batch axis -1).
struct CarriedTensor {
  std::string name;
  Shape shape;
};

struct StageInfo {
  int index = 0;
  std::vector<std::size_t> nodes;     ///< indices into Graph::nodes, in topological order
  std::vector<CarriedTensor> inputs;  ///< activations it reads that it does not produce (graph inputs or earlier stages')
  std::vector<CarriedTensor> carried_out;  ///< tensors it produces that later stages read
  CarriedTensor exit;                 ///< the exit's logits (graph output `index`)
  std::int64_t params = 0;            ///< constant elements its nodes read (weights, biases)
  double flops = 0.0;                 ///< estimated floating-point operations per sample (a multiply-add = 2)
};

/// Stage k = the nodes needed for exit k that no earlier exit needs. A tensor crosses a boundary
/// when a stage reads it and an earlier stage (or the graph input) produced it; it is then carried
/// per job (MultiExitModel keeps it in the JobState) from the stage that produced it to every
/// later stage that reads it. `graph` must be prepared.
/// Throws Error if an exit is produced by an earlier stage's nodes (an empty stage).
std::vector<StageInfo> partition(const Graph& graph);

}  // namespace imprecise::nn
