// imprecise::client::HttpClient: a pool of keep-alive cpp-httplib connections, each with the thread that
// waits for its answer; async calls queue for the next free one.
#include "imprecise/client/http_client.hpp"

#include <charconv>
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <regex>
#include <thread>
#include <vector>

#include <fmt/core.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "http_wire.hpp"
#include "imprecise/error.hpp"

namespace imprecise::client {

namespace {

constexpr const char* kJsonLength = "Inference-Header-Content-Length";
// The server answers by the deadline at the latest; this much more covers the way back before a
// silent server counts as a missed deadline.
constexpr auto kAnswerSlack = std::chrono::seconds(1);

// The answer's Inference-Header-Content-Length, if sent; false when it is not a number.
bool json_length_of(const httplib::Response& res, std::optional<std::size_t>& length) {
  if (!res.has_header(kJsonLength)) return true;
  const std::string value = res.get_header_value(kJsonLength);
  std::size_t n = 0;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (error != std::errc{} || end != value.data() + value.size()) return false;
  length = n;
  return true;
}

}  // namespace

HttpClientOptions parse_http_url(const std::string& url, const std::string& field) {
  static const std::regex form(R"(http://([^:/\s]+|\[[0-9a-fA-F:]+\]):(\d{1,5})/?)");
  std::smatch m;
  if (!std::regex_match(url, m, form))
    throw Error(fmt::format("{}: '{}' is not an HTTP endpoint (http://host:port)", field, url.substr(0, 80)));
  HttpClientOptions o;
  o.host = m[1].str();
  o.port = std::stoi(m[2].str());
  if (o.port < 1 || o.port > 65535) throw Error(fmt::format("{}: port {} of '{}' is out of range", field, o.port, url));
  return o;
}

struct HttpClient::Impl {
  using Task = std::function<void(httplib::Client&)>;
  HttpClientOptions options;
  std::mutex mutex;
  std::condition_variable work;
  std::deque<Task> queue;
  bool closing = false;
  std::vector<std::thread> threads;
  std::map<std::string, std::string> input_names;  ///< model -> its input tensor's name (from metadata)
  std::mutex metadata_mutex;
  std::unique_ptr<httplib::Client> metadata_client;  ///< health, readiness, metadata: off the pool

  explicit Impl(HttpClientOptions o) : options(std::move(o)), metadata_client(connect()) {
    for (int i = 0; i < options.connections; ++i) threads.emplace_back([this] { serve_queue(); });
  }

  ~Impl() {
    {
      std::lock_guard lock(mutex);
      closing = true;
    }
    work.notify_all();
    for (std::thread& t : threads) t.join();  // each drains the queue before it stops
  }

  std::unique_ptr<httplib::Client> connect() const {
    auto c = std::make_unique<httplib::Client>(options.host, options.port);
    c->set_keep_alive(true);
    c->set_tcp_nodelay(true);  // the server answers in two writes; see HttpServer
    c->set_connection_timeout(std::chrono::seconds(5));
    if (!options.token.empty()) c->set_bearer_token_auth(options.token);
    return c;
  }

  void serve_queue() {
    std::unique_ptr<httplib::Client> connection = connect();
    for (;;) {
      Task task;
      {
        std::unique_lock lock(mutex);
        work.wait(lock, [this] { return closing || !queue.empty(); });
        if (queue.empty()) return;
        task = std::move(queue.front());
        queue.pop_front();
      }
      task(*connection);
    }
  }

  void post(Task task) {
    {
      std::lock_guard lock(mutex);
      queue.push_back(std::move(task));
    }
    work.notify_one();
  }

  httplib::Result get(const std::string& path, std::chrono::microseconds timeout) {
    std::lock_guard lock(metadata_mutex);
    metadata_client->set_read_timeout(timeout);
    return metadata_client->Get(path);
  }

