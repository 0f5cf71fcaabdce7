// The open-loop sender: client threads sleep until each request's arrival time and send it async; the
// answers land in per-request records from the client library's threads.
#include "imprecise/loadgen/runner.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>

#include <fmt/core.h>

#include "imprecise/client/client.hpp"
#include "imprecise/client/http_client.hpp"
#include "imprecise/error.hpp"

namespace imprecise::loadgen {

namespace {

using Steady = std::chrono::steady_clock;

std::int64_t us_between(Steady::time_point from, Steady::time_point to) {
  return std::chrono::duration_cast<std::chrono::microseconds>(to - from).count();
}

template <class Client>
void check_server(Client& client, const Schedule& schedule, const std::string& target) {
  if (!client.live(std::chrono::seconds(5)))
    throw Error(fmt::format("--target: no KServe v2 {} server answers at {}",
                            std::is_same_v<Client, client::HttpClient> ? "HTTP" : "gRPC", target));
  for (const auto& model : schedule.models)
    if (!client.model_ready(model, std::chrono::seconds(5)))
      throw Error(fmt::format("--model: '{}' is not served (not ready) at {}", model, target));
}

// One request per model and client before the clock starts: it opens the client's connection and lets
// it learn the model's input name (a metadata call), which would otherwise delay each first request. An
// input the server refuses outright is a setup error, not a run.
template <class Client>
void warm_up(Client& client, const Schedule& schedule, const std::vector<ModelInputs>& inputs) {
  for (std::size_t m = 0; m < schedule.models.size(); ++m) {
    const client::InferResult r =
        client.infer(schedule.models[m], inputs[m].sample(0), inputs[m].shape, std::chrono::seconds(10));
    constexpr int kInvalidArgument = 3, kNotFound = 5, kUnauthenticated = 16;
    if (r.code == kInvalidArgument || r.code == kNotFound || r.code == kUnauthenticated)
      throw Error(fmt::format("model '{}': the server refused a test input (status {}, as gRPC codes): {}", schedule.models[m],
                              r.code, r.message));
  }
}

Steady::time_point start_time(const RunnerOptions& options) {
  if (options.start_at_unix_ms <= 0) return Steady::now() + std::chrono::milliseconds(200);
  const auto wall = std::chrono::system_clock::time_point(std::chrono::milliseconds(options.start_at_unix_ms));
  return Steady::now() + std::chrono::duration_cast<Steady::duration>(wall - std::chrono::system_clock::now());
}

// Shared by the sending threads and the answer callbacks.
struct Tally {
  std::mutex mu;
  std::condition_variable changed;
  std::size_t answered = 0;
  Steady::time_point last_answer{};
};

// The run over either client (client::Client, client::HttpClient: the same calls); `make` opens one.
template <class Client, class Make>
RunResult run_with(const Schedule& schedule, const std::vector<ModelInputs>& inputs, const RunnerOptions& options,
                   Make make) {
  // Declared before the clients: their destructors wait for the calls in flight, whose callbacks use these.
  const std::size_t n = schedule.requests.size();
  RunResult result;
  result.records.resize(n);
  std::vector<std::atomic<int>> answers(n);
  Tally tally;
  {
    std::vector<std::unique_ptr<Client>> clients;
    for (int c = 0; c < options.clients; ++c) clients.push_back(make());
    check_server(*clients.front(), schedule, options.target);
    for (auto& c : clients) warm_up(*c, schedule, inputs);

    const Steady::time_point start = start_time(options);
    // A shared start already past would make every request late from the first (each deadline counts from
    // its arrival): refuse rather than report a run that measures the client's lateness.
    if (const auto late_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Steady::now() - start).count(); late_ms > 0)
      throw Error(fmt::format("--start-at-ms: the start was {} ms ago when this process was ready (inputs loaded, "
                              "server checked); give it more lead",
                              late_ms));
    std::atomic<std::size_t> sent{0};
    std::vector<std::thread> senders;
    for (int c = 0; c < options.clients; ++c) {
      senders.emplace_back([&, c] {
        Client& client = *clients[static_cast<std::size_t>(c)];
        for (std::size_t i = static_cast<std::size_t>(c); i < n; i += static_cast<std::size_t>(options.clients)) {
          const PlannedRequest& r = schedule.requests[i];
          const ModelInputs& in = inputs[static_cast<std::size_t>(r.model)];
          RequestRecord& record = result.records[i];
          record.model = r.model;
          record.stream = r.stream;
          record.sample = r.sample;
          record.label = in.labels[static_cast<std::size_t>(r.sample)];
          record.scheduled_ns = r.at_ns;
          record.deadline_us = r.deadline_us;
          const Steady::time_point arrival = start + std::chrono::nanoseconds(r.at_ns);
          std::this_thread::sleep_until(arrival);
          const Steady::time_point now = Steady::now();
          record.send_lag_us = us_between(arrival, now);
          // The deadline counts from the arrival: a late send has less time left (at least 1 us, so that a
          // hopeless request is still sent and recorded as the miss it is).
          const auto left = std::max<std::int64_t>(1, r.deadline_us - record.send_lag_us);
          client.infer_async(schedule.models[static_cast<std::size_t>(r.model)], in.sample(static_cast<std::size_t>(r.sample)),
                             in.shape, std::chrono::microseconds(left),
                             [&, i, arrival](client::InferResult answer) {
                               const Steady::time_point at = Steady::now();
                               if (answers[i].fetch_add(1) == 0) {  // a second answer would be counted, not stored
                                 RequestRecord& rec = result.records[i];
                                 rec.latency_us = us_between(arrival, at);
                                 rec.code = answer.code;
                                 rec.outcome = std::move(answer.outcome);
                                 rec.exit = answer.exit;
                                 rec.depth = answer.depth;
                                 rec.prediction = answer.prediction;
                                 if (!rec.outcome.empty()) rec.server_us = answer.total_us;  // an answer came
                                 rec.correct = answer.code == 0 && answer.prediction == rec.label;
                               }
                               std::lock_guard lock(tally.mu);
                               ++tally.answered;
                               tally.last_answer = std::max(tally.last_answer, at);
                               tally.changed.notify_all();
                             });
          sent.fetch_add(1);
        }
      });
    }
    for (auto& t : senders) t.join();
    result.sent = sent.load();
    std::int64_t last_due_ns = 0;
    for (const PlannedRequest& r : schedule.requests) last_due_ns = std::max(last_due_ns, r.at_ns + r.deadline_us * 1000);
    {
      std::unique_lock lock(tally.mu);
      tally.changed.wait_until(lock, start + std::chrono::nanoseconds(last_due_ns) + options.grace,
                               [&] { return tally.answered >= result.sent; });
      result.wall_s = std::chrono::duration<double>(std::max(tally.last_answer, start) - start).count();
    }
  }  // the clients wait here for any call still in flight
  for (std::size_t i = 0; i < n; ++i) {
    result.records[i].answers = answers[i].load();
    result.recorded += result.records[i].answers == 1 ? 1 : 0;
  }
  return result;
}

}  // namespace

