// The v2 REST front end against the real service on the shipped model repository, over real HTTP
// (cpp-httplib on both sides): every endpoint, infer with flat and nested data, each refusal with its
// status and named field, the body limit, the token, a slowloris client, and /metrics.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "imprecise/data/pipeline.hpp"
#include "imprecise/error.hpp"
#include "imprecise/serve/http_server.hpp"
#include "support/http_requests.hpp"
#include "support/metric_value.hpp"

namespace {

using namespace imprecise::serve;
using imprecise::test_support::client;
using imprecise::test_support::infer_body;
using nlohmann::json;
using namespace std::chrono_literals;

InferenceService& service() {
  static InferenceService s(imprecise::data::source_path("model_repository"));
  return s;
}

const ModelInfo& vision() { return *service().model("vision"); }

int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

/// True once the server closed the connection (recv returns 0 or fails).
bool closed_by_server(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  char buffer[512];
  return ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT) <= 0 || (p.revents & (POLLHUP | POLLERR)) != 0;
}

class ServeHttp : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    HttpServerOptions o;
    o.port = 0;
    o.threads = 4;
    server_ = new HttpServer(service(), o);
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static int port() { return server_->port(); }

  static httplib::Result post_infer(const std::string& body, const std::string& model = "vision") {
    auto c = client(port());
    return c.Post(("/v2/models/" + model + "/infer").c_str(), body, "application/json");
  }
  /// A refusal: the status, and an {"error": ...} body naming `field`.
  static void expect_refused(const httplib::Result& res, int status, const std::string& field) {
    ASSERT_TRUE(res) << httplib::to_string(res.error());
    EXPECT_EQ(res->status, status) << res->body;
    const json body = json::parse(res->body, nullptr, false);
    ASSERT_TRUE(body.is_object() && body.contains("error")) << res->body;
    EXPECT_NE(body["error"].get<std::string>().find(field), std::string::npos) << "'" << field << "' not in " << res->body;
  }

  static HttpServer* server_;
};
HttpServer* ServeHttp::server_ = nullptr;

TEST_F(ServeHttp, HealthAndServerMetadata) {
  auto c = client(port());
  EXPECT_EQ(c.Get("/v2/health/live")->status, 200);
  EXPECT_EQ(c.Get("/v2/health/ready")->status, 200);
  const auto meta = c.Get("/v2");
  ASSERT_TRUE(meta);
  EXPECT_EQ(meta->status, 200);
  const json body = json::parse(meta->body);
  EXPECT_EQ(body["name"], "imprecise");
  EXPECT_TRUE(body["version"].is_string());
  EXPECT_TRUE(body["extensions"].is_array());
}

/// TCP_NODELAY of every connection this process accepted on `port` (the server side of its sockets).
std::vector<int> nodelay_of_connections_accepted_on(int port) {
  std::vector<int> flags;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    const int fd = std::stoi(entry.path().filename().string());
    int listening = 0, nodelay = 0;
    socklen_t size = sizeof listening;
    sockaddr_in local{};
    socklen_t local_size = sizeof local;
    if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &size) != 0 || listening != 0) continue;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_size) != 0 || local.sin_family != AF_INET ||
        ntohs(local.sin_port) != port)
      continue;
    size = sizeof nodelay;
    if (::getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, &size) == 0) flags.push_back(nodelay);
  }
  return flags;
}

