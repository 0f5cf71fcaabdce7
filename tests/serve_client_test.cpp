// imprecise::client against a real GrpcServer on the shipped repository: health, metadata (and its
// error), blocking and async inference with deadlines, many async calls in flight, the token, TLS, an
// unreachable server, and the missed answer read back from trailing metadata.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <grpcpp/support/string_ref.h>

#include "client/client_codec.hpp"
#include "imprecise/client/client.hpp"
#include "imprecise/error.hpp"
#include "imprecise/serve/grpc_server.hpp"
#include "serve/grpc/grpc_codec.hpp"
#include "support/grpc_fixture.hpp"
#include "support/infer_result_check.hpp"

namespace imprecise::client {
namespace {

using namespace std::chrono_literals;
using serve::testing::shared_service;
using testing::expect_vision_answer;
using serve::testing::vision_input;
using serve::testing::vision_shape;

serve::GrpcServerOptions any_port() { return serve::testing::any_port<serve::GrpcServerOptions>(); }
serve::GrpcServer& shared_server() { return serve::testing::shared_server<serve::GrpcServer, serve::GrpcServerOptions>(); }

ClientOptions to(int port) {
  ClientOptions options;
  options.target = fmt::format("127.0.0.1:{}", port);
  return options;
}


TEST(ServeClient, HealthAndMetadata) {
  Client client(to(shared_server().port()));
  EXPECT_TRUE(client.live(10s));
  EXPECT_TRUE(client.ready(10s));
  EXPECT_TRUE(client.model_ready("vision", 10s));
  EXPECT_FALSE(client.model_ready("nope", 10s));
  const ModelMetadata m = client.metadata("voice", 10s);
  EXPECT_EQ(m.name, "voice");
  EXPECT_EQ(m.platform, "imprecise_onnx");
  EXPECT_EQ(m.versions, (std::vector<std::string>{"1"}));
  ASSERT_EQ(m.inputs.size(), 1u);
  EXPECT_EQ(m.inputs[0].name, shared_service().model("voice")->input.name);
  EXPECT_EQ(m.inputs[0].datatype, "FP32");
  EXPECT_EQ(m.inputs[0].shape, shared_service().model("voice")->input.shape);
  ASSERT_EQ(m.outputs.size(), 1u);
  EXPECT_EQ(m.outputs[0].name, "logits");
}

TEST(ServeClient, MetadataOfAnUnknownModelThrowsWithTheStatus) {
  Client client(to(shared_server().port()));
  try {
    client.metadata("nope", 10s);
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("gRPC status 5"), std::string::npos) << what;  // NOT_FOUND
    EXPECT_NE(what.find("nope"), std::string::npos) << what;
  }
}

TEST(ServeClient, BlockingInfer) {
  Client client(to(shared_server().port()));
  const std::vector<float> input = vision_input();
  const std::vector<std::int64_t> shape = vision_shape();
  expect_vision_answer(client.infer("vision", input, shape, 10s));
  // Errors come back as the status, naming the field.
  const std::vector<std::int64_t> wrong{1, 5};
  const std::vector<float> five(5, 0.0f);
  const InferResult bad = client.infer("vision", five, wrong, 10s);
  EXPECT_EQ(bad.code, 3);  // INVALID_ARGUMENT
  EXPECT_NE(bad.message.find("inputs[0].shape"), std::string::npos) << bad.message;
  EXPECT_TRUE(bad.logits.empty());
  const InferResult unknown = client.infer("nope", input, shape, 10s);
  EXPECT_EQ(unknown.code, 5);  // NOT_FOUND (from the model's metadata)
}

TEST(ServeClient, AnImpossibleDeadlineGivesNoAnswer) {
  Client client(to(shared_server().port()));
  const std::vector<float> input = vision_input();
  const std::vector<std::int64_t> shape = vision_shape();
  ASSERT_TRUE(client.infer("vision", input, shape, 10s).ok());  // the input name is known from here on
  const InferResult r = client.infer("vision", input, shape, 1us);
  EXPECT_TRUE(r.code == 4 || r.code == 8) << r.code << " " << r.message;  // DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED
  EXPECT_FALSE(r.ok());
}

TEST(ServeClient, ManyAsyncCallsInFlightEachAnswerOnce) {
  constexpr int kCalls = 200;
  std::mutex mutex;
  std::multiset<int> codes;
  std::set<int> seen;
  int duplicates = 0, answered = 0;
  {
    Client client(to(shared_server().port()));
    const std::vector<float> input = vision_input();
    const std::vector<std::int64_t> shape = vision_shape();
    for (int i = 0; i < kCalls; ++i)
      client.infer_async("vision", input, shape, 20s, [&, i](InferResult r) {
        std::lock_guard lock(mutex);
        if (!seen.insert(i).second) ++duplicates;
        codes.insert(r.code);
        if (r.ok() && r.logits.size() == static_cast<std::size_t>(shared_service().model("vision")->output.shape[1]))
          ++answered;
      });
  }  // ~Client waits for every call in flight
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kCalls));
  EXPECT_EQ(duplicates, 0);
  // Under this burst the engine may shed some (RESOURCE_EXHAUSTED) or answer late; none may be lost.
  for (int code : codes) EXPECT_TRUE(code == 0 || code == 4 || code == 8) << code;
  EXPECT_GT(answered, 0);
}

