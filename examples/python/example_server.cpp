// A minimal gRPC server for the Python example's test: the repository given, 127.0.0.1, a port chosen by
// the OS, printed as "port N"; it shuts down when its stdin closes. (`imprecise serve` is the real one.)
#include <cstdio>
#include <iostream>
#include <string>

#include "imprecise/serve/grpc_server.hpp"
#include "imprecise/serve/inference_service.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s MODEL_REPOSITORY\n", argv[0]);
    return 2;
  }
  try {
    imprecise::serve::InferenceService service(argv[1]);
    imprecise::serve::GrpcServerOptions options;
    options.port = 0;
    imprecise::serve::GrpcServer server(service, options);
    std::printf("port %d\n", server.port());
    std::fflush(stdout);
    for (std::string line; std::getline(std::cin, line);) {
    }
    server.shutdown();
    service.shutdown();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "example server: %s\n", e.what());
    return 1;
  }
  return 0;
}