// httplib writes a response's headers and its body separately: with Nagle's algorithm on, the body of
// each answer on a busy keep-alive connection waited for the client's delayed ACK (40 ms).
TEST_F(ServeHttp, ConnectionsAreServedWithNaglesAlgorithmOff) {
  const int fd = connect_to(port());
  ASSERT_GE(fd, 0);
  const std::string request = "GET /v2/models/vision HTTP/1.1\r\nHost: localhost\r\n\r\n";
  ASSERT_EQ(::send(fd, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
  char buffer[256];
  ASSERT_GT(::recv(fd, buffer, sizeof buffer, 0), 0);  // answered: the server holds its end open (keep-alive)
  const std::vector<int> flags = nodelay_of_connections_accepted_on(port());
  ::close(fd);
  ASSERT_FALSE(flags.empty()) << "no accepted connection found";
  for (const int nodelay : flags) EXPECT_NE(nodelay, 0);
}

TEST_F(ServeHttp, ModelMetadataAndReadinessForEveryModel) {
  auto c = client(port());
  for (const ModelInfo& m : service().models()) {
    const auto res = c.Get(("/v2/models/" + m.name).c_str());
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
    const json body = json::parse(res->body);
    EXPECT_EQ(body["name"], m.name);
    EXPECT_EQ(body["versions"], json::array({"1"}));
    EXPECT_EQ(body["inputs"][0]["name"], m.input.name);
    EXPECT_EQ(body["inputs"][0]["datatype"], "FP32");
    EXPECT_EQ(body["inputs"][0]["shape"], json(m.input.shape));
    EXPECT_EQ(body["outputs"][0]["name"], "logits");
    EXPECT_EQ(body["outputs"][0]["shape"][0], -1);
    EXPECT_EQ(body["parameters"]["stages"], m.stages);
    EXPECT_EQ(c.Get(("/v2/models/" + m.name + "/versions/1").c_str())->status, 200);
    EXPECT_EQ(c.Get(("/v2/models/" + m.name + "/ready").c_str())->status, 200);
    EXPECT_EQ(c.Get(("/v2/models/" + m.name + "/versions/1/ready").c_str())->status, 200);
  }
  expect_refused(c.Get("/v2/models/nope"), 404, "nope");
  expect_refused(c.Get("/v2/models/vision/versions/7"), 404, "'7'");
  expect_refused(c.Get("/v2/models/nope/ready"), 404, "nope");
  expect_refused(c.Get("/v2/no/such/thing"), 404, "/v2/no/such/thing");
}

void expect_answer(const httplib::Result& res, const ModelInfo& model) {
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  const json body = json::parse(res->body);
  EXPECT_EQ(body["model_name"], model.name);
  EXPECT_EQ(body["model_version"], "1");
  EXPECT_EQ(body["id"], "test-1");
  ASSERT_EQ(body["outputs"].size(), 1u);
  const json& out = body["outputs"][0];
  EXPECT_EQ(out["name"], "logits");
  EXPECT_EQ(out["datatype"], "FP32");
  ASSERT_EQ(out["shape"].size(), 2u);
  EXPECT_EQ(out["shape"][0], 1);
  const int classes = out["shape"][1];
  EXPECT_GT(classes, 1);
  EXPECT_EQ(out["data"].size(), static_cast<std::size_t>(classes));
  const json& p = body["parameters"];
  EXPECT_EQ(p["outcome"], "completed");
  EXPECT_EQ(p["status"], "OK");
  EXPECT_GE(p["exit"].get<int>(), 1);
  EXPECT_LE(p["exit"].get<int>(), model.stages);
  EXPECT_GE(p["depth"].get<int>(), p["exit"].get<int>());
  EXPECT_GE(p["prediction"].get<int>(), 0);
  EXPECT_LT(p["prediction"].get<int>(), classes);
  EXPECT_GT(p["confidence"].get<double>(), 0.0);
  for (const char* key : {"queue_us", "run_us", "total_us"}) EXPECT_GE(p[key].get<std::int64_t>(), 0) << key;
  EXPECT_GE(p["total_us"].get<std::int64_t>(), p["run_us"].get<std::int64_t>());
  if (!model.labels.empty()) {
    EXPECT_TRUE(p["label"].is_string());
  }
}

TEST_F(ServeHttp, InferWithFlatDataOnEveryModel) {
  for (const ModelInfo& m : service().models()) expect_answer(post_infer(infer_body(m).dump(), m.name), m);
}

// Nested data, row-major: [1][3][H][W] as arrays of arrays.
json nest(const std::vector<std::int64_t>& shape, std::size_t axis, float value) {
  json level = json::array();
  for (std::int64_t i = 0; i < shape[axis]; ++i)
    level.push_back(axis + 1 == shape.size() ? json(value) : nest(shape, axis + 1, value));
  return level;
}

TEST_F(ServeHttp, InferWithNestedDataAndAVersionInThePath) {
  json body = infer_body(vision());
  body["inputs"][0]["data"] = nest(body["inputs"][0]["shape"].get<std::vector<std::int64_t>>(), 0, 0.25f);
  body["outputs"] = json::array({{{"name", "logits"}, {"parameters", {{"binary_data", false}}}}});
  expect_answer(post_infer(body.dump(), "vision/versions/1"), vision());
  body["parameters"] = {{"timeout", 5'000'000}};  // Triton's spelling of the deadline
  expect_answer(post_infer(body.dump()), vision());
}

// Triton's binary tensor data extension, as tritonclient's HTTP client sends it by default: the input's
// bytes after the JSON, the output's bytes after the JSON of the answer.
struct BinaryInfer {
  std::string body;
  httplib::Headers headers;
};

BinaryInfer binary_infer(const ModelInfo& model, float value, bool binary_output) {
  json body = infer_body(model);
  json& input = body["inputs"][0];
  const std::vector<float> values(input["data"].size(), value);
  input.erase("data");
  input["parameters"] = {{"binary_data_size", values.size() * sizeof(float)}};
  if (binary_output) body["outputs"] = json::array({{{"name", "logits"}, {"parameters", {{"binary_data", true}}}}});
  const std::string head = body.dump();
  return {head + std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float)),
          {{"Inference-Header-Content-Length", std::to_string(head.size())}}};
}

