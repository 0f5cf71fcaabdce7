// GrpcServer: the KServe v2 GRPCInferenceService (package `inference`) over an InferenceService.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "imprecise/serve/inference_service.hpp"

namespace imprecise::serve {

struct GrpcServerOptions {
  std::string address = "127.0.0.1";  ///< loopback unless told otherwise
  int port = 8001;                     ///< 0: any free port (see GrpcServer::port)
  std::size_t max_message_bytes = 16u << 20;  ///< larger requests: RESOURCE_EXHAUSTED from gRPC itself
  std::string tls_cert_file, tls_key_file;    ///< both set: SSL server credentials
  std::string token;  ///< non-empty: every call must carry `authorization: Bearer <token>`
};

class GrpcServer {
 public:
  /// Binds and starts serving; throws Error naming the address when it cannot bind.
  GrpcServer(InferenceService& service, GrpcServerOptions options);
  ~GrpcServer();  ///< shutdown()
  GrpcServer(const GrpcServer&) = delete;
  GrpcServer& operator=(const GrpcServer&) = delete;

  int port() const;  ///< the bound port
  /// Refuses new calls; calls in flight are answered (by their deadline at the latest) until `grace`.
  void shutdown(std::chrono::milliseconds grace = std::chrono::seconds(5));

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace imprecise::serve
