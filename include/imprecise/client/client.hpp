// imprecise::client: a small KServe v2 gRPC client for embedded applications (blocking and async calls,
// each with a deadline). It speaks the standard protocol, so it works with any v2 server.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace imprecise::client {

struct ClientOptions {
  std::string target = "127.0.0.1:8001";  ///< host:port of the server's gRPC endpoint
  std::string token;                      ///< non-empty: sent as `authorization: Bearer <token>`
  std::string tls_root_cert_file;         ///< non-empty: TLS with this root certificate
};

struct TensorMetadata {
  std::string name, datatype;
  std::vector<std::int64_t> shape;
};
struct ModelMetadata {
  std::string name, platform;
  std::vector<std::string> versions;
  std::vector<TensorMetadata> inputs, outputs;
};

/// One call's result. `code` is the gRPC status code (0 OK, 4 DEADLINE_EXCEEDED, 8 RESOURCE_EXHAUSTED,
/// 14 UNAVAILABLE, 3 INVALID_ARGUMENT, ...). A missed deadline may still carry the best finished answer.
struct InferResult {
  int code = 0;
  std::string message;
  std::vector<float> logits;  ///< the answering exit's logits (empty: no answer)
  std::vector<std::int64_t> shape;
  int exit = 0, depth = 0, prediction = -1;
  std::string outcome;  ///< the server's outcome: completed, missed, rejected, failed
  std::int64_t queue_us = 0, run_us = 0, total_us = 0;  ///< as the server measured them
  bool ok() const { return code == 0; }
};

class Client {
 public:
  using Done = std::function<void(InferResult)>;

  explicit Client(ClientOptions options);
  ~Client();  ///< waits for the async calls in flight
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool live(std::chrono::milliseconds timeout = std::chrono::seconds(1));
  bool ready(std::chrono::milliseconds timeout = std::chrono::seconds(1));
  bool model_ready(const std::string& model, std::chrono::milliseconds timeout = std::chrono::seconds(1));
  /// Throws imprecise::Error with the server's status when the call fails.
  ModelMetadata metadata(const std::string& model, std::chrono::milliseconds timeout = std::chrono::seconds(1));

  /// Sends one FP32 input (shape [1, ...]) due `deadline` from now (the gRPC deadline), blocks for the answer.
  InferResult infer(const std::string& model, std::span<const float> input, std::span<const std::int64_t> shape,
                    std::chrono::microseconds deadline);
  /// The same without blocking: `done` runs once on a client thread.
  void infer_async(const std::string& model, std::span<const float> input, std::span<const std::int64_t> shape,
                   std::chrono::microseconds deadline, Done done);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace imprecise::client