TEST_F(ServeHttp, BinaryTensorsInAndOutAnswerAsJsonDoes) {
  for (const ModelInfo& m : service().models()) {
    auto c = client(port());
    const std::string path = "/v2/models/" + m.name + "/infer";
    const auto as_json = c.Post(path.c_str(), infer_body(m, 0.5f).dump(), "application/json");
    ASSERT_TRUE(as_json);
    ASSERT_EQ(as_json->status, 200) << as_json->body;
    const json expected = json::parse(as_json->body);

    // Binary in, JSON out: the very same answer.
    BinaryInfer in = binary_infer(m, 0.5f, false);
    const auto json_out = c.Post(path.c_str(), in.headers, in.body, "application/octet-stream");
    expect_answer(json_out, m);
    EXPECT_EQ(json::parse(json_out->body)["outputs"], expected["outputs"]) << m.name;

    // Binary in and out: the logits' bytes after the JSON, whose length the header gives.
    in = binary_infer(m, 0.5f, true);
    const auto out = c.Post(path.c_str(), in.headers, in.body, "application/octet-stream");
    ASSERT_TRUE(out);
    ASSERT_EQ(out->status, 200) << out->body;
    EXPECT_EQ(out->get_header_value("Content-Type"), "application/octet-stream");
    const std::size_t json_length = std::stoul(out->get_header_value("Inference-Header-Content-Length"));
    ASSERT_LE(json_length, out->body.size());
    const json head = json::parse(out->body.substr(0, json_length));
    const json& tensor = head["outputs"][0];
    EXPECT_FALSE(tensor.contains("data"));
    const auto logits = expected["outputs"][0]["data"].get<std::vector<float>>();
    ASSERT_EQ(tensor["parameters"]["binary_data_size"], logits.size() * sizeof(float));
    ASSERT_EQ(out->body.size() - json_length, logits.size() * sizeof(float));
    std::vector<float> got(logits.size());
    std::memcpy(got.data(), out->body.data() + json_length, got.size() * sizeof(float));
    EXPECT_EQ(got, logits) << m.name;
    EXPECT_EQ(head["parameters"]["prediction"], expected["parameters"]["prediction"]);
  }
  const auto meta = client(port()).Get("/v2");
  EXPECT_EQ(json::parse(meta->body)["extensions"], json({"binary_tensor_data"}));
}

TEST_F(ServeHttp, BadBinaryBodiesAreRefusedNamingTheHeaderOrField) {
  auto c = client(port());
  const char* path = "/v2/models/vision/infer";
  BinaryInfer in = binary_infer(vision(), 0.5f, true);
  in.headers = {{"Inference-Header-Content-Length", "lots"}};
  expect_refused(c.Post(path, in.headers, in.body, "application/octet-stream"), 400, "Inference-Header-Content-Length: 'lots'");
  in = binary_infer(vision(), 0.5f, true);
  in.headers.clear();  // binary data but no header
  expect_refused(c.Post(path, in.headers, in.body, "application/octet-stream"), 400, "Inference-Header-Content-Length header");
  in = binary_infer(vision(), 0.5f, true);
  in.body.resize(in.body.size() - 4);  // one float short
  expect_refused(c.Post(path, in.headers, in.body, "application/octet-stream"), 400, "inputs[0].parameters.binary_data_size");
  in = binary_infer(vision(), 0.5f, true);
  in.body += "tail";
  expect_refused(c.Post(path, in.headers, in.body, "application/octet-stream"), 400, "4 bytes after the JSON");
  // Binary FP32 can carry what JSON cannot: a NaN is refused by the service, naming the element.
  in = binary_infer(vision(), std::numeric_limits<float>::quiet_NaN(), true);
  expect_refused(c.Post(path, in.headers, in.body, "application/octet-stream"), 400, "inputs[0].data[0]");
}

