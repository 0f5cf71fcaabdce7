// GrpcServer: builds and runs the gRPC server (address, size limit, TLS) for GrpcInferenceService.
#include "imprecise/serve/grpc_server.hpp"

#include <climits>
#include <fstream>
#include <mutex>
#include <sstream>

#include <fmt/core.h>
#include <grpc/grpc.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include "grpc_inference_service.hpp"
#include "imprecise/error.hpp"

namespace imprecise::serve {
namespace {

std::string read_pem(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in || text.str().empty()) throw Error(fmt::format("grpc: cannot read the TLS {} '{}'", what, path));
  return text.str();
}

std::shared_ptr<grpc::ServerCredentials> credentials(const GrpcServerOptions& options) {
  if (options.tls_cert_file.empty() && options.tls_key_file.empty()) return grpc::InsecureServerCredentials();
  if (options.tls_cert_file.empty() || options.tls_key_file.empty())
    throw Error("grpc: TLS needs both a certificate and a key file");
  grpc::SslServerCredentialsOptions ssl;
  ssl.pem_key_cert_pairs.push_back({read_pem(options.tls_key_file, "key"), read_pem(options.tls_cert_file, "certificate")});
  return grpc::SslServerCredentials(ssl);
}

std::string listen_address(const GrpcServerOptions& options) {
  const bool ipv6 = options.address.find(':') != std::string::npos;
  return ipv6 ? fmt::format("[{}]:{}", options.address, options.port) : fmt::format("{}:{}", options.address, options.port);
}

}  // namespace

struct GrpcServer::Impl {
  GrpcInferenceService rpc;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
  std::once_flag stopped;

  Impl(InferenceService& service, const GrpcServerOptions& options) : rpc(service, options.token) {
    if (options.max_message_bytes == 0 || options.max_message_bytes > static_cast<std::size_t>(INT_MAX))
      throw Error(fmt::format("grpc: max message size {} is not 1 to {} bytes", options.max_message_bytes, INT_MAX));
    const std::string address = listen_address(options);
    grpc::ServerBuilder builder;
    builder.AddListeningPort(address, credentials(options), &port);
    // A larger request is refused by gRPC itself with RESOURCE_EXHAUSTED before any of our code runs.
    builder.SetMaxReceiveMessageSize(static_cast<int>(options.max_message_bytes));
    // gRPC sets SO_REUSEPORT by default: a second server would share a busy port instead of failing.
    builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    builder.RegisterService(&rpc);
    server = builder.BuildAndStart();
    if (!server || port == 0) throw Error(fmt::format("grpc: cannot listen on {}", address));
  }
};

GrpcServer::GrpcServer(InferenceService& service, GrpcServerOptions options)
    : impl_(std::make_unique<Impl>(service, options)) {}

GrpcServer::~GrpcServer() { shutdown(); }

int GrpcServer::port() const { return impl_->port; }

void GrpcServer::shutdown(std::chrono::milliseconds grace) {
  std::call_once(impl_->stopped, [&] {
    // New calls get UNAVAILABLE at once; calls in flight keep running until `grace`, then gRPC cancels
    // them (CANCELLED). Each ModelInfer's Finish still comes from the InferenceService, by the job's
    // deadline: wait for those before the server goes away.
    impl_->server->Shutdown(std::chrono::system_clock::now() + grace);
    impl_->rpc.wait_until_idle();
    impl_->server->Wait();
  });
}

}  // namespace imprecise::serve
