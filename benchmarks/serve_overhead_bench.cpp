// serve_overhead_bench: the latency the server adds per request over loopback. The same test inputs at
// the same open-loop rate go (a) to an in-process runtime::Engine serving the repository's models,
// (b) through imprecise::client -> GrpcServer -> InferenceService -> an Engine like it, and (c) as v2
// JSON over keep-alive HTTP connections (cpp-httplib's blocking client, four connections on their own
// threads; a request that waits for its connection is charged the wait) -> HttpServer -> the same service,
// and (d) the same over HTTP with Triton's binary tensor data extension both ways; the added latency is
// the difference of the percentiles. A plain program (Google Benchmark's closed loop cannot
// pace arrivals); writes a table and JSON.
//
//   serve_overhead_bench [--rates 1000,5000] [--seconds 3] [--model vision] [--policy edf-mandatory] [--out F]
//
// Two last rows time an empty RPC (ServerLive) and an empty HTTP GET the same way: each stack's own floor
// per call.
//
// edf-mandatory runs every job to its mandatory exit only, so both paths do the same work per request
// whatever the deadline; the deadline (50 ms) is far from binding.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include <CLI/CLI.hpp>
#include <httplib.h>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "imprecise/client/client.hpp"
#include "imprecise/core/nearest_rank.hpp"
#include "imprecise/data/pipeline.hpp"
#include "imprecise/loadgen/inputs.hpp"
#include "imprecise/runtime/engine.hpp"
#include "imprecise/serve/grpc_server.hpp"
#include "imprecise/serve/http_server.hpp"
#include "imprecise/serve/inference_service.hpp"
#include "imprecise/serve/model_repository.hpp"

namespace {

using namespace imprecise;
using Steady = std::chrono::steady_clock;
constexpr auto kDeadline = std::chrono::milliseconds(50);
constexpr int kHttpConnections = 4;

struct Latencies {
  std::vector<std::int64_t> us;  ///< send to answer, per request; -1: not completed
  std::mutex mu;
  std::condition_variable changed;
  std::size_t answered = 0;
  double cpu_us = 0.0;  ///< CPU time of the whole process (clients, server, engines) over the run
  void record(std::size_t i, std::int64_t latency_us, bool completed) {
    us[i] = completed ? latency_us : -1;
    std::lock_guard lock(mu);
    ++answered;
    changed.notify_all();
  }
  void wait_all() {
    std::unique_lock lock(mu);
    changed.wait_for(lock, std::chrono::seconds(30), [&] { return answered == us.size(); });
  }
};

// CPU time of every thread of this process: client and server share it, so per request it is what the
// path costs the machine whose cores the lanes need.
double process_cpu_us() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return 1e6 * static_cast<double>(t.tv_sec) + 1e-3 * static_cast<double>(t.tv_nsec);
}

// Sends `n` requests at `rate` per second: request i from sender i mod `senders` (each its own thread
// when there are several), at its due time; send(i, since, sender) must answer into `out`, counting its
// latency from `since`: when the sender woke for it, or its due time when a blocking sender was still
// busy then (it is charged that lateness; a timer's late wake-up is charged to no path).
template <class Send>
void paced(std::size_t n, double rate, Latencies& out, Send send, std::size_t senders = 1) {
  out.us.assign(n, -1);
  out.answered = 0;
  const double cpu_before = process_cpu_us();
  const auto start = Steady::now() + std::chrono::milliseconds(50);
  auto run = [&](std::size_t sender) {
    for (std::size_t i = sender; i < n; i += senders) {
      const auto due = start + std::chrono::nanoseconds(static_cast<std::int64_t>(1e9 * static_cast<double>(i) / rate));
      const bool behind = Steady::now() >= due;
      std::this_thread::sleep_until(due);
      send(i, behind ? due : Steady::now(), sender);
    }
  };
  std::vector<std::thread> threads;
  for (std::size_t t = 1; t < senders; ++t) threads.emplace_back(run, t);
  run(0);
  for (std::thread& t : threads) t.join();
  out.wait_all();
  out.cpu_us = process_cpu_us() - cpu_before;
}

struct Figures {
  std::size_t requests = 0, completed = 0;
  double p50_us = 0.0, p99_us = 0.0;
  double cpu_us_per_request = 0.0;  ///< warm-up included
};

Figures figures(const Latencies& l, std::size_t warmup) {
  std::vector<std::int64_t> v;
  for (std::size_t i = warmup; i < l.us.size(); ++i)
    if (l.us[i] >= 0) v.push_back(l.us[i]);
  Figures f;
  f.requests = l.us.size() - warmup;
  f.completed = v.size();
  f.cpu_us_per_request = l.us.empty() ? 0.0 : l.cpu_us / static_cast<double>(l.us.size());
  if (v.empty()) return f;
  f.p50_us = static_cast<double>(nearest_rank(v, 0.50));
  f.p99_us = static_cast<double>(nearest_rank(v, 0.99));
  return f;
}

std::int64_t us_since(Steady::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(Steady::now() - t).count();
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown";
}

}  // namespace