TEST_F(ServeHttp, MalformedAndTruncatedBodiesAreRefusedWhereParsingStopped) {
  expect_refused(post_infer("{\"inputs\": [1, 2,, 3]}"), 400, "byte 18");
  const std::string whole = infer_body(vision()).dump();
  expect_refused(post_infer(whole.substr(0, whole.size() / 2)), 400, "truncated JSON");
  expect_refused(post_infer(""), 400, "byte 0 of 0");
  expect_refused(post_infer("[1, 2]"), 400, "a JSON object expected");
  expect_refused(post_infer(std::string(100, '[') + std::string(100, ']')), 400, "deeper than");
  expect_refused(post_infer("{\"inputs\": [1e400]}"), 400, "1e400");  // beyond a double: found by the fuzzer
}

TEST_F(ServeHttp, BadTensorsAreRefusedNamingTheField) {
  json body = infer_body(vision());
  body["inputs"][0]["datatype"] = "INT32";
  expect_refused(post_infer(body.dump()), 400, "inputs[0].datatype");

  body = infer_body(vision());
  body["inputs"][0]["shape"] = {1, body["inputs"][0]["data"].size()};  // the same element count, the wrong shape
  expect_refused(post_infer(body.dump()), 400, "inputs[0].shape");

  body = infer_body(vision());
  body["inputs"][0]["data"].erase(0);
  expect_refused(post_infer(body.dump()), 400, "inputs[0].data");

  // JSON has no NaN: a string "NaN" (what some clients send) is not a number, named by its index.
  body = infer_body(vision());
  body["inputs"][0]["data"][5] = "NaN";
  expect_refused(post_infer(body.dump()), 400, "inputs[0].data[5]");
  body["inputs"][0]["data"][5] = nullptr;
  expect_refused(post_infer(body.dump()), 400, "inputs[0].data[5]");
  body = infer_body(vision());
  body["inputs"][0]["data"][7] = 1e300;  // finite in JSON, infinite as FP32
  expect_refused(post_infer(body.dump()), 400, "inputs[0].data[7]");

  body = infer_body(vision());
  body["inputs"][0]["name"] = "not_the_input";
  expect_refused(post_infer(body.dump()), 400, "inputs[0].name");
  body = infer_body(vision());
  body["inputs"][0]["parameters"] = {{"binary_data_size", 12288}};
  expect_refused(post_infer(body.dump()), 400, "binary_data_size");
  body = infer_body(vision());
  body["outputs"] = json::array({{{"name", "probabilities"}}});
  expect_refused(post_infer(body.dump()), 400, "outputs[0].name");
  body = infer_body(vision());
  body["input"] = body["inputs"];  // a typo of a key is named, not ignored
  expect_refused(post_infer(body.dump()), 400, "input: unknown key");
}

TEST_F(ServeHttp, UnknownModelOrVersionIs404) {
  expect_refused(post_infer(infer_body(vision()).dump(), "nope"), 404, "nope");
  expect_refused(post_infer(infer_body(vision()).dump(), "vision/versions/3"), 404, "'3'");
}

