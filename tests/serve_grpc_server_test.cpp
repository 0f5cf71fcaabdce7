// GrpcServer over the shipped model repository, driven with the raw generated stub: health and metadata
// RPCs, ModelInfer with raw and typed contents, the deadline from the call and from parameters, every
// refusal naming its field, the message limit, the token, cancelled calls, shutdown with calls in flight.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include "imprecise/error.hpp"
#include "imprecise/serve/grpc_server.hpp"
#include "inference/grpc_predict_v2.grpc.pb.h"
#include "support/grpc_fixture.hpp"
#include "support/metric_value.hpp"

namespace imprecise::serve {
namespace {

using namespace std::chrono_literals;
using testing::shared_service;
using testing::vision_input;
using testing::vision_shape;
using Stub = inference::GRPCInferenceService::Stub;

std::unique_ptr<Stub> connect(int port) {
  return inference::GRPCInferenceService::NewStub(
      grpc::CreateChannel(fmt::format("127.0.0.1:{}", port), grpc::InsecureChannelCredentials()));
}

GrpcServerOptions any_port() { return testing::any_port<GrpcServerOptions>(); }
GrpcServer& shared_server() { return testing::shared_server<GrpcServer, GrpcServerOptions>(); }

void set_deadline(grpc::ClientContext& context, std::chrono::microseconds timeout) {
  context.set_deadline(std::chrono::system_clock::now() + timeout);
}

inference::ModelInferRequest vision_request(bool raw = true, float value = 0.25f) {
  inference::ModelInferRequest r;
  r.set_model_name("vision");
  r.set_id("call-7");
  auto* in = r.add_inputs();
  in->set_name(shared_service().model("vision")->input.name);
  in->set_datatype("FP32");
  for (std::int64_t d : vision_shape()) in->add_shape(d);
  const std::vector<float> values = vision_input(value);
  if (raw)
    r.add_raw_input_contents(std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float)));
  else
    for (float v : values) in->mutable_contents()->add_fp32_contents(v);
  return r;
}

struct Reply {
  grpc::Status status;
  inference::ModelInferResponse response;
  std::multimap<std::string, std::string> trailers;
};

Reply infer(const inference::ModelInferRequest& request, std::chrono::microseconds timeout = 10s, int port = 0) {
  auto stub = connect(port != 0 ? port : shared_server().port());
  grpc::ClientContext context;
  set_deadline(context, timeout);
  Reply reply;
  reply.status = stub->ModelInfer(&context, request, &reply.response);
  for (const auto& [k, v] : context.GetServerTrailingMetadata())
    reply.trailers.emplace(std::string(k.data(), k.size()), std::string(v.data(), v.size()));
  return reply;
}

void expect_refused(const inference::ModelInferRequest& request, grpc::StatusCode code, const std::string& part) {
  const Reply reply = infer(request);
  EXPECT_EQ(reply.status.error_code(), code) << reply.status.error_message();
  EXPECT_NE(reply.status.error_message().find(part), std::string::npos)
      << "'" << part << "' not in: " << reply.status.error_message();
}

std::int64_t int_parameter(const inference::ModelInferResponse& r, const std::string& key) {
  const auto it = r.parameters().find(key);
  EXPECT_NE(it, r.parameters().end()) << key;
  return it == r.parameters().end() ? -1 : it->second.int64_param();
}