bool is_http_target(const std::string& target) { return target.rfind("http://", 0) == 0; }

RunResult run_schedule(const Schedule& schedule, const std::vector<ModelInputs>& inputs, const RunnerOptions& options) {
  if (options.clients < 1) throw Error(fmt::format("--clients: {} must be >= 1", options.clients));
  if (options.http_connections < 1)
    throw Error(fmt::format("--http-connections: {} must be >= 1", options.http_connections));
  if (inputs.size() != schedule.models.size())
    throw Error(fmt::format("loadgen: {} input sets for {} models", inputs.size(), schedule.models.size()));
  for (const PlannedRequest& r : schedule.requests)
    if (static_cast<std::size_t>(r.sample) >= inputs[static_cast<std::size_t>(r.model)].size())
      throw Error(fmt::format("model '{}': sample {} requested, {} loaded", schedule.models[static_cast<std::size_t>(r.model)],
                              r.sample, inputs[static_cast<std::size_t>(r.model)].size()));
  if (is_http_target(options.target)) {
    client::HttpClientOptions http = client::parse_http_url(options.target, "--target");
    http.token = options.token;
    http.connections = options.http_connections;
    return run_with<client::HttpClient>(schedule, inputs, options,
                                        [&] { return std::make_unique<client::HttpClient>(http); });
  }
  client::ClientOptions grpc;
  grpc.target = options.target;
  grpc.token = options.token;
  return run_with<client::Client>(schedule, inputs, options, [&] { return std::make_unique<client::Client>(grpc); });
}

}  // namespace imprecise::loadgen
