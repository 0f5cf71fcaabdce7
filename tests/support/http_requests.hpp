// Shared by the HTTP front end's tests: v2 JSON inference bodies for a served model, and an
// httplib::Client with generous timeouts (the CI machine is a loaded 2-core VM).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "imprecise/serve/inference_service.hpp"

namespace imprecise::test_support {

/// [1, sample...] from the model's input shape (batch axis -1).
inline std::vector<std::int64_t> one_sample_shape(const serve::ModelInfo& model) {
  std::vector<std::int64_t> shape = model.input.shape;
  shape.front() = 1;
  return shape;
}

inline std::size_t element_count(const std::vector<std::int64_t>& shape) {
  std::size_t n = 1;
  for (const auto d : shape) n *= static_cast<std::size_t>(d);
  return n;
}

/// A v2 request body with flat data (every element `value`) and a generous deadline parameter.
inline nlohmann::json infer_body(const serve::ModelInfo& model, float value = 0.25f,
                                 std::int64_t deadline_us = 5'000'000) {
  const auto shape = one_sample_shape(model);
  nlohmann::json input = {{"name", model.input.name},
                          {"shape", shape},
                          {"datatype", "FP32"},
                          {"data", std::vector<float>(element_count(shape), value)}};
  return {{"id", "test-1"}, {"parameters", {{"deadline_us", deadline_us}}}, {"inputs", {input}}};
}

inline httplib::Client client(int port) {
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(std::chrono::seconds(10));
  c.set_read_timeout(std::chrono::seconds(60));
  c.set_write_timeout(std::chrono::seconds(60));
  return c;
}

}  // namespace imprecise::test_support