TEST(ServeGrpcServer, HealthAndServerMetadata) {
  auto stub = connect(shared_server().port());
  {
    grpc::ClientContext c;
    inference::ServerLiveResponse r;
    ASSERT_TRUE(stub->ServerLive(&c, {}, &r).ok());
    EXPECT_TRUE(r.live());
  }
  {
    grpc::ClientContext c;
    inference::ServerReadyResponse r;
    ASSERT_TRUE(stub->ServerReady(&c, {}, &r).ok());
    EXPECT_TRUE(r.ready());
  }
  for (const auto& [name, version, ready] : std::vector<std::tuple<std::string, std::string, bool>>{
           {"vision", "", true}, {"voice", "1", true}, {"vision", "7", false}, {"nope", "", false}}) {
    grpc::ClientContext c;
    inference::ModelReadyRequest q;
    q.set_name(name);
    q.set_version(version);
    inference::ModelReadyResponse r;
    ASSERT_TRUE(stub->ModelReady(&c, q, &r).ok());
    EXPECT_EQ(r.ready(), ready) << name << " " << version;
  }
  grpc::ClientContext c;
  inference::ServerMetadataResponse r;
  ASSERT_TRUE(stub->ServerMetadata(&c, {}, &r).ok());
  EXPECT_EQ(r.name(), "imprecise");
  EXPECT_FALSE(r.version().empty());
}

TEST(ServeGrpcServer, ModelMetadataDescribesEachShippedModel) {
  auto stub = connect(shared_server().port());
  for (const ModelInfo& info : shared_service().models()) {
    grpc::ClientContext c;
    inference::ModelMetadataRequest q;
    q.set_name(info.name);
    inference::ModelMetadataResponse r;
    ASSERT_TRUE(stub->ModelMetadata(&c, q, &r).ok()) << info.name;
    EXPECT_EQ(r.name(), info.name);
    EXPECT_EQ(r.platform(), "imprecise_onnx");
    ASSERT_EQ(r.versions_size(), 1);
    EXPECT_EQ(r.versions(0), "1");
    ASSERT_EQ(r.inputs_size(), 1);
    EXPECT_EQ(r.inputs(0).name(), info.input.name);
    EXPECT_EQ(r.inputs(0).datatype(), "FP32");
    EXPECT_EQ(std::vector<std::int64_t>(r.inputs(0).shape().begin(), r.inputs(0).shape().end()), info.input.shape);
    EXPECT_EQ(r.inputs(0).shape(0), -1);
    ASSERT_EQ(r.outputs_size(), 1);
    EXPECT_EQ(r.outputs(0).name(), "logits");
    EXPECT_EQ(r.outputs(0).datatype(), "FP32");
    ASSERT_EQ(r.outputs(0).shape_size(), 2);
    EXPECT_EQ(r.outputs(0).shape(0), -1);
    EXPECT_GT(r.outputs(0).shape(1), 1);
  }
  for (const auto& [name, version, part] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"nope", "", "name: model 'nope'"}, {"vision", "9", "version: model 'vision' has no version '9'"}}) {
    grpc::ClientContext c;
    inference::ModelMetadataRequest q;
    q.set_name(name);
    q.set_version(version);
    inference::ModelMetadataResponse r;
    const grpc::Status s = stub->ModelMetadata(&c, q, &r);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_NE(s.error_message().find(part), std::string::npos) << s.error_message();
  }
}

