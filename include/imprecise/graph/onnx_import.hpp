// ONNX import: reads a .onnx file (protobuf) into our Graph IR; no protobuf type leaks out of it.
#pragma once

#include <cstddef>
#include <span>
#include <string>

#include "imprecise/graph/graph.hpp"

namespace imprecise::nn {

/// Reads and parses `path`. Throws Error naming the file (and the node or tensor) when the file is
/// missing, truncated, corrupt, uses an opset < 13, or holds data this importer cannot represent.
/// The graph is returned as read: call prepare() (MultiExitModel does) before running it.
Graph load_onnx(const std::string& path);
/// Same, from bytes in memory; `where` names the source in error messages.
Graph parse_onnx(std::span<const std::byte> bytes, const std::string& where);

}  // namespace imprecise::nn