  /// The model's input name, asked once (GET /v2/models/{model}); on failure, `failure` says why.
  std::string input_name(const std::string& model, std::chrono::microseconds timeout, InferResult& failure) {
    {
      std::lock_guard lock(mutex);
      if (auto it = input_names.find(model); it != input_names.end()) return it->second;
    }
    const httplib::Result res = get("/v2/models/" + model, std::max<std::chrono::microseconds>(timeout, std::chrono::seconds(1)));
    if (!res) {
      failure.code = grpc_code::unavailable;
      failure.message = fmt::format("metadata of model '{}': {}", model, httplib::to_string(res.error()));
      return {};
    }
    const auto metadata = nlohmann::json::parse(res->body, nullptr, false);
    if (res->status != 200 || !metadata.is_object() || !metadata.contains("inputs") || !metadata["inputs"].is_array() ||
        metadata["inputs"].empty() || !metadata["inputs"][0].contains("name") || !metadata["inputs"][0]["name"].is_string()) {
      failure = read_http_answer(res->status, res->body, std::nullopt);
      if (failure.code == grpc_code::ok) failure.code = grpc_code::internal;
      failure.message = fmt::format("metadata of model '{}': {}", model,
                                    failure.message.empty() ? "no input named" : failure.message);
      return {};
    }
    std::lock_guard lock(mutex);
    return input_names[model] = metadata["inputs"][0]["name"].get<std::string>();
  }

  /// One call on `connection`, its answer as an InferResult.
  InferResult send(httplib::Client& connection, const std::string& path, const HttpInferBody& request,
                   std::chrono::microseconds deadline) const {
    connection.set_read_timeout(deadline + kAnswerSlack);
    const httplib::Headers headers{{kJsonLength, std::to_string(request.json_length)}};
    const httplib::Result res = connection.Post(path, headers, request.body, "application/octet-stream");
    if (!res) {
      InferResult r;
      r.code = res.error() == httplib::Error::Read ? grpc_code::deadline_exceeded : grpc_code::unavailable;
      r.message = fmt::format("HTTP: {}", httplib::to_string(res.error()));
      return r;
    }
    std::optional<std::size_t> json_length;
    if (!json_length_of(*res, json_length)) {
      InferResult r;
      r.code = grpc_code::internal;
      r.message = fmt::format("HTTP {}: the answer's {} header '{}' is not a length", res->status, kJsonLength,
                              res->get_header_value(kJsonLength).substr(0, 40));
      return r;
    }
    return read_http_answer(res->status, res->body, json_length);
  }
};

HttpClient::HttpClient(HttpClientOptions options) {
  if (options.connections < 1) throw Error(fmt::format("http client: connections must be >= 1, not {}", options.connections));
  if (options.port < 1 || options.port > 65535) throw Error(fmt::format("http client: port {} is out of range", options.port));
  impl_ = std::make_unique<Impl>(std::move(options));
}

HttpClient::~HttpClient() = default;

bool HttpClient::live(std::chrono::milliseconds timeout) {
  const auto res = impl_->get("/v2/health/live", timeout);
  return res && res->status == 200;
}

bool HttpClient::model_ready(const std::string& model, std::chrono::milliseconds timeout) {
  const auto res = impl_->get("/v2/models/" + model + "/ready", timeout);
  return res && res->status == 200;
}

InferResult HttpClient::infer(const std::string& model, std::span<const float> input, std::span<const std::int64_t> shape,
                              std::chrono::microseconds deadline) {
  std::promise<InferResult> answer;
  std::future<InferResult> future = answer.get_future();
  infer_async(model, input, shape, deadline, [&answer](InferResult r) { answer.set_value(std::move(r)); });
  return future.get();
}

void HttpClient::infer_async(const std::string& model, std::span<const float> input, std::span<const std::int64_t> shape,
                             std::chrono::microseconds deadline, Done done) {
  const auto due = std::chrono::steady_clock::now() + deadline;
  InferResult failure;
  const std::string name = impl_->input_name(model, deadline, failure);
  if (name.empty()) {
    done(std::move(failure));
    return;
  }
  // The body is built when a connection takes the call, with the time then left as `deadline_us`: the
  // server counts it from its receipt, so a wait for a free connection must come off it.
  impl_->post([impl = impl_.get(), path = "/v2/models/" + model + "/infer", name,
               values = std::vector<float>(input.begin(), input.end()),
               dims = std::vector<std::int64_t>(shape.begin(), shape.end()), due,
               done = std::move(done)](httplib::Client& connection) {
    const auto left = std::max(std::chrono::microseconds(1), std::chrono::duration_cast<std::chrono::microseconds>(
                                                                  due - std::chrono::steady_clock::now()));
    done(impl->send(connection, path, make_http_infer_body(name, values, dims, left), left));
  });
}

}  // namespace imprecise::client