void expect_answer(const Reply& reply) {
  ASSERT_TRUE(reply.status.ok()) << reply.status.error_message();
  const auto& r = reply.response;
  const std::int64_t classes = shared_service().model("vision")->output.shape[1];
  EXPECT_EQ(r.model_name(), "vision");
  EXPECT_EQ(r.id(), "call-7");
  ASSERT_EQ(r.outputs_size(), 1);
  EXPECT_EQ(r.outputs(0).name(), "logits");
  EXPECT_EQ(r.outputs(0).datatype(), "FP32");
  EXPECT_EQ(std::vector<std::int64_t>(r.outputs(0).shape().begin(), r.outputs(0).shape().end()),
            (std::vector<std::int64_t>{1, classes}));
  ASSERT_EQ(r.raw_output_contents_size(), 1);
  ASSERT_EQ(r.raw_output_contents(0).size(), static_cast<std::size_t>(classes) * sizeof(float));
  std::vector<float> logits(static_cast<std::size_t>(classes));
  std::memcpy(logits.data(), r.raw_output_contents(0).data(), r.raw_output_contents(0).size());
  for (float v : logits) EXPECT_TRUE(std::isfinite(v));
  const std::int64_t exit = int_parameter(r, "exit"), depth = int_parameter(r, "depth");
  EXPECT_GE(exit, 1);
  EXPECT_LE(exit, 4);
  EXPECT_GE(depth, exit);
  const std::int64_t prediction = int_parameter(r, "prediction");
  EXPECT_GE(prediction, 0);
  EXPECT_LT(prediction, classes);
  // The prediction is the answering exit's argmax.
  EXPECT_EQ(prediction, std::max_element(logits.begin(), logits.end()) - logits.begin());
  EXPECT_EQ(r.parameters().at("outcome").string_param(), "completed");
  const double confidence = r.parameters().at("confidence").double_param();
  EXPECT_GT(confidence, 0.0);
  EXPECT_LE(confidence, 1.0);
  EXPECT_GE(int_parameter(r, "queue_us"), 0);
  EXPECT_GT(int_parameter(r, "run_us"), 0);
  EXPECT_GE(int_parameter(r, "total_us"), int_parameter(r, "run_us"));
  EXPECT_TRUE(reply.trailers.find("imprecise-outcome") == reply.trailers.end());  // only with an error status
}

TEST(ServeGrpcServer, ModelInferWithRawContents) { expect_answer(infer(vision_request(true))); }

TEST(ServeGrpcServer, ModelInferWithTypedContents) { expect_answer(infer(vision_request(false))); }

TEST(ServeGrpcServer, TheVersionAskedForIsEchoed) {
  auto r = vision_request();
  r.set_model_version("1");
  const Reply reply = infer(r);
  expect_answer(reply);
  EXPECT_EQ(reply.response.model_version(), "1");
}

TEST(ServeGrpcServer, TypedAndRawContentsGiveTheSameAnswer) {
  const Reply raw = infer(vision_request(true, 0.7f)), typed = infer(vision_request(false, 0.7f));
  ASSERT_TRUE(raw.status.ok() && typed.status.ok());
  // The same input gives the same logits from the same exit (which exit answers may vary with load).
  if (int_parameter(raw.response, "exit") == int_parameter(typed.response, "exit")) {
    EXPECT_EQ(raw.response.raw_output_contents(0), typed.response.raw_output_contents(0));
  }
}

TEST(ServeGrpcServer, EveryShippedModelAnswers) {
  for (const ModelInfo& info : shared_service().models()) {
    inference::ModelInferRequest r;
    r.set_model_name(info.name);
    auto* in = r.add_inputs();
    in->set_name(info.input.name);
    in->set_datatype("FP32");
    std::size_t n = 1;
    for (std::size_t i = 0; i < info.input.shape.size(); ++i) {
      const std::int64_t d = i == 0 ? 1 : info.input.shape[i];
      in->add_shape(d);
      n *= static_cast<std::size_t>(d);
    }
    for (std::size_t i = 0; i < n; ++i) in->mutable_contents()->add_fp32_contents(0.1f);
    const Reply reply = infer(r);
    ASSERT_TRUE(reply.status.ok()) << info.name << ": " << reply.status.error_message();
    EXPECT_EQ(reply.response.outputs(0).shape(1), info.output.shape[1]) << info.name;
  }
}

// A request the decoder refuses never becomes a job, but it is still a request and a response of its model.
TEST(ServeGrpcServer, RequestsTheDecoderRefusesAreCounted) {
  using imprecise::testing::metric_value;
  const std::string requests = "imprecise_requests_total{model=\"vision\"}";
  const std::string invalid = "imprecise_responses_total{model=\"vision\",code=\"INVALID_ARGUMENT\"}";
  const std::string before = shared_service().prometheus_text();
  auto r = vision_request();
  r.mutable_inputs(0)->set_datatype("INT32");
  expect_refused(r, grpc::StatusCode::INVALID_ARGUMENT, "inputs[0].datatype");
  const std::string after = shared_service().prometheus_text();
  EXPECT_GE(metric_value(after, requests) - metric_value(before, requests), 1.0) << after.substr(0, 1500);
  EXPECT_GE(metric_value(after, invalid) - metric_value(before, invalid), 1.0);
}

