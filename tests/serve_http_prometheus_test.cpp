// The real Prometheus server (Debian's `prometheus`) scrapes the /metrics endpoint over loopback, and the
// request counter is read back through its HTTP query API.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "imprecise/data/pipeline.hpp"
#include "imprecise/serve/http_server.hpp"
#include "support/http_requests.hpp"

namespace {

namespace fs = std::filesystem;
using namespace imprecise::serve;
using namespace std::chrono_literals;
using nlohmann::json;

constexpr const char* kPrometheus = "/usr/bin/prometheus";

/// A port the OS says is free now (Prometheus takes its listen address on the command line).
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

/// Runs Prometheus for the test's lifetime; SIGTERM (then SIGKILL) at the end.
class PrometheusProcess {
 public:
  PrometheusProcess(const fs::path& dir, int scrape_port, int web_port) {
    const fs::path config = dir / "prometheus.yml";
    std::ofstream(config) << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                          << "scrape_configs:\n  - job_name: imprecise\n    scrape_interval: 1s\n"
                          << "    static_configs:\n      - targets: ['127.0.0.1:" << scrape_port << "']\n";
    const std::string args[] = {kPrometheus,
                                "--config.file=" + config.string(),
                                "--storage.tsdb.path=" + (dir / "data").string(),
                                "--web.listen-address=127.0.0.1:" + std::to_string(web_port),
                                "--log.level=warn"};
    const std::string log = (dir / "prometheus.log").string();
    pid_ = fork();
    if (pid_ == 0) {
      FILE* out = std::freopen(log.c_str(), "w", stderr);
      (void)out;
      dup2(STDERR_FILENO, STDOUT_FILENO);
      execl(args[0].c_str(), args[0].c_str(), args[1].c_str(), args[2].c_str(), args[3].c_str(), args[4].c_str(),
            static_cast<char*>(nullptr));
      _exit(127);
    }
  }
  ~PrometheusProcess() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    for (int i = 0; i < 100; ++i) {
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) return;
      std::this_thread::sleep_for(100ms);
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  bool started() const { return pid_ > 0; }

 private:
  pid_t pid_ = -1;
};

TEST(ServeHttpPrometheus, PrometheusScrapesTheRequestCounter) {
  if (!fs::exists(kPrometheus)) GTEST_SKIP() << kPrometheus << " not installed (Debian package prometheus)";
  InferenceService service(imprecise::data::source_path("model_repository"));
  HttpServerOptions o;
  o.port = 0;
  HttpServer api(service, o);
  o.metrics_only = true;
  HttpServer metrics(service, o);

  const fs::path dir = fs::temp_directory_path() / ("imprecise_prometheus_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const int web_port = free_port();
  {
    PrometheusProcess prometheus(dir, metrics.port(), web_port);
    ASSERT_TRUE(prometheus.started());

    constexpr int kRequests = 5;
    auto c = imprecise::test_support::client(api.port());
    const std::string body = imprecise::test_support::infer_body(*service.model("vision")).dump();
    for (int i = 0; i < kRequests; ++i) ASSERT_EQ(c.Post("/v2/models/vision/infer", body, "application/json")->status, 200);

    // Prometheus starts, scrapes every second, and answers queries: poll its API (generous for a loaded VM).
    httplib::Client query("127.0.0.1", web_port);
    query.set_connection_timeout(2s);
    query.set_read_timeout(10s);
    const httplib::Params params{{"query", "imprecise_requests_total{model=\"vision\",job=\"imprecise\"}"}};
    std::string value, last;
    const auto until = std::chrono::steady_clock::now() + 60s;
    while (value.empty() && std::chrono::steady_clock::now() < until) {
      if (const auto res = query.Get("/api/v1/query", params, httplib::Headers{}); res && res->status == 200) {
        last = res->body;
        const json answer = json::parse(res->body, nullptr, false);
        if (answer.is_object() && answer["status"] == "success" && !answer["data"]["result"].empty())
          value = answer["data"]["result"][0]["value"][1].get<std::string>();  // [time, "value"]
      }
      if (value.empty()) std::this_thread::sleep_for(500ms);
    }
    EXPECT_EQ(value, std::to_string(kRequests)) << "last answer: " << last << "\nPrometheus log:\n"
                                                << std::ifstream(dir / "prometheus.log").rdbuf();
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