int main(int argc, char** argv) {
  data::set_source_root(IMPRECISE_SOURCE_DIR);
  CLI::App app{"serve_overhead_bench: latency added by the gRPC server over an in-process Engine"};
  std::vector<double> rates{1000.0, 5000.0};
  double seconds = 3.0;
  std::string model = "vision", policy = "edf-mandatory", out_path, repository = data::source_path("model_repository");
  app.add_option("--rates", rates, "requests per second")->delimiter(',')->capture_default_str();
  app.add_option("--seconds", seconds, "seconds per rate and path")->capture_default_str();
  app.add_option("--model", model, "the model every request goes to")->capture_default_str();
  app.add_option("--policy", policy, "scheduling policy of both engines")->capture_default_str();
  app.add_option("--model-repository", repository, "served models")->capture_default_str();
  app.add_option("--out", out_path, "JSON results");
  CLI11_PARSE(app, argc, argv);

  try {
    const auto inputs = loadgen::load_inputs({model}, {1000}, "test", "");
    const loadgen::ModelInputs& in = inputs.front();
    runtime::EngineConfig engine_config;
    engine_config.policy = policy;
    engine_config.max_pending = 4096;

    // (a) in-process: the repository's models in an Engine, inputs submitted directly.
    const auto configs = serve::read_repository(repository);
    std::vector<runtime::ServedModel> served;
    int model_id = -1;
    for (const auto& c : configs) {
      if (c.name == model) model_id = static_cast<int>(served.size());
      served.push_back(serve::load_served_model(c, ""));
    }
    if (model_id < 0) throw std::runtime_error(fmt::format("--model: '{}' is not in {}", model, repository));
    std::vector<nn::Tensor> tensors;
    for (std::size_t s = 0; s < in.size(); ++s) {
      nn::Shape shape(in.shape.begin(), in.shape.end());
      const auto sample = in.sample(s);
      tensors.emplace_back(shape, std::vector<float>(sample.begin(), sample.end()));
    }
    // (b) the server on loopback, port chosen by the OS, and one client.
    serve::ServiceConfig service_config;
    service_config.engine = engine_config;
    serve::InferenceService service(repository, service_config);
    serve::GrpcServerOptions grpc_options;
    grpc_options.port = 0;
    serve::GrpcServer server(service, grpc_options);
    client::ClientOptions client_options;
    client_options.target = fmt::format("127.0.0.1:{}", server.port());
    client::Client client(client_options);
    serve::HttpServerOptions http_options;
    http_options.port = 0;
    serve::HttpServer http_server(service, http_options);
    // Blocking HTTP clients, one keep-alive connection each (TCP_NODELAY, as curl and urllib3 set it):
    // enough of them that each is usually idle when its next request is due at 5,000/s.
    std::vector<std::unique_ptr<httplib::Client>> http;
    for (int c = 0; c < kHttpConnections; ++c) {
      http.push_back(std::make_unique<httplib::Client>("127.0.0.1", http_server.port()));
      http.back()->set_keep_alive(true);
      http.back()->set_tcp_nodelay(true);
    }
    // One v2 JSON body per test input, built before the clock runs (a client would have it ready too),
    // naming the input as the model's metadata does.
    const auto metadata = http.front()->Get(fmt::format("/v2/models/{}", model));
    if (!metadata || metadata->status != 200) throw std::runtime_error("HTTP: cannot read the model's metadata");
    const std::string input_name = nlohmann::json::parse(metadata->body).at("inputs").at(0).at("name");
    // (d) The same request with Triton's binary tensor data extension both ways (tritonclient's default):
    // the input's bytes after a small JSON, the logits' bytes after the answer's.
    std::vector<std::string> bodies, binary_bodies;
    std::vector<httplib::Headers> binary_headers;
    const auto deadline_us = std::chrono::microseconds(kDeadline).count();
    for (std::size_t s = 0; s < in.size(); ++s) {
      const auto sample = in.sample(s);
      nlohmann::json input{{"name", input_name}, {"datatype", "FP32"}, {"shape", in.shape},
                           {"data", std::vector<float>(sample.begin(), sample.end())}};
      bodies.push_back(nlohmann::json{{"inputs", {input}}, {"parameters", {{"deadline_us", deadline_us}}}}.dump());
      input.erase("data");
      input["parameters"] = {{"binary_data_size", sample.size_bytes()}};
      const std::string head =
          nlohmann::json{{"inputs", {input}},
                         {"outputs", {{{"name", "logits"}, {"parameters", {{"binary_data", true}}}}}},
                         {"parameters", {{"deadline_us", deadline_us}}}}
              .dump();
      binary_bodies.push_back(head + std::string(reinterpret_cast<const char*>(sample.data()), sample.size_bytes()));
      binary_headers.push_back({{"Inference-Header-Content-Length", std::to_string(head.size())}});
    }
    const std::string infer_path = fmt::format("/v2/models/{}/infer", model);
    runtime::Engine engine(std::move(served), engine_config);

    nlohmann::json rows = nlohmann::json::array();
    std::printf("%8s %-17s %9s %9s %9s %9s %11s\n", "rate/s", "path", "requests", "completed", "p50 us", "p99 us",
                "cpu us/req");
    for (const double rate : rates) {
      const auto n = static_cast<std::size_t>(rate * seconds);
      const std::size_t warmup = n / 10;  // the first tenth warms caches, connections and the planner
      Latencies direct, remote;
      paced(n, rate, direct, [&](std::size_t i, Steady::time_point sent, std::size_t) {
        engine.submit(model_id, tensors[i % tensors.size()], Steady::now() + kDeadline, [&, i, sent](Outcome o) {
          direct.record(i, us_since(sent), o.status == OutcomeStatus::completed);
        });
      });
      paced(n, rate, remote, [&](std::size_t i, Steady::time_point sent, std::size_t) {
        client.infer_async(model, in.sample(i % in.size()), in.shape, kDeadline, [&, i, sent](client::InferResult r) {
          remote.record(i, us_since(sent), r.ok());
        });
      });
      Latencies rest;
      paced(
          n, rate, rest,
          [&](std::size_t i, Steady::time_point since, std::size_t sender) {
            const auto r = http[sender]->Post(infer_path, bodies[i % bodies.size()], "application/json");
            rest.record(i, us_since(since), r && r->status == 200);
          },
          http.size());
      Latencies binary;
      paced(
          n, rate, binary,
          [&](std::size_t i, Steady::time_point since, std::size_t sender) {
            const std::size_t k = i % binary_bodies.size();
            const auto r = http[sender]->Post(infer_path, binary_headers[k], binary_bodies[k], "application/octet-stream");
            binary.record(i, us_since(since), r && r->status == 200);
          },
          http.size());
      const Figures a = figures(direct, warmup), b = figures(remote, warmup), c = figures(rest, warmup),
                    d = figures(binary, warmup);
      for (const auto& [path, f] : {std::pair{"in_process", a}, std::pair{"grpc", b}, std::pair{"http", c},
                                    std::pair{"http_binary", d}}) {
        std::printf("%8.0f %-17s %9zu %9zu %9.0f %9.0f %11.0f\n", rate, path, f.requests, f.completed, f.p50_us,
                    f.p99_us, f.cpu_us_per_request);
        rows.push_back({{"rate", rate}, {"path", path}, {"requests", f.requests}, {"completed", f.completed},
                        {"p50_us", f.p50_us}, {"p99_us", f.p99_us}, {"cpu_us_per_request", f.cpu_us_per_request}});
      }
      for (const auto& [path, f] :
           {std::pair{"added_grpc", b}, std::pair{"added_http", c}, std::pair{"added_http_binary", d}}) {
        std::printf("%8.0f %-17s %9s %9s %9.0f %9.0f\n", rate, path, "", "", f.p50_us - a.p50_us, f.p99_us - a.p99_us);
        rows.push_back({{"rate", rate}, {"path", path}, {"p50_us", f.p50_us - a.p50_us}, {"p99_us", f.p99_us - a.p99_us}});
      }
    }
    // The floors, paced at 1,000/s: an empty unary RPC (ServerLive) through the same client and server,
    // and GET /v2/health/live on one of the same HTTP connections: what each protocol's stack costs per
    // call on this machine, before any tensor is encoded or any engine runs.
    const auto floor = [&](const char* path, auto&& call) {
      const std::size_t n = static_cast<std::size_t>(1000.0 * seconds);
      Latencies empty;
      paced(n, 1000.0, empty, [&](std::size_t i, Steady::time_point sent, std::size_t) {
        const bool live = call();
        empty.record(i, us_since(sent), live);
      });
      const Figures f = figures(empty, n / 10);
      std::printf("%8.0f %-17s %9zu %9zu %9.0f %9.0f %11.0f\n", 1000.0, path, f.requests, f.completed, f.p50_us,
                  f.p99_us, f.cpu_us_per_request);
      rows.push_back({{"rate", 1000.0}, {"path", path}, {"requests", f.requests}, {"completed", f.completed},
                      {"p50_us", f.p50_us}, {"p99_us", f.p99_us}, {"cpu_us_per_request", f.cpu_us_per_request}});
    };
    floor("empty_rpc", [&] { return client.live(); });
    floor("empty_http", [&] {
      const auto r = http.front()->Get("/v2/health/live");
      return r && r->status == 200;
    });
    service.shutdown();
    if (!out_path.empty()) {
      char host[256] = {};
      gethostname(host, sizeof host - 1);
      std::ofstream out(out_path);
      out << nlohmann::json{{"machine", {{"host", host}, {"cpu", cpu_model()}, {"cores", std::thread::hardware_concurrency()}}},
                            {"model", model}, {"policy", policy}, {"seconds", seconds}, {"deadline_ms", 50},
                            {"rows", rows}}
                 .dump(1)
          << '\n';
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "serve_overhead_bench: error: %s\n", e.what());
    return 1;
  }
}
