// imprecise::client::HttpClient and its wire functions: the request it builds is what the server's own
// decoder reads (binary tensor, deadline, binary answer asked); every kind of answer is read back; and
// against a real HttpServer on the shipped repository: health, blocking and async inference, many calls
// on few connections each answered once, errors mapped to the gRPC codes, the token, no server.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "client/http_wire.hpp"
#include "http_codec.hpp"
#include "imprecise/client/http_client.hpp"
#include "imprecise/error.hpp"
#include "imprecise/serve/http_server.hpp"
#include "support/expect_error.hpp"
#include "support/grpc_fixture.hpp"
#include "support/infer_result_check.hpp"

namespace imprecise::client {
namespace {

using namespace std::chrono_literals;
using serve::testing::shared_service;
using testing::expect_vision_answer;
using serve::testing::vision_input;
using serve::testing::vision_shape;

serve::HttpServerOptions any_port() { return serve::testing::any_port<serve::HttpServerOptions>(); }
serve::HttpServer& shared_server() { return serve::testing::shared_server<serve::HttpServer, serve::HttpServerOptions>(); }

HttpClientOptions to(int port, int connections = 4) {
  HttpClientOptions options;
  options.port = port;
  options.connections = connections;
  return options;
}

std::int64_t vision_classes() { return shared_service().model("vision")->output.shape[1]; }


TEST(ServeClientHttpWire, TheRequestIsWhatTheServersDecoderReads) {
  const std::vector<float> input{0.5f, -1.5f, 3.25f, 7.f};
  const std::vector<std::int64_t> shape{1, 4};
  const HttpInferBody b = make_http_infer_body("x", input, shape, 2500us);
  serve::InferRequest request;
  serve::OutputEncoding output = serve::OutputEncoding::json;
  const serve::Status s =
      serve::decode_infer_body(b.body, std::to_string(b.json_length), "m", "", request, output);
  ASSERT_TRUE(s.ok()) << s.message;
  ASSERT_EQ(request.inputs.size(), 1u);
  EXPECT_EQ(request.inputs[0].name, "x");
  EXPECT_EQ(request.inputs[0].shape, shape);
  EXPECT_EQ(request.inputs[0].values, input);
  EXPECT_EQ(request.deadline_us, 2500);
  EXPECT_EQ(output, serve::OutputEncoding::binary);
  // A deadline already gone is still sent as the smallest one the server refuses by its own rule.
  EXPECT_NE(make_http_infer_body("x", input, shape, -5us).body.find("\"deadline_us\":1"), std::string::npos);
}

TEST(ServeClientHttpWire, EveryKindOfAnswerIsRead) {
  // The server's own encoder, binary and JSON: the same result.
  serve::InferResponse response;
  response.model = "vision";
  response.outcome_known = true;
  response.outcome = OutcomeStatus::completed;
  response.exit = 2;
  response.depth = 3;
  response.prediction = 1;
  response.queue_us = 5;
  response.run_us = 7;
  response.total_us = 20;
  response.output = {0.25f, 2.f, -1.f};
  response.output_shape = {1, 3};
  for (const auto encoding : {serve::OutputEncoding::binary, serve::OutputEncoding::json}) {
    const serve::EncodedBody e = serve::encode_infer_body(response, encoding);
    const InferResult r = read_http_answer(200, e.body, e.has_binary() ? std::optional(e.json_length) : std::nullopt);
    EXPECT_EQ(r.code, 0);
    EXPECT_EQ(r.logits, response.output);
    EXPECT_EQ(r.shape, response.output_shape);
    EXPECT_EQ(r.exit, 2);
    EXPECT_EQ(r.depth, 3);
    EXPECT_EQ(r.prediction, 1);
    EXPECT_EQ(r.outcome, "completed");
    EXPECT_EQ(r.total_us, 20);
  }
  // A refusal: the code in gRPC's space and the server's message.
  const InferResult shed = read_http_answer(429, R"({"error": "rejected: shed"})", std::nullopt);
  EXPECT_EQ(shed.code, 8);
  EXPECT_EQ(shed.message, "rejected: shed");
  EXPECT_TRUE(shed.logits.empty());
  EXPECT_EQ(read_http_answer(504, "{}", std::nullopt).code, 4);
  EXPECT_EQ(read_http_answer(503, "{}", std::nullopt).code, 14);
  EXPECT_EQ(read_http_answer(418, "{}", std::nullopt).code, 2);
  // What cannot be read says why, as INTERNAL.
  const serve::EncodedBody e = serve::encode_infer_body(response, serve::OutputEncoding::binary);
  for (const auto& [body, length, why] : {std::tuple{std::string("not json"), std::optional<std::size_t>{}, "not a JSON object"},
                                          std::tuple{e.body, std::optional<std::size_t>(e.body.size() + 1), "past the body"},
                                          std::tuple{e.body.substr(0, e.body.size() - 2), std::optional(e.json_length), "12 bytes of logits announced, 10 sent"}}) {
    const InferResult r = read_http_answer(200, body, length);
    EXPECT_EQ(r.code, 13) << why;
    EXPECT_NE(r.message.find(why), std::string::npos) << r.message;
  }
}

TEST(ServeClientHttp, UrlsAreParsedOrRefusedNamingTheField) {
  const HttpClientOptions o = parse_http_url("http://10.0.0.7:8000", "--target");
  EXPECT_EQ(o.host, "10.0.0.7");
  EXPECT_EQ(o.port, 8000);
  EXPECT_EQ(parse_http_url("http://localhost:80/", "--target").host, "localhost");
  for (const char* bad : {"10.0.0.7:8000", "https://h:1", "http://h", "http://h:99999", "http://h:8000/v2"})
    test_support::expect_error([&] { parse_http_url(bad, "--target"); }, {"--target", bad});
  HttpClientOptions none = to(8000, 0);
  test_support::expect_error([&] { HttpClient{none}; }, {"connections"});
}

TEST(ServeClientHttp, HealthAndBlockingInfer) {
  HttpClient client(to(shared_server().port()));
  EXPECT_TRUE(client.live(10s));
  EXPECT_TRUE(client.model_ready("vision", 10s));
  EXPECT_FALSE(client.model_ready("nope", 10s));
  expect_vision_answer(client.infer("vision", vision_input(), vision_shape(), 10s));
  const std::vector<std::int64_t> wrong{1, 5};
  const std::vector<float> five(5, 0.0f);
  const InferResult bad = client.infer("vision", five, wrong, 10s);
  EXPECT_EQ(bad.code, 3);  // INVALID_ARGUMENT, naming the field
  EXPECT_NE(bad.message.find("inputs[0].shape"), std::string::npos) << bad.message;
  const InferResult unknown = client.infer("nope", vision_input(), vision_shape(), 10s);
  EXPECT_EQ(unknown.code, 5);  // NOT_FOUND, from the model's metadata
  EXPECT_NE(unknown.message.find("nope"), std::string::npos) << unknown.message;
}

TEST(ServeClientHttp, ManyAsyncCallsOnFewConnectionsEachAnswerOnce) {
  constexpr int kCalls = 120;
  std::mutex mutex;
  std::set<int> seen;
  int duplicates = 0, answered = 0;
  std::multiset<int> codes;
  {
    HttpClient client(to(shared_server().port(), 3));
    const std::vector<float> input = vision_input();
    const std::vector<std::int64_t> shape = vision_shape();
    for (int i = 0; i < kCalls; ++i)
      client.infer_async("vision", input, shape, 20s, [&, i](InferResult r) {
        std::lock_guard lock(mutex);
        if (!seen.insert(i).second) ++duplicates;
        codes.insert(r.code);
        if (r.ok() && r.logits.size() == static_cast<std::size_t>(vision_classes())) ++answered;
      });
  }  // ~HttpClient sends what is queued and waits for every answer
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kCalls));
  EXPECT_EQ(duplicates, 0);
  for (int code : codes) EXPECT_TRUE(code == 0 || code == 4 || code == 8) << code;
  EXPECT_GT(answered, 0);
}

TEST(ServeClientHttp, TheTokenIsSentAndNoServerIsUnavailable) {
  serve::HttpServerOptions options = any_port();
  options.token = "t0ken";
  int port = 0;
  {
    serve::HttpServer server(shared_service(), options);
    port = server.port();
    HttpClient without(to(port));
    EXPECT_FALSE(without.live(10s));
    EXPECT_EQ(without.infer("vision", vision_input(), vision_shape(), 10s).code, 16);  // UNAUTHENTICATED
    HttpClientOptions with = to(port);
    with.token = "t0ken";
    HttpClient client(with);
    EXPECT_TRUE(client.live(10s));
    expect_vision_answer(client.infer("vision", vision_input(), vision_shape(), 10s));
  }
  HttpClient client(to(port));  // the server is gone
  EXPECT_FALSE(client.live(200ms));
  const InferResult r = client.infer("vision", vision_input(), vision_shape(), 300ms);
  EXPECT_EQ(r.code, 14) << r.message;  // UNAVAILABLE
  EXPECT_NE(r.message.find("vision"), std::string::npos) << r.message;
}

}  // namespace
}  // namespace imprecise::client