TEST_F(ServeHttp, NegativeOrAbsurdDeadlinesAre400) {
  expect_refused(post_infer(infer_body(vision(), 0.25f, -5).dump()), 400, "parameters.deadline_us");
  expect_refused(post_infer(infer_body(vision(), 0.25f, 0).dump()), 400, "parameters.deadline_us");
  expect_refused(post_infer(infer_body(vision(), 0.25f, 3'600'000'000).dump()), 400, "parameters.deadline_us");
  json body = infer_body(vision());
  body["parameters"] = {{"deadline_us", 1e30}};
  expect_refused(post_infer(body.dump()), 400, "parameters.deadline_us");
  body["parameters"] = {{"deadline_us", "soon"}};
  expect_refused(post_infer(body.dump()), 400, "parameters.deadline_us");
  body["parameters"] = {{"timeout", 18446744073709551615ull}};
  expect_refused(post_infer(body.dump()), 400, "parameters.timeout");
  body["parameters"] = {{"timeout", -1}};
  expect_refused(post_infer(body.dump()), 400, "parameters.timeout");
  body["parameters"] = {{"timeout", 0}, {"deadline_us", 5'000'000}};  // both are checked
  expect_refused(post_infer(body.dump()), 400, "parameters.timeout");
  // Both valid: the earlier counts (1 ms, gone after the 2 ms network margin), as over gRPC.
  body["parameters"] = {{"timeout", 1000}, {"deadline_us", 5'000'000}};
  expect_refused(post_infer(body.dump()), 504, "deadline");
}

TEST_F(ServeHttp, ADeadlineGoneOnArrivalIs504) {
  // 500 us is less than the network margin (ServiceConfig default: 2 ms): nothing is left to plan for.
  const auto res = post_infer(infer_body(vision(), 0.25f, 500).dump());
  expect_refused(res, 504, "deadline");
}

TEST_F(ServeHttp, AClientThatHangsUpMidRequestLeavesTheServerServing) {
  const std::string body = infer_body(vision()).dump();
  const std::string request = "POST /v2/models/vision/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                              "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  for (int i = 0; i < 5; ++i) {
    const int fd = connect_to(port());
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL), static_cast<ssize_t>(request.size()));
    ::close(fd);  // before the answer: the server's write fails, nothing else
  }
  for (int i = 0; i < 3; ++i) expect_answer(post_infer(body), vision());
}

TEST_F(ServeHttp, MetricsCountTheRequests) {
  for (int i = 0; i < 3; ++i) ASSERT_EQ(post_infer(infer_body(vision()).dump())->status, 200);
  auto c = client(port());
  const auto res = c.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/plain; version=0.0.4");
  const std::string needle = "imprecise_requests_total{model=\"vision\"} ";
  const auto at = res->body.find(needle);
  ASSERT_NE(at, std::string::npos) << res->body.substr(0, 2000);
  EXPECT_GE(std::stol(res->body.substr(at + needle.size())), 3);
  EXPECT_NE(res->body.find("imprecise_responses_total{model=\"vision\",code=\"OK\"}"), std::string::npos);
  EXPECT_NE(res->body.find("imprecise_request_seconds_bucket"), std::string::npos);
}

// A body the decoder refuses never becomes a job, but it is still a request and a response of its model.
TEST_F(ServeHttp, RequestsTheDecoderRefusesAreCounted) {
  using imprecise::testing::metric_value;
  const std::string requests = "imprecise_requests_total{model=\"vision\"}";
  const std::string invalid = "imprecise_responses_total{model=\"vision\",code=\"INVALID_ARGUMENT\"}";
  const std::string before = service().prometheus_text();
  expect_refused(post_infer("{not json"), 400, "malformed");
  json body = infer_body(vision());
  body["inputs"][0]["datatype"] = "INT32";
  expect_refused(post_infer(body.dump()), 400, "datatype");
  const std::string after = service().prometheus_text();
  EXPECT_GE(metric_value(after, requests) - metric_value(before, requests), 2.0) << after.substr(0, 1500);
  EXPECT_GE(metric_value(after, invalid) - metric_value(before, invalid), 2.0);
}

TEST(ServeHttpOptions, TheMetricsServerServesOnlyMetrics) {
  HttpServerOptions o;
  o.port = 0;
  o.metrics_only = true;
  HttpServer metrics(service(), o);
  auto c = client(metrics.port());
  EXPECT_EQ(c.Get("/metrics")->status, 200);
  EXPECT_EQ(c.Get("/v2/health/live")->status, 404);
  EXPECT_EQ(c.Post("/v2/models/vision/infer", infer_body(vision()).dump(), "application/json")->status, 404);
}

TEST(ServeHttpOptions, ABodyOverTheLimitIs413) {
  HttpServerOptions o;
  o.port = 0;
  o.max_body_bytes = 2048;  // the vision body is ~4 KB
  HttpServer server(service(), o);
  auto c = client(server.port());
  const auto res = c.Post("/v2/models/vision/infer", infer_body(vision()).dump(), "application/json");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 413);
  EXPECT_NE(res->body.find("limit of 2048 bytes"), std::string::npos) << res->body;
  EXPECT_EQ(c.Get("/v2/health/live")->status, 200);  // small requests still pass
}

TEST(ServeHttpOptions, AFormEncodedBodyOver8KBIsRefusedSayingWhichContentTypeToUse) {
  // What `curl -d` sends without -H 'Content-Type: application/json': the HTTP library caps it at 8 KB.
  HttpServerOptions o;
  o.port = 0;
  HttpServer server(service(), o);
  auto c = client(server.port());
  std::string body = infer_body(vision()).dump();
  body.append(9000 - std::min<std::size_t>(body.size(), 9000), ' ');
  const auto res = c.Post("/v2/models/vision/infer", body, "application/x-www-form-urlencoded");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 413);
  EXPECT_NE(res->body.find("application/json"), std::string::npos) << res->body;
}

