// Shared by the server and client tests (gRPC and HTTP): an InferenceService on the shipped model
// repository, servers on it on ports the OS picks, a one-model repository with chosen settings, and a
// valid vision input.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <fmt/core.h>

#include "imprecise/data/pipeline.hpp"
#include "imprecise/serve/inference_service.hpp"

namespace imprecise::serve::testing {

inline std::filesystem::path shipped_repository() { return data::source_path("model_repository"); }

/// The shipped repository's three models, loaded once per test program.
inline InferenceService& shared_service() {
  static InferenceService service(shipped_repository());
  return service;
}

/// Server options (GrpcServerOptions, HttpServerOptions) with the port left to the OS.
template <class Options>
Options any_port() {
  Options options;
  options.port = 0;
  return options;
}

/// One Server (GrpcServer, HttpServer) on shared_service(), on a port the OS picks, for the tests that
/// do not need their own; started once per test program.
template <class Server, class Options>
Server& shared_server() {
  static Server server(shared_service(), any_port<Options>());
  return server;
}

/// A repository holding only the vision model (cheaper to load), in a fresh folder under the temp dir.
inline std::filesystem::path vision_only_repository(const std::string& tag) {
  const auto dir = std::filesystem::temp_directory_path() / fmt::format("imprecise_grpc_{}_{}", tag, ::getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "vision");
  const std::string models = data::source_path("models");
  std::ofstream(dir / "vision" / "config.json")
      << fmt::format(R"({{"model": "{0}/vision.onnx", "profile": "{0}/vision.profile.json",
                          "calibration": "{0}/vision.calibration.json", "default_deadline_ms": 2000}})",
                     models);
  return dir;
}

/// The vision model's input shape with batch 1, and a valid input of that shape.
inline std::vector<std::int64_t> vision_shape() {
  std::vector<std::int64_t> shape = shared_service().model("vision")->input.shape;
  shape[0] = 1;
  return shape;
}
inline std::vector<float> vision_input(float value = 0.25f) {
  std::size_t n = 1;
  for (std::int64_t d : vision_shape()) n *= static_cast<std::size_t>(d);
  return std::vector<float>(n, value);
}

}  // namespace imprecise::serve::testing
