// HttpServer: the KServe v2 REST/JSON endpoints over an InferenceService (cpp-httplib), and the
// Prometheus /metrics endpoint.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "imprecise/serve/inference_service.hpp"

namespace imprecise::serve {

struct HttpServerOptions {
  std::string address = "127.0.0.1";
  int port = 8000;  ///< 0: any free port
  std::size_t max_body_bytes = 16u << 20;          ///< larger bodies: 413
  std::chrono::milliseconds read_timeout{5000};    ///< a client slower than this is dropped (slowloris)
  int threads = 16;
  std::string token;  ///< non-empty: every request must carry `Authorization: Bearer <token>`
  bool metrics_only = false;  ///< serve only GET /metrics (the metrics port)
};

class HttpServer {
 public:
  /// Binds and starts serving on its own threads; throws Error naming the address when it cannot bind.
  HttpServer(InferenceService& service, HttpServerOptions options);
  ~HttpServer();  ///< stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const;
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace imprecise::serve