TEST(ServeClient, UnreachableServer) {
  // A port nobody listens on: a server started and stopped.
  int port = 0;
  {
    serve::GrpcServer server(shared_service(), any_port());
    port = server.port();
  }
  Client client(to(port));
  EXPECT_FALSE(client.live(200ms));
  const std::vector<float> input = vision_input();
  const std::vector<std::int64_t> shape = vision_shape();
  const InferResult r = client.infer("vision", input, shape, 300ms);
  EXPECT_TRUE(r.code == 14 || r.code == 4) << r.code << " " << r.message;  // UNAVAILABLE or DEADLINE_EXCEEDED
  bool called = false;
  client.infer_async("vision", input, shape, 300ms, [&](InferResult a) { called = !a.ok(); });
  EXPECT_TRUE(called);  // the failed metadata look-up answers inline
}

TEST(ServeClient, TheTokenIsSent) {
  serve::GrpcServerOptions options = any_port();
  options.token = "t0ken";
  serve::GrpcServer server(shared_service(), options);
  EXPECT_FALSE(Client(to(server.port())).live(10s));  // UNAUTHENTICATED
  ClientOptions with = to(server.port());
  with.token = "t0ken";
  Client client(with);
  EXPECT_TRUE(client.live(10s));
  expect_vision_answer(client.infer("vision", vision_input(), vision_shape(), 10s));
}

TEST(ServeClient, Tls) {
  const auto dir = std::filesystem::temp_directory_path() / fmt::format("imprecise_tls_{}", ::getpid());
  std::filesystem::create_directories(dir);
  const std::string cert = (dir / "cert.pem").string(), key = (dir / "key.pem").string();
  const std::string command = fmt::format(
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost -addext subjectAltName=DNS:localhost "
      "-keyout '{}' -out '{}' >/dev/null 2>&1",
      key, cert);
  if (std::system(command.c_str()) != 0) GTEST_SKIP() << "openssl cannot make a test certificate";
  serve::GrpcServerOptions options = any_port();
  options.tls_cert_file = cert;
  options.tls_key_file = key;
  serve::GrpcServer server(shared_service(), options);
  ClientOptions secure;
  secure.target = fmt::format("localhost:{}", server.port());
  secure.tls_root_cert_file = cert;
  Client client(secure);
  EXPECT_TRUE(client.live(10s));
  expect_vision_answer(client.infer("vision", vision_input(), vision_shape(), 10s));
  // A plaintext client cannot talk to it.
  ClientOptions plain;
  plain.target = secure.target;
  EXPECT_FALSE(Client(plain).live(500ms));
  ClientOptions missing = secure;
  missing.tls_root_cert_file = (dir / "none.pem").string();
  EXPECT_THROW(Client{missing}, Error);
  std::filesystem::remove_all(dir);
}

TEST(ServeClient, AMissedAnswerIsReadFromTrailingMetadata) {
  // What the server sends with DEADLINE_EXCEEDED (serve::trailing_metadata), read back by the client.
  serve::InferResponse missed;
  missed.status = {serve::StatusCode::deadline_exceeded, "missed"};
  missed.outcome_known = true;
  missed.outcome = OutcomeStatus::missed;
  missed.exit = 1;
  missed.depth = 1;
  missed.prediction = 1;
  missed.output_shape = {1, 2};
  missed.output = {0.5f, 2.0f};
  missed.queue_us = 5;
  missed.run_us = 90;
  missed.total_us = 120;
  const auto pairs = serve::trailing_metadata(missed);
  std::multimap<grpc::string_ref, grpc::string_ref> md;
  for (const auto& [k, v] : pairs) md.emplace(grpc::string_ref(k), grpc::string_ref(v));
  InferResult r;
  r.code = 4;
  read_trailing_metadata(md, r);
  EXPECT_EQ(r.outcome, "missed");
  EXPECT_EQ(r.exit, 1);
  EXPECT_EQ(r.depth, 1);
  EXPECT_EQ(r.prediction, 1);
  EXPECT_EQ(r.shape, (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(r.logits, (std::vector<float>{0.5f, 2.0f}));
  EXPECT_EQ(r.queue_us, 5);
  EXPECT_EQ(r.run_us, 90);
  EXPECT_EQ(r.total_us, 120);
}

}  // namespace
}  // namespace imprecise::client