TEST(ServeGrpcServer, BadRequestsAreRefusedNamingTheField) {
  using grpc::StatusCode;
  auto r = vision_request();
  r.mutable_inputs(0)->set_datatype("INT32");
  expect_refused(r, StatusCode::INVALID_ARGUMENT, "inputs[0].datatype");

  r = vision_request();
  r.mutable_inputs(0)->set_shape(1, 3);  // wrong shape, bytes to match it
  r.set_raw_input_contents(0, std::string(static_cast<std::size_t>(r.inputs(0).shape(1) * r.inputs(0).shape(2) *
                                                                   r.inputs(0).shape(3)) * 4, '\0'));
  expect_refused(r, StatusCode::INVALID_ARGUMENT, "inputs[0].shape");

  r = vision_request();
  r.mutable_raw_input_contents(0)->pop_back();
  expect_refused(r, StatusCode::INVALID_ARGUMENT, "raw_input_contents[0]");

  r = vision_request(false);
  r.mutable_inputs(0)->mutable_contents()->mutable_fp32_contents()->RemoveLast();
  expect_refused(r, StatusCode::INVALID_ARGUMENT, "inputs[0].contents.fp32_contents");

  r = vision_request(false);
  r.add_raw_input_contents(std::string(16, '\0'));
  expect_refused(r, StatusCode::INVALID_ARGUMENT, "inputs[0].contents");

  r = vision_request();
  r.clear_raw_input_contents();
  expect_refused(r, StatusCode::INVALID_ARGUMENT, "inputs[0].contents");

  r = vision_request();
  r.mutable_inputs(0)->set_name("pixels");
  expect_refused(r, StatusCode::INVALID_ARGUMENT, "inputs[0].name");

  r = vision_request();
  r.add_inputs()->set_datatype("FP32");
  expect_refused(r, StatusCode::INVALID_ARGUMENT, "inputs:");

  r = vision_request();
  r.add_outputs()->set_name("probabilities");
  expect_refused(r, StatusCode::INVALID_ARGUMENT, "outputs[0].name");

  r = vision_request();
  r.set_model_name("nope");
  expect_refused(r, StatusCode::NOT_FOUND, "nope");

  r = vision_request();
  r.set_model_version("3");
  expect_refused(r, StatusCode::NOT_FOUND, "3");

  r = vision_request(false);
  r.mutable_inputs(0)->mutable_contents()->set_fp32_contents(5, std::numeric_limits<float>::quiet_NaN());
  expect_refused(r, StatusCode::INVALID_ARGUMENT, "inputs[0].data[5]");

  r = vision_request(false);
  r.mutable_inputs(0)->mutable_contents()->set_fp32_contents(0, std::numeric_limits<float>::infinity());
  expect_refused(r, StatusCode::INVALID_ARGUMENT, "inputs[0].data[0]");
}

