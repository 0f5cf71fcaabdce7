// `imprecise serve` as a process: it prints where it listens, answers over HTTP (httplib::Client), exits 0
// on SIGTERM after answering what is in flight, and exits non-zero naming a bad repository.
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "cli_fixture.hpp"
#include "imprecise/config.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using imprecise::testing::CliFixture;
using imprecise::testing::slurp;

/// The server process, its stderr in a file; killed at the end if a test left it running.
class ServeProcess {
 public:
  ServeProcess(const std::vector<std::string>& args, const fs::path& err) {
    pid_ = fork();
    if (pid_ == 0) {
      FILE* out = std::freopen(err.c_str(), "w", stderr);
      (void)out;
      std::vector<char*> argv{const_cast<char*>(IMPRECISE_CLI_PATH), const_cast<char*>("serve")};
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(IMPRECISE_CLI_PATH, argv.data());
      _exit(127);
    }
  }
  ~ServeProcess() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  /// The exit status, or -1 when still running after `limit`.
  int wait(std::chrono::milliseconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    int status = 0;
    while (std::chrono::steady_clock::now() < until) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(50ms);
    }
    return -1;
  }
  void signal(int number) const { kill(pid_, number); }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  bool exited_ = false;
};

/// Waits for "<what> listening on 127.0.0.1:<port>" in the server's stderr; 0 when it never came.
int listening_port(const fs::path& err, const std::string& what, std::chrono::seconds limit = 120s) {
  const std::regex line(what + " listening on 127\\.0\\.0\\.1:([0-9]+)");
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    std::smatch match;
    const std::string text = slurp(err);
    if (std::regex_search(text, match, line)) return std::stoi(match[1]);
    std::this_thread::sleep_for(100ms);
  }
  return 0;
}

/// `imprecise serve` over the repository the project ships, with `more` options.
std::vector<std::string> shipped_repository(std::vector<std::string> more) {
  more.insert(more.begin(), {"--model-repository", std::string(IMPRECISE_SOURCE_DIR) + "/model_repository"});
  return more;
}

using CliServe = CliFixture;

TEST_F(CliServe, ServesHttpAndMetricsThenExitsZeroOnSigterm) {
  const fs::path err = dir_ / "serve.err";
  ServeProcess server(shipped_repository({"--grpc-port", IMPRECISE_HAS_GRPC_SERVER ? "0" : "-1", "--http-port", "0",
                                          "--metrics-port", "0"}),
                      err);
  const int http_port = listening_port(err, "HTTP/REST");
  const int metrics_port = listening_port(err, "metrics");
  ASSERT_GT(http_port, 0) << slurp(err);
  ASSERT_GT(metrics_port, 0) << slurp(err);
  if (IMPRECISE_HAS_GRPC_SERVER) {
    EXPECT_GT(listening_port(err, "gRPC", 5s), 0) << slurp(err);
  }

  httplib::Client c("127.0.0.1", http_port);
  c.set_read_timeout(60s);
  ASSERT_EQ(c.Get("/v2/health/ready")->status, 200);
  const auto meta = c.Get("/v2/models/voice");
  ASSERT_TRUE(meta);
  ASSERT_EQ(meta->status, 200);
  const auto input = nlohmann::json::parse(meta->body)["inputs"][0];
  std::vector<std::int64_t> shape = input["shape"];
  shape[0] = 1;
  std::size_t n = 1;
  for (const auto d : shape) n *= static_cast<std::size_t>(d);
  const nlohmann::json body = {
      {"parameters", {{"deadline_us", 5'000'000}}},
      {"inputs", {{{"name", input["name"]}, {"shape", shape}, {"datatype", "FP32"}, {"data", std::vector<float>(n, 0.1f)}}}}};
  const auto res = c.Post("/v2/models/voice/infer", body.dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(nlohmann::json::parse(res->body)["outputs"][0]["name"], "logits");

  httplib::Client m("127.0.0.1", metrics_port);
  const auto metrics = m.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("imprecise_requests_total{model=\"voice\"} 1"), std::string::npos) << metrics->body;

  // --io-nice (default 5): the engine's threads keep the process's priority; every other thread (main,
  // the responder, gRPC's, httplib's) runs 5 nice levels below them.
  const int base = getpriority(PRIO_PROCESS, 0);
  int engine_threads = 0, lowered = 0;
  for (const auto& task : fs::directory_iterator("/proc/" + std::to_string(server.pid()) + "/task")) {
    std::string name = slurp(task.path() / "comm");
    name = name.substr(0, name.find('\n'));
    const std::string stat = slurp(task.path() / "stat");
    std::istringstream fields(stat.substr(stat.rfind(')') + 2));  // from field 3 on: the name may hold spaces
    std::string skip;
    for (int i = 3; i < 19; ++i) fields >> skip;
    int nice = 0;
    fields >> nice;  // field 19
    const bool engine = name.rfind("imp-lane", 0) == 0 || name == "imp-dispatch";
    EXPECT_EQ(nice, engine ? base : std::min(19, base + 5)) << name;
    ++(engine ? engine_threads : lowered);
  }
  EXPECT_EQ(engine_threads, 2);  // one lane and the dispatcher
  EXPECT_GE(lowered, 18);        // main, the responder and 16 HTTP workers at least

  // A request in flight when SIGTERM arrives is still answered, then the process exits 0.
  int in_flight = 0;  // 0: no response
  std::thread late([&] {
    httplib::Client l("127.0.0.1", http_port);
    l.set_read_timeout(60s);
    if (const auto r = l.Post("/v2/models/voice/infer", body.dump(), "application/json")) in_flight = r->status;
  });
  std::this_thread::sleep_for(20ms);
  server.signal(SIGTERM);
  late.join();
  EXPECT_EQ(server.wait(120s), 0) << slurp(err);
  // Sent before or after the listener closed: answered in full (200) or refused at connect, never cut off.
  EXPECT_TRUE(in_flight == 0 || in_flight == 200) << in_flight;
  const std::string log = slurp(err);
  EXPECT_NE(log.find("SIGTERM received"), std::string::npos) << log;
  EXPECT_NE(log.find("stopped"), std::string::npos) << log;
}

