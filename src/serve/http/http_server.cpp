// HttpServer: routes of the v2 REST protocol and /metrics on a BoundedServer (cpp-httplib). An infer
// handler blocks its worker thread until the service's `done` (bounded by the request's deadline).
#include "imprecise/serve/http_server.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <optional>
#include <thread>

#include <fmt/core.h>

#include "bounded_server.hpp"
#include "http_codec.hpp"
#include "imprecise/error.hpp"
#include "metadata_json.hpp"

namespace imprecise::serve {

namespace {

constexpr const char* kJson = "application/json";
constexpr const char* kOctetStream = "application/octet-stream";
constexpr const char* kPrometheusText = "text/plain; version=0.0.4";
// [^/]+ then optional /versions/{v}: the two spellings of every model route.
constexpr const char* kModel = R"(/v2/models/([^/]+)(?:/versions/([^/]+))?)";

void send_error(httplib::Response& res, int status, std::string_view message) {
  res.status = status;
  res.set_content(error_json(message), kJson);
}

// Same time for a right and a wrong token of the same length: no timing hint about the prefix.
bool same_secret(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i)
    diff = static_cast<unsigned char>(diff | (a[i] ^ b[i]));
  return diff == 0;
}

std::string describe_status(int status, std::size_t max_body_bytes) {
  switch (status) {
    case 400: return "malformed HTTP request, or its body did not arrive whole within the read timeout";
    case 404: return "no such endpoint";
    case 405: return "method not allowed";
    case 413: return fmt::format("request body larger than the server's limit of {} bytes", max_body_bytes);
    case 414: return "request URI too long";
    default: return fmt::format("HTTP status {}", status);
  }
}

}  // namespace

struct HttpServer::Impl {
  InferenceService& service;
  HttpServerOptions options;
  BoundedServer server;
  std::thread listener;
  std::atomic<bool> listener_done{false};
  int port = 0;
  std::once_flag stopped;

  Impl(InferenceService& s, HttpServerOptions o)
      : service(s),
        options(std::move(o)),
        server(options.read_timeout, options.read_timeout, options.read_timeout) {}

  void routes();
  void infer(const httplib::Request& req, httplib::Response& res) const;
  std::string version_of(const httplib::Request& req) const { return req.matches.size() > 2 ? req.matches[2].str() : ""; }
};

void HttpServer::Impl::routes() {
  server.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(service.prometheus_text(), kPrometheusText);
  });
  if (options.metrics_only) return;

  // Health: the status code is the answer (200, or 400 as the protocol's "4xx means false").
  server.Get("/v2/health/live", [this](const httplib::Request&, httplib::Response& res) {
    if (!service.live()) send_error(res, 400, "not live");
  });
  server.Get("/v2/health/ready", [this](const httplib::Request&, httplib::Response& res) {
    if (!service.ready()) send_error(res, 400, "not ready: the server is shutting down");
  });
  server.Get("/v2", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(server_metadata_json(service), kJson);
  });
  server.Get(std::string(kModel) + "/ready", [this](const httplib::Request& req, httplib::Response& res) {
    const std::string name = req.matches[1], version = version_of(req);
    const ModelInfo* info = service.model(name);
    if (!info || (!version.empty() && info->versions.front() != version))
      return send_error(res, 404, fmt::format("model '{}'{}: not served", name, version.empty() ? "" : " version " + version));
    if (!service.model_ready(name, version)) send_error(res, 400, fmt::format("model '{}': not ready", name));
  });
  server.Get(kModel, [this](const httplib::Request& req, httplib::Response& res) {
    const std::string name = req.matches[1], version = version_of(req);
    const ModelInfo* info = service.model(name);
    if (!info) return send_error(res, 404, fmt::format("model '{}': not served", name));
    if (!version.empty() && info->versions.front() != version)
      return send_error(res, 404, fmt::format("model '{}' has version '{}', not '{}'", name, info->versions.front(), version));
    res.set_content(model_metadata_json(*info), kJson);
  });
  server.Post(std::string(kModel) + "/infer",
              [this](const httplib::Request& req, httplib::Response& res) { infer(req, res); });
}

