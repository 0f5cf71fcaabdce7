// Server and model metadata as the v2 REST protocol spells them.
#include "metadata_json.hpp"

#include <nlohmann/json.hpp>

namespace imprecise::serve {

namespace {

nlohmann::json tensor_json(const TensorSpec& tensor) {
  return {{"name", tensor.name}, {"datatype", tensor.datatype}, {"shape", tensor.shape}};
}

}  // namespace

std::string server_metadata_json(const InferenceService& service) {
  const nlohmann::json body = {
      {"name", service.server_name()}, {"version", service.server_version()}, {"extensions", service.extensions()}};
  return body.dump();
}

std::string model_metadata_json(const ModelInfo& model) {
  // "parameters" is this server's addition (clients ignore keys they do not know): what a client needs
  // to pick a deadline and read the answer.
  const nlohmann::json body = {
      {"name", model.name},
      {"versions", model.versions},
      {"platform", model.platform},
      {"inputs", nlohmann::json::array({tensor_json(model.input)})},
      {"outputs", nlohmann::json::array({tensor_json(model.output)})},
      {"parameters",
       {{"stages", model.stages},
        {"mandatory_depth", model.mandatory_depth},
        {"default_deadline_us", model.default_deadline.count()},
        {"labels", model.labels}}}};
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace imprecise::serve
