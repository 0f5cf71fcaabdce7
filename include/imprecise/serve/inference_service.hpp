// InferenceService: the models of a repository served by one runtime::Engine, behind a protocol-neutral
// infer() that the gRPC and HTTP front ends share (one rule for deadlines, status mapping and metrics).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "imprecise/runtime/engine.hpp"
#include "imprecise/serve/inference.hpp"
#include "imprecise/serve/model_repository.hpp"

namespace imprecise::serve {

struct ServiceConfig {
  runtime::EngineConfig engine;  ///< policy, queue bound (max_pending), ...
  std::string backend = "";      ///< empty: the registry's default cpu backend
  /// Taken off every client deadline: the answer must still travel back.
  std::chrono::microseconds network_margin{2000};
  /// A deadline further away than this is refused (invalid_argument) when given as a parameter, and
  /// treated as "no deadline" (the model's default) when it is a transport timeout.
  std::chrono::microseconds max_deadline{std::chrono::seconds(60)};
  /// Nice levels the service's responder thread (which sends the answers) runs below the engine's
  /// lanes; 0: the same priority. `imprecise serve --io-nice` also lowers its endpoints' threads.
  int io_nice = 0;
};

/// What ModelMetadata reports.
struct TensorSpec {
  std::string name;
  std::string datatype = "FP32";
  std::vector<std::int64_t> shape;  ///< -1: any size (the batch axis)
};
struct ModelInfo {
  std::string name;
  std::vector<std::string> versions;
  std::string platform = "imprecise_onnx";
  TensorSpec input;
  TensorSpec output;   ///< "logits", [-1, classes of the deepest exit]
  int stages = 0;
  int mandatory_depth = 1;
  std::chrono::microseconds default_deadline{0};
  std::vector<std::string> labels;
};

class InferenceService {
 public:
  using Done = std::function<void(InferResponse)>;

  /// Loads every model of the repository and starts the engine. Throws Error naming the model's file.
  InferenceService(const std::filesystem::path& repository, ServiceConfig config = {});
  ~InferenceService();  ///< shutdown(0) if not done
  InferenceService(const InferenceService&) = delete;
  InferenceService& operator=(const InferenceService&) = delete;

  bool live() const { return true; }
  bool ready() const;  ///< false once shutdown() began
  bool model_ready(std::string_view name, std::string_view version = {}) const;
  /// nullptr for an unknown model.
  const ModelInfo* model(std::string_view name) const;
  const std::vector<ModelInfo>& models() const;
  std::string server_name() const { return "imprecise"; }
  std::string server_version() const;
  /// Protocol extensions, as Triton names them in server metadata: the HTTP front end reads and writes
  /// tensors as binary after the JSON (http_codec.hpp).
  std::vector<std::string> extensions() const { return {"binary_tensor_data"}; }

  /// Decodes, validates and submits. `done` runs exactly once: inline for a request refused before the
  /// engine (bad input, unknown model, shutting down), else on the service's responder thread
  /// when the job's outcome is known (by its deadline at the latest), never on an engine thread.
  /// `done` calls run one at a time: keep each short.
  void infer(InferRequest request, Done done);

  /// Counts a request a front end's decoder refused before it could be an InferRequest (malformed
  /// JSON or protobuf contents, a non-FP32 datatype...): it is in the request and response series of
  /// `model` (or of no model, when the name is not served) like one the service refused itself, its
  /// time from `arrival` (when the front end received it) to now in the request-time histogram.
  void count_undecoded(std::string_view model, const Status& status, Clock::time_point arrival);

  /// Stops accepting (later requests: unavailable), answers every admitted job by its deadline, then
  /// stops the engine. Idempotent; safe from any thread except inside `done`.
  void shutdown();

  /// Prometheus text exposition (version 0.0.4) of every metric: requests, outcomes by status, answers
  /// per exit, histograms of queue, run and decision time.
  std::string prometheus_text() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace imprecise::serve