void HttpServer::Impl::infer(const httplib::Request& req, httplib::Response& res) const {
  const Clock::time_point arrival = Clock::now();
  InferRequest request;
  OutputEncoding output = OutputEncoding::json;
  const std::string header = req.get_header_value(kInferenceHeaderLength);
  std::optional<std::string_view> json_length;
  if (req.has_header(kInferenceHeaderLength)) json_length = header;
  if (Status s = decode_infer_body(req.body, json_length, req.matches[1].str(), version_of(req), request, output); !s.ok()) {
    service.count_undecoded(req.matches[1].str(), s, arrival);
    return send_error(res, http_status(s.code), s.message);
  }
  // The service calls `done` exactly once, by the deadline at the latest; this worker waits for it.
  auto answer = std::make_shared<std::promise<InferResponse>>();
  std::future<InferResponse> future = answer->get_future();
  service.infer(std::move(request), [answer](InferResponse response) { answer->set_value(std::move(response)); });
  InferResponse response = future.get();
  if (response.version.empty())
    if (const ModelInfo* info = service.model(response.model)) response.version = info->versions.front();
  res.status = http_status(response.status.code);
  EncodedBody encoded = encode_infer_body(response, output);
  // Binary data after the JSON: the header says where the JSON ends; the body is no longer JSON.
  if (encoded.has_binary()) res.set_header(kInferenceHeaderLength, std::to_string(encoded.json_length));
  res.set_content(encoded.body, encoded.has_binary() ? kOctetStream : kJson);
}

HttpServer::HttpServer(InferenceService& service, HttpServerOptions options)
    : impl_(std::make_unique<Impl>(service, std::move(options))) {
  Impl& im = *impl_;
  const HttpServerOptions& o = im.options;
  if (o.threads < 1) throw Error(fmt::format("http: threads must be >= 1, not {}", o.threads));
  if (o.read_timeout.count() <= 0) throw Error("http: the read timeout must be > 0");
  im.server.set_payload_max_length(o.max_body_bytes);
  // What the Keep-Alive header announces, and what BoundedServer's connection loop applies.
  im.server.set_keep_alive_max_count(100);
  im.server.set_keep_alive_timeout(std::max<time_t>(1, std::chrono::ceil<std::chrono::seconds>(o.read_timeout).count()));
  // httplib's default also sets SO_REUSEPORT, which lets a second server share a port in use (and the
  // kernel split the requests between them): a port in use must be an error instead.
  // TCP_NODELAY (inherited by every accepted connection): httplib writes a response's headers and body
  // separately, and with Nagle's algorithm the body then waits for the client's delayed ACK of the
  // headers, up to 40 ms, on a keep-alive connection that is busy.
  im.server.set_socket_options([](socket_t socket) {
    const int yes = 1;
    ::setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    ::setsockopt(socket, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
  });
  const auto threads = static_cast<std::size_t>(o.threads);
  im.server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  if (!o.token.empty()) {
    im.server.set_pre_routing_handler([&im](const httplib::Request& req, httplib::Response& res) {
      if (same_secret(req.get_header_value("Authorization"), "Bearer " + im.options.token))
        return httplib::Server::HandlerResponse::Unhandled;
      res.set_header("WWW-Authenticate", "Bearer");
      send_error(res, 401, "Authorization: a valid 'Bearer <token>' header is required");
      return httplib::Server::HandlerResponse::Handled;
    });
  }
  // httplib's own refusals (404, 413, a malformed request) get the same {"error": ...} body as ours.
  im.server.set_error_handler([max = o.max_body_bytes](const httplib::Request& req, httplib::Response& res) {
    if (res.body.empty()) {
      std::string message = describe_status(res.status, max);
      if (res.status == 404) message += fmt::format(": {} {}", req.method, req.path.substr(0, 200));
      // cpp-httplib parses a form-encoded body itself and refuses one over 8 KB with 413 (a build-time
      // limit of the Debian library): say so, since `curl -d` sends that type unless told otherwise.
      if (res.status == 413 && req.get_header_value("Content-Type") == "application/x-www-form-urlencoded")
        message = "Content-Type: application/x-www-form-urlencoded bodies are limited to 8 KB by the HTTP library; "
                  "send the inference request as 'Content-Type: application/json'";
      res.set_content(error_json(message), kJson);
    }
  });
  im.server.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr error) {
    std::string what = "unknown failure";
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    send_error(res, 500, fmt::format("internal: {}", what));
  });
  im.routes();

  im.port = o.port == 0 ? im.server.bind_to_any_port(o.address) : (im.server.bind_to_port(o.address, o.port) ? o.port : -1);
  if (im.port < 0)
    throw Error(fmt::format("http: cannot listen on {}:{} (address in use or not local?)", o.address, o.port));
  im.listener = std::thread([&im] {
    im.server.listen_after_bind();
    im.listener_done = true;
  });
}

HttpServer::~HttpServer() { stop(); }

int HttpServer::port() const { return impl_->port; }

void HttpServer::stop() {
  std::call_once(impl_->stopped, [this] {
    // httplib's stop() does nothing before its accept loop has started: wait for that first.
    while (!impl_->server.is_running() && !impl_->listener_done) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    impl_->server.stop();  // closes the listening socket; the listener then joins the worker threads
    if (impl_->listener.joinable()) impl_->listener.join();
  });
}

}  // namespace imprecise::serve
