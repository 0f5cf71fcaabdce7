// `imprecise serve --model-repository DIR`: the KServe v2 inference service (gRPC, HTTP/REST, /metrics)
// until SIGTERM or SIGINT, then a drain: stop accepting, answer what is in flight, exit 0.
#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "imprecise/config.hpp"
#include "imprecise/serve/inference_service.hpp"
#include "imprecise/serve/thread_priority.hpp"
#include "control_options.hpp"
#include "nn_commands.hpp"
#if IMPRECISE_HAS_GRPC_SERVER
#include "imprecise/serve/grpc_server.hpp"
#endif
#if IMPRECISE_HAS_HTTP_SERVER
#include "imprecise/serve/http_server.hpp"
#endif

namespace imprecise::cli {

namespace {

struct ServeOptions {
  std::string repository;
  int grpc_port = 8001, http_port = 8000, metrics_port = 8002;  // -1: that endpoint is off; 0: any free port
  std::string address = "127.0.0.1";
  std::string policy = "yao-dp";
  std::size_t max_pending = runtime::EngineConfig{}.max_pending;
  int lanes = runtime::EngineConfig{}.lanes;
  bool pin_lanes = false;
  std::string backend;
  std::int64_t network_margin_us = 2000;
  int io_nice = 5;
  std::int64_t max_deadline_us = 60'000'000;
  std::size_t max_message_bytes = 16u << 20;
  int http_threads = 16;
  std::int64_t read_timeout_ms = 5000;
  std::string token;
  std::string tls_cert, tls_key;
  ControlOptions control;  ///< --controller and its settings (its lanes: --lanes)
};

void check_port(int port, const char* option) {
  if (port < -1 || port > 65535) throw InputError(fmt::format("{}: {} is not a port (0-65535, or -1: off)", option, port));
}

void check_options(const ServeOptions& o) {
  check_port(o.grpc_port, "--grpc-port");
  check_port(o.http_port, "--http-port");
  check_port(o.metrics_port, "--metrics-port");
  check_policy_spec(o.policy, "--policy");
  if (o.max_pending < 1) throw InputError("--max-pending: must be >= 1");
  if (o.network_margin_us < 0) throw InputError(fmt::format("--network-margin-us: {} must be >= 0", o.network_margin_us));
  if (o.io_nice < 0 || o.io_nice > 19) throw InputError(fmt::format("--io-nice: {} is not 0 to 19", o.io_nice));
  if (o.max_deadline_us <= 0) throw InputError(fmt::format("--max-deadline-us: {} must be > 0", o.max_deadline_us));
  if (o.max_message_bytes < 1024) throw InputError("--max-message-bytes: must be >= 1024");
  if (o.http_threads < 1) throw InputError(fmt::format("--http-threads: {} must be >= 1", o.http_threads));
  if (o.read_timeout_ms < 1) throw InputError(fmt::format("--read-timeout-ms: {} must be >= 1", o.read_timeout_ms));
  if (o.tls_cert.empty() != o.tls_key.empty()) throw InputError("--tls-cert, --tls-key: give both or neither");
#if !IMPRECISE_HAS_GRPC_SERVER
  if (!o.tls_cert.empty()) throw InputError("--tls-cert: TLS is for the gRPC endpoint, which this build lacks");
#endif
}

/// SIGTERM and SIGINT blocked in this thread and every thread started after it (they inherit the mask),
/// so sigwait() below is the one place they arrive: no handler runs inside a server thread.
sigset_t block_stop_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

int serve(const ServeOptions& o) {
  check_options(o);
  const sigset_t signals = block_stop_signals();

  serve::ServiceConfig config;
  config.engine.policy = o.policy;
  config.engine.max_pending = o.max_pending;
  config.engine.lanes = o.lanes;
  config.engine.pin_lanes = o.pin_lanes;
  ControlOptions control = o.control;
  control.lanes = o.lanes;
  config.engine.make_controller = controller_factory(control, config.engine.control);
  config.backend = o.backend;
  config.network_margin = std::chrono::microseconds(o.network_margin_us);
  config.max_deadline = std::chrono::microseconds(o.max_deadline_us);
  config.io_nice = o.io_nice;
  serve::InferenceService service(o.repository, config);
  std::fprintf(stderr, "imprecise serve: %zu model(s) from %s\n", service.models().size(), o.repository.c_str());
  if (config.engine.make_controller)
    std::fprintf(stderr, "imprecise serve: controller %s, every %s ms\n", o.control.controller.c_str(),
                 format_number(o.control.interval_ms).c_str());
  // The engine's lanes are started: every thread from here on (gRPC, HTTP, metrics) inherits the lower
  // priority, so on a contended CPU the deadline-bound stages win over moving requests and answers.
  if (o.io_nice > 0 && !serve::lower_this_thread_priority(o.io_nice))
    std::fprintf(stderr, "imprecise serve: --io-nice %d refused by the system, endpoints at the lanes' priority\n", o.io_nice);

#if IMPRECISE_HAS_GRPC_SERVER
  std::unique_ptr<serve::GrpcServer> grpc;
  if (o.grpc_port >= 0) {
    serve::GrpcServerOptions g;
    g.address = o.address;
    g.port = o.grpc_port;
    g.max_message_bytes = o.max_message_bytes;
    g.tls_cert_file = o.tls_cert;
    g.tls_key_file = o.tls_key;
    g.token = o.token;
    grpc = std::make_unique<serve::GrpcServer>(service, g);
    std::fprintf(stderr, "imprecise serve: gRPC listening on %s:%d\n", o.address.c_str(), grpc->port());
  }
#else
  if (o.grpc_port >= 0) std::fprintf(stderr, "imprecise serve: gRPC not built in (libgrpc++-dev), no gRPC endpoint\n");
#endif
#if IMPRECISE_HAS_HTTP_SERVER
  serve::HttpServerOptions h;
  h.address = o.address;
  h.max_body_bytes = o.max_message_bytes;
  h.read_timeout = std::chrono::milliseconds(o.read_timeout_ms);
  h.threads = o.http_threads;
  std::unique_ptr<serve::HttpServer> http, metrics;
  if (o.http_port >= 0) {
    h.port = o.http_port;
    h.token = o.token;
    http = std::make_unique<serve::HttpServer>(service, h);
    std::fprintf(stderr, "imprecise serve: HTTP/REST listening on %s:%d\n", o.address.c_str(), http->port());
  }
  if (o.metrics_port >= 0) {
    h.port = o.metrics_port;
    h.token.clear();  // a scraper reads it; it carries no inference and binds where --address says
    h.metrics_only = true;
    h.threads = 2;
    metrics = std::make_unique<serve::HttpServer>(service, h);
    std::fprintf(stderr, "imprecise serve: metrics listening on %s:%d/metrics\n", o.address.c_str(), metrics->port());
  }
#else
  if (o.http_port >= 0 || o.metrics_port >= 0)
    std::fprintf(stderr, "imprecise serve: cpp-httplib not built in (libcpp-httplib-dev), no HTTP or metrics endpoint\n");
#endif

  int received = 0;
  sigwait(&signals, &received);
  std::fprintf(stderr, "imprecise serve: %s received, answering what is in flight\n", received == SIGINT ? "SIGINT" : "SIGTERM");

  // Stop accepting on every endpoint at once; each stop waits for its calls in flight, which the
  // still-running engine answers by their deadlines. Then drain the engine and stop /metrics last.
#if IMPRECISE_HAS_HTTP_SERVER
  std::thread http_stop([&http] {
    if (http) http->stop();
  });
#endif
#if IMPRECISE_HAS_GRPC_SERVER
  if (grpc) grpc->shutdown(std::chrono::duration_cast<std::chrono::milliseconds>(config.max_deadline) + std::chrono::seconds(1));
#endif
#if IMPRECISE_HAS_HTTP_SERVER
  http_stop.join();
#endif
  service.shutdown();
#if IMPRECISE_HAS_HTTP_SERVER
  if (metrics) metrics->stop();
#endif
  std::fprintf(stderr, "imprecise serve: stopped\n");
  return kExitOk;
}

}  // namespace

void add_serve_command(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand("serve", "Serve a model repository over the KServe v2 protocol (gRPC, HTTP/REST, /metrics)");
  auto o = std::make_shared<ServeOptions>();
  cmd->add_option("--model-repository", o->repository, "folder with one sub-folder per model (config.json)")->required();
  cmd->add_option("--grpc-port", o->grpc_port, "gRPC port (0: any free port, -1: off)")->capture_default_str();
  cmd->add_option("--http-port", o->http_port, "HTTP/REST port (0: any free port, -1: off)")->capture_default_str();
  cmd->add_option("--metrics-port", o->metrics_port, "Prometheus /metrics port (0: any free port, -1: off)")->capture_default_str();
  cmd->add_option("--address", o->address, "address to bind (0.0.0.0: every interface)")->capture_default_str();
  cmd->add_option("--policy", o->policy, "scheduling policy (make_policy name)")->capture_default_str();
  cmd->add_option("--max-pending", o->max_pending, "jobs admitted and not yet answered; beyond: 429")->capture_default_str();
  cmd->add_option("--lanes", o->lanes,
                  "executor lanes: up to this many batches run at once, each lane on its own model instances "
                  "(plans with the profiles' \"concurrent\" tables when they have them)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  cmd->add_flag("--pin-lanes", o->pin_lanes, "pin lane i's thread to CPU i (mod the CPUs this process may use)");
  cmd->add_option("--controller", o->control.controller,
                  "sets each model's max batch, batching wait and lanes every control interval: static, aimd, "
                  "model-based, sac (default: none, the policy's own settings)");
  add_controller_settings(*cmd, o->control);
  cmd->add_option("--backend", o->backend, "inference backend (cpu, onednn, cuda); default: the fastest cpu backend");
  cmd->add_option("--network-margin-us", o->network_margin_us, "taken off every client deadline for the way back")->capture_default_str();
  cmd->add_option("--io-nice", o->io_nice,
                  "nice levels the endpoints' and responder's threads run below the engine's lanes (0-19; 0: same)")
      ->capture_default_str();
  cmd->add_option("--max-deadline-us", o->max_deadline_us, "a deadline parameter beyond this is refused")->capture_default_str();
  cmd->add_option("--max-message-bytes", o->max_message_bytes, "largest request (gRPC message, HTTP body)")->capture_default_str();
  cmd->add_option("--http-threads", o->http_threads, "HTTP worker threads (one per connection being served)")->capture_default_str();
  cmd->add_option("--read-timeout-ms", o->read_timeout_ms, "an HTTP request must arrive whole within this")->capture_default_str();
  cmd->add_option("--token", o->token, "require 'Authorization: Bearer <token>' on gRPC and HTTP (not /metrics)");
  cmd->add_option("--tls-cert", o->tls_cert, "PEM certificate for gRPC over TLS (with --tls-key)");
  cmd->add_option("--tls-key", o->tls_key, "PEM private key for gRPC over TLS (with --tls-cert)");
  cmd->callback([&action, o] { action = [o] { return serve(*o); }; });
}

}  // namespace imprecise::cli