TEST(ServeHttpOptions, ATokenIsRequiredWhenSet) {
  HttpServerOptions o;
  o.port = 0;
  o.token = "s3cret";
  HttpServer server(service(), o);
  auto c = client(server.port());
  auto res = c.Get("/v2/health/live");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(res->get_header_value("WWW-Authenticate"), "Bearer");
  EXPECT_NE(res->body.find("Authorization"), std::string::npos);
  EXPECT_EQ(c.Get("/v2/health/live", {{"Authorization", "Bearer wrong!"}})->status, 401);
  EXPECT_EQ(c.Get("/v2/health/live", {{"Authorization", "Bearer s3cret"}})->status, 200);
  c.set_bearer_token_auth("s3cret");
  EXPECT_EQ(c.Post("/v2/models/vision/infer", infer_body(vision()).dump(), "application/json")->status, 200);
}

TEST(ServeHttpOptions, BindingAPortInUseThrowsNamingTheAddress) {
  HttpServerOptions o;
  o.port = 0;
  HttpServer first(service(), o);
  o.port = first.port();
  try {
    HttpServer second(service(), o);
    ADD_FAILURE() << "bound a port in use";
  } catch (const imprecise::Error& e) {
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(first.port())), std::string::npos) << e.what();
  }
}

TEST(ServeHttpOptions, ASlowlorisClientIsDroppedWhileOthersAreServed) {
  HttpServerOptions o;
  o.port = 0;
  o.threads = 2;
  o.read_timeout = 1000ms;
  HttpServer server(service(), o);
  const int fd = connect_to(server.port());
  ASSERT_GE(fd, 0);
  // Headers one byte every 100 ms: each byte well inside the read timeout, the whole request not.
  const std::string request = "GET /v2/health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
  const auto start = std::chrono::steady_clock::now();
  bool dropped = false;
  for (std::size_t i = 0; i < request.size() && !dropped; ++i) {
    if (::send(fd, &request[i], 1, MSG_NOSIGNAL) != 1) dropped = true;
    std::this_thread::sleep_for(100ms);
    dropped = dropped || closed_by_server(fd);
    if (i == 3) {  // meanwhile, an ordinary client is served
      auto c = client(server.port());
      const auto res = c.Get("/v2/health/ready");
      ASSERT_TRUE(res);
      EXPECT_EQ(res->status, 200);
    }
  }
  const auto held = std::chrono::steady_clock::now() - start;
  ::close(fd);
  EXPECT_TRUE(dropped) << "the slow client was never dropped";
  EXPECT_GE(held, 900ms);  // not before the read timeout
  EXPECT_LT(held, 8s);     // the request would take ~10 s to trickle in whole
}

TEST(ServeHttpOptions, ABodyShorterThanItsContentLengthIsNotWaitedForForever) {
  HttpServerOptions o;
  o.port = 0;
  o.read_timeout = 1000ms;
  HttpServer server(service(), o);
  const int fd = connect_to(server.port());
  ASSERT_GE(fd, 0);
  const std::string request =
      "POST /v2/models/vision/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"inputs\":";
  ASSERT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL), static_cast<ssize_t>(request.size()));
  // The server answers (400) or closes within the read timeout; never hangs on the missing bytes.
  pollfd p{fd, POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 8000), 1);
  char buffer[1024] = {};
  const ssize_t n = ::recv(fd, buffer, sizeof buffer - 1, 0);
  if (n > 0) {
    EXPECT_NE(std::string(buffer).find(" 400 "), std::string::npos) << buffer;
  }
  ::close(fd);
}

TEST(ServeHttpOptions, StopWaitsForRequestsInFlightAndIsIdempotent) {
  HttpServerOptions o;
  o.port = 0;
  auto server = std::make_unique<HttpServer>(service(), o);
  int status = 0;  // 0: no response (refused at connect)
  std::thread request([&] {
    auto c = client(server->port());
    if (const auto res = c.Post("/v2/models/vision/infer", infer_body(vision()).dump(), "application/json")) status = res->status;
  });
  std::this_thread::sleep_for(50ms);
  server->stop();
  server->stop();
  request.join();
  // Either answered in full or refused at connect (it may come after the listener closed): never cut off.
  if (status != 0) {
    EXPECT_EQ(status, 200);
  }
}

}  // namespace
