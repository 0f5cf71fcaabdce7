// The v2 REST metadata bodies: GET /v2 (server) and GET /v2/models/{name} (model).
#pragma once

#include <string>

#include "imprecise/serve/inference_service.hpp"

namespace imprecise::serve {

/// {"name", "version", "extensions"}
std::string server_metadata_json(const InferenceService& service);
/// {"name", "versions", "platform", "inputs": [{"name", "datatype", "shape"}], "outputs": [...],
///  "parameters": {"stages", "mandatory_depth", "default_deadline_us", "labels"}}
std::string model_metadata_json(const ModelInfo& model);

}  // namespace imprecise::serve