TEST(ServeGrpcServer, DeadlineParametersAreCheckedByTheService) {
  using grpc::StatusCode;
  auto with = [](const char* key, std::int64_t us) {
    auto r = vision_request();
    (*r.mutable_parameters())[key].set_int64_param(us);
    return r;
  };
  expect_refused(with("deadline_us", -5), StatusCode::INVALID_ARGUMENT, "parameters.deadline_us");
  expect_refused(with("deadline_us", 0), StatusCode::INVALID_ARGUMENT, "parameters.deadline_us");
  expect_refused(with("timeout", std::numeric_limits<std::int64_t>::max()), StatusCode::INVALID_ARGUMENT,
                 "parameters.timeout");
  auto text = vision_request();
  (*text.mutable_parameters())["deadline_us"].set_string_param("soon");
  expect_refused(text, StatusCode::INVALID_ARGUMENT, "parameters.deadline_us");
  // 1 us: past on arrival once the network margin is taken off; the service says so.
  const Reply tight = infer(with("deadline_us", 1));
  EXPECT_TRUE(tight.status.error_code() == StatusCode::DEADLINE_EXCEEDED ||
              tight.status.error_code() == StatusCode::RESOURCE_EXHAUSTED)
      << tight.status.error_message();
  // A generous parameter deadline, and an unknown parameter (ignored): answered.
  auto fine = with("timeout", 5'000'000);
  (*fine.mutable_parameters())["priority"].set_int64_param(3);
  expect_answer(infer(fine));
}

TEST(ServeGrpcServer, AnImpossibleCallDeadlineIsNotAnswered) {
  // 1 us: gRPC or the service gives up; either way no answer, DEADLINE_EXCEEDED.
  const Reply reply = infer(vision_request(), 1us);
  EXPECT_TRUE(reply.status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED ||
              reply.status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED)
      << reply.status.error_message();
  EXPECT_EQ(reply.response.outputs_size(), 0);
}

