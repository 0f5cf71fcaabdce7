// imprecise::client::HttpClient: the KServe v2 HTTP/REST counterpart of Client (blocking and async calls,
// each with a deadline), sending tensors with Triton's binary tensor data extension both ways, as
// tritonclient's HTTP client does by default. It works with any v2 HTTP server that has the extension.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "imprecise/client/client.hpp"  // InferResult

namespace imprecise::client {

struct HttpClientOptions {
  std::string host = "127.0.0.1";
  int port = 8000;
  std::string token;  ///< non-empty: sent as `Authorization: Bearer <token>`
  /// Async calls on the wire at once. HTTP/1.1 carries one request at a time per connection, so each
  /// is a keep-alive connection with a thread that waits for its answer; more calls wait their turn.
  int connections = 32;
};

/// Parses "http://host:port" (the scheme is required; no path) into host and port; throws
/// imprecise::Error naming `field` otherwise.
HttpClientOptions parse_http_url(const std::string& url, const std::string& field);

class HttpClient {
 public:
  using Done = std::function<void(InferResult)>;

  /// Throws imprecise::Error on a bad option (connections < 1, a port out of range).
  explicit HttpClient(HttpClientOptions options);
  ~HttpClient();  ///< waits for the async calls already queued
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  bool live(std::chrono::milliseconds timeout = std::chrono::seconds(1));
  bool model_ready(const std::string& model, std::chrono::milliseconds timeout = std::chrono::seconds(1));

  /// Sends one FP32 input (shape [1, ...]) due `deadline` from now (the `deadline_us` parameter), blocks
  /// for the answer. `code` is mapped to the gRPC code space of InferResult (200 -> 0, 504 -> 4,
  /// 429 -> 8, 503 -> 14, 400 -> 3, 404 -> 5, 401 -> 16, 500 -> 13; no answer in time -> 4).
  InferResult infer(const std::string& model, std::span<const float> input, std::span<const std::int64_t> shape,
                    std::chrono::microseconds deadline);
  /// The same without blocking: the request is built here, then sent by a connection's thread, where
  /// `done` runs once. A model's first call blocks here for its input name (one metadata request).
  void infer_async(const std::string& model, std::span<const float> input, std::span<const std::int64_t> shape,
                   std::chrono::microseconds deadline, Done done);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace imprecise::client