TEST_F(CliServe, ABadRepositoryExitsNonZeroNamingTheFolder) {
  const auto r = run("serve --model-repository " + (dir_ / "no_such_repo").string() + " --http-port -1 --grpc-port -1 --metrics-port -1");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("no_such_repo"), std::string::npos) << r.err;
}

TEST_F(CliServe, APortInUseExitsNonZero) {
  const fs::path err = dir_ / "first.err";
  ServeProcess first(shipped_repository({"--grpc-port", "-1", "--http-port", "0", "--metrics-port", "-1"}), err);
  const int port = listening_port(err, "HTTP/REST");
  ASSERT_GT(port, 0) << slurp(err);
  const auto r = run("serve --model-repository " + std::string(IMPRECISE_SOURCE_DIR) +
                     "/model_repository --grpc-port -1 --metrics-port -1 --http-port " + std::to_string(port));
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << r.err;
  first.signal(SIGINT);
  EXPECT_EQ(first.wait(120s), 0) << slurp(err);
}

TEST_F(CliServe, AControllerSetsEachModelsBatchAndLanesAndTheMetricsShowIt) {
  const fs::path err = dir_ / "control.err";
  ServeProcess server(shipped_repository({"--grpc-port", "-1", "--http-port", "-1", "--metrics-port", "0", "--lanes",
                                          "2", "--controller", "static", "--static-batch", "4", "--static-lanes", "1",
                                          "--control-interval-ms", "20"}),
                      err);
  const int port = listening_port(err, "metrics");
  ASSERT_GT(port, 0) << slurp(err);
  EXPECT_NE(slurp(err).find("controller static, every 20 ms"), std::string::npos) << slurp(err);
  httplib::Client metrics("127.0.0.1", port);
  std::string text;
  const std::regex intervals("imprecise_control_intervals_total ([0-9]+)");
  for (int tries = 0; tries < 600; ++tries) {  // idle, the intervals still end (every 20 ms)
    const auto r = metrics.Get("/metrics");
    ASSERT_TRUE(r) << "metrics endpoint unreachable";
    text = r->body;
    std::smatch match;
    if (std::regex_search(text, match, intervals) && std::stoll(match[1]) >= 2) break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_NE(text.find("imprecise_control_info{controller=\"static\"} 1"), std::string::npos) << text;
  for (const char* model : {"lidar", "vision", "voice"}) {
    EXPECT_NE(text.find(std::string("imprecise_control_max_batch{model=\"") + model + "\"} 4"), std::string::npos) << text;
    EXPECT_NE(text.find(std::string("imprecise_control_lanes{model=\"") + model + "\"} 1"), std::string::npos) << text;
  }
  EXPECT_NE(text.find("imprecise_control_decision_seconds "), std::string::npos) << "an interval ended: " << text;
  server.signal(SIGTERM);
  EXPECT_EQ(server.wait(120s), 0) << slurp(err);
}

TEST_F(CliServe, WithoutAControllerTheMetricsHaveNoControlSeries) {
  const fs::path err = dir_ / "plain.err";
  ServeProcess server(shipped_repository({"--grpc-port", "-1", "--http-port", "-1", "--metrics-port", "0"}), err);
  const int port = listening_port(err, "metrics");
  ASSERT_GT(port, 0) << slurp(err);
  const auto r = httplib::Client("127.0.0.1", port).Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_NE(r->body.find("imprecise_requests_total"), std::string::npos) << r->body;
  EXPECT_EQ(r->body.find("imprecise_control_"), std::string::npos) << r->body;
  server.signal(SIGTERM);
  EXPECT_EQ(server.wait(120s), 0) << slurp(err);
}

TEST_F(CliServe, BadControllerOptionsAreNamed) {
  const std::string serve = "serve --model-repository " + std::string(IMPRECISE_SOURCE_DIR) +
                            "/model_repository --grpc-port -1 --http-port -1 --metrics-port -1 ";
  expect_input_error(run(serve + "--controller bogus"), {"--controller", "bogus", "model-based"});
  expect_input_error(run(serve + "--controller sac --actor " + (dir_ / "missing.onnx").string()),
                     {"--controller", "missing.onnx"});
  expect_input_error(run(serve + "--controller static --static-lanes 3"), {"--static-lanes", "3"});
  expect_input_error(run(serve + "--controller aimd --control-interval-ms 0"), {"--control-interval-ms", "> 0"});
}

TEST_F(CliServe, BadOptionsAreNamed) {
  expect_input_error(run("serve --model-repository x --http-port 70000"), {"--http-port", "70000"});
  expect_input_error(run("serve --model-repository x --policy nope"), {"--policy", "nope"});
  expect_input_error(run("serve --model-repository x --network-margin-us -1"), {"--network-margin-us"});
  expect_input_error(run("serve --model-repository x --io-nice 20"), {"--io-nice", "20", "0 to 19"});
}

}  // namespace