TEST(ServeGrpcServer, TheCallsDeadlineIsTheJobsDeadline) {
  // A service with a 3 s network margin: a call due in 2 s is already late on arrival *by the service's
  // reckoning* (the client still has time), so the service's own DEADLINE_EXCEEDED proves it read the
  // call's deadline. A call due in 20 s is answered.
  ServiceConfig config;
  config.network_margin = 3s;
  InferenceService service(testing::vision_only_repository("margin"), config);
  GrpcServer server(service, any_port());
  const Reply late = infer(vision_request(), 2s, server.port());
  EXPECT_EQ(late.status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << late.status.error_message();
  EXPECT_NE(late.status.error_message().find("already past on arrival"), std::string::npos)
      << late.status.error_message();
  const Reply on_time = infer(vision_request(), 20s, server.port());
  EXPECT_TRUE(on_time.status.ok()) << on_time.status.error_message();
  // Without a call deadline the model's default (2 s in this repository, less the margin: past) applies.
  auto stub = connect(server.port());
  grpc::ClientContext context;
  inference::ModelInferResponse response;
  EXPECT_EQ(stub->ModelInfer(&context, vision_request(), &response).error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
}

TEST(ServeGrpcServer, MessagesOverTheLimitAreRefusedByGrpc) {
  GrpcServerOptions options = any_port();
  options.max_message_bytes = 64 * 1024;
  GrpcServer server(shared_service(), options);
  auto r = vision_request();
  r.set_raw_input_contents(0, std::string(100 * 1024, '\0'));
  const Reply reply = infer(r, 10s, server.port());
  EXPECT_EQ(reply.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << reply.status.error_message();
  // A request under the limit still passes.
  if (vision_input().size() * sizeof(float) < options.max_message_bytes - 1024) {
    expect_answer(infer(vision_request(), 10s, server.port()));
  }
}

TEST(ServeGrpcServer, TheTokenIsChecked) {
  GrpcServerOptions options = any_port();
  options.token = "s3cret";
  GrpcServer server(shared_service(), options);
  auto stub = connect(server.port());
  for (const char* header : {"", "Bearer wrong", "s3cret", "Bearer s3cret"}) {
    grpc::ClientContext c;
    if (*header != '\0') c.AddMetadata("authorization", header);
    inference::ServerLiveResponse r;
    const grpc::Status s = stub->ServerLive(&c, {}, &r);
    if (std::string(header) == "Bearer s3cret") {
      EXPECT_TRUE(s.ok()) << s.error_message();
    } else {
      EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << header;
      EXPECT_NE(s.error_message().find("authorization"), std::string::npos);
    }
  }
  grpc::ClientContext c;
  c.set_deadline(std::chrono::system_clock::now() + 10s);
  inference::ModelInferResponse r;
  EXPECT_EQ(stub->ModelInfer(&c, vision_request(), &r).error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

/// Counts async calls' statuses; each call must report exactly once.
struct Calls {
  std::mutex mutex;
  std::condition_variable cv;
  std::multiset<grpc::StatusCode> codes;
  int started = 0, duplicates = 0;
  std::set<int> finished;

  void done(int id, grpc::StatusCode code) {
    std::lock_guard lock(mutex);
    if (!finished.insert(id).second) ++duplicates;
    codes.insert(code);
    cv.notify_all();
  }
  bool wait_all(std::chrono::seconds timeout) {
    std::unique_lock lock(mutex);
    return cv.wait_for(lock, timeout, [this] { return static_cast<int>(finished.size()) == started; });
  }
};

struct AsyncCall {
  grpc::ClientContext context;
  inference::ModelInferRequest request;
  inference::ModelInferResponse response;
};

/// The sum of every sample of the metric `name` for model `model` in a Prometheus text exposition.
double metric_sum(const std::string& text, const std::string& name, const std::string& model) {
  double sum = 0;
  const std::string prefix = name + "{model=\"" + model + "\"";
  std::size_t at = 0;
  while ((at = text.find(prefix, at)) != std::string::npos) {
    const std::size_t space = text.find(' ', at);
    sum += std::stod(text.substr(space + 1, text.find('\n', space) - space - 1));
    at = space;
  }
  return sum;
}

/// Waits (bounded) until the service has answered every request it received; true when it has.
bool service_answered_everything(const InferenceService& service, std::chrono::seconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    const std::string text = service.prometheus_text();
    const double requests = metric_sum(text, "imprecise_requests_total", "vision");
    if (requests > 0 && requests == metric_sum(text, "imprecise_responses_total", "vision")) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

TEST(ServeGrpcServer, ClientsThatCancelMidRequestEndOnce) {
  InferenceService service(testing::vision_only_repository("cancel"));
  GrpcServer server(service, any_port());
  auto stub = connect(server.port());
  Calls calls;
  std::vector<std::unique_ptr<AsyncCall>> held;
  for (int i = 0; i < 24; ++i) {
    auto call = std::make_unique<AsyncCall>();
    call->request = vision_request();
    set_deadline(call->context, 10s);
    ++calls.started;
    stub->async()->ModelInfer(&call->context, &call->request, &call->response,
                              [&calls, i](grpc::Status s) { calls.done(i, s.error_code()); });
    // Half cancel at once (before or as the server sees them), half once their job is likely queued.
    if (i % 2 == 1) std::this_thread::sleep_for(2ms);
    call->context.TryCancel();
    held.push_back(std::move(call));
  }
  ASSERT_TRUE(calls.wait_all(30s));
  EXPECT_EQ(calls.duplicates, 0);
  for (grpc::StatusCode code : calls.codes)
    EXPECT_TRUE(code == grpc::StatusCode::CANCELLED || code == grpc::StatusCode::OK) << code;
  // The server is unharmed: the next call is answered.
  expect_answer(infer(vision_request(), 10s, server.port()));
  // On the server each job that reached the service still ended exactly once (its reactor finished and
  // was freed: ASan runs of this test check the freeing).
  EXPECT_TRUE(service_answered_everything(service, 30s)) << service.prometheus_text();
}

// `n` ModelInfer calls in flight (5 s deadlines), each reporting to `calls`; keep the result alive.
std::vector<std::unique_ptr<AsyncCall>> start_vision_calls(Stub& stub, Calls& calls, int n) {
  std::vector<std::unique_ptr<AsyncCall>> held;
  for (int i = 0; i < n; ++i) {
    auto call = std::make_unique<AsyncCall>();
    call->request = vision_request();
    set_deadline(call->context, 5s);
    ++calls.started;
    stub.async()->ModelInfer(&call->context, &call->request, &call->response,
                             [&calls, i](grpc::Status s) { calls.done(i, s.error_code()); });
    held.push_back(std::move(call));
  }
  return held;
}

TEST(ServeGrpcServer, ShutdownWithCallsInFlightAnswersEachOnce) {
  auto server = std::make_unique<GrpcServer>(shared_service(), any_port());
  auto stub = connect(server->port());
  Calls calls;
  const auto held = start_vision_calls(*stub, calls, 64);
  server->shutdown(10s);
  ASSERT_TRUE(calls.wait_all(30s));
  EXPECT_EQ(calls.duplicates, 0);
  const std::set<grpc::StatusCode> allowed{grpc::StatusCode::OK, grpc::StatusCode::DEADLINE_EXCEEDED,
                                           grpc::StatusCode::RESOURCE_EXHAUSTED, grpc::StatusCode::UNAVAILABLE,
                                           grpc::StatusCode::CANCELLED};
  for (grpc::StatusCode code : calls.codes) EXPECT_TRUE(allowed.count(code)) << code;
  // After shutdown: no server there.
  grpc::ClientContext c;
  set_deadline(c, 2s);
  inference::ServerLiveResponse r;
  EXPECT_EQ(stub->ServerLive(&c, {}, &r).error_code(), grpc::StatusCode::UNAVAILABLE);
  server.reset();  // a second shutdown (the destructor's) is a no-op
}

TEST(ServeGrpcServer, ShutdownWithoutGraceStillEndsEachCallOnce) {
  // No grace: gRPC cancels the calls in flight at once, but shutdown returns only when the service has
  // finished each of them, so the server can go away right after.
  InferenceService service(testing::vision_only_repository("nograce"));
  auto server = std::make_unique<GrpcServer>(service, any_port());
  auto stub = connect(server->port());
  Calls calls;
  const auto held = start_vision_calls(*stub, calls, 64);
  std::this_thread::sleep_for(5ms);  // let some reach the engine
  server->shutdown(0ms);
  server.reset();
  ASSERT_TRUE(calls.wait_all(30s));
  EXPECT_EQ(calls.duplicates, 0);
  const std::string text = service.prometheus_text();
  EXPECT_EQ(metric_sum(text, "imprecise_requests_total", "vision"), metric_sum(text, "imprecise_responses_total", "vision"))
      << text;
}

TEST(ServeGrpcServer, AServiceShuttingDownIsUnavailable) {
  InferenceService service(testing::vision_only_repository("draining"));
  GrpcServer server(service, any_port());
  expect_answer(infer(vision_request(), 10s, server.port()));
  service.shutdown();
  auto stub = connect(server.port());
  grpc::ClientContext c;
  inference::ServerReadyResponse ready;
  ASSERT_TRUE(stub->ServerReady(&c, {}, &ready).ok());
  EXPECT_FALSE(ready.ready());
  const Reply reply = infer(vision_request(), 10s, server.port());
  EXPECT_EQ(reply.status.error_code(), grpc::StatusCode::UNAVAILABLE) << reply.status.error_message();
  server.shutdown();
}

TEST(ServeGrpcServer, RefusesAnAddressItCannotBind) {
  GrpcServerOptions options = any_port();
  options.address = "203.0.113.7";  // TEST-NET-3: not an address of this machine
  EXPECT_THROW(GrpcServer(shared_service(), options), Error);
  options = any_port();
  options.port = shared_server().port();  // taken
  EXPECT_THROW(GrpcServer(shared_service(), options), Error);
  options = any_port();
  options.tls_cert_file = "/no/such/cert.pem";
  options.tls_key_file = "/no/such/key.pem";
  try {
    GrpcServer server(shared_service(), options);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/no/such/key.pem"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace imprecise::serve
