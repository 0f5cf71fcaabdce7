// InferenceService on the shipped model repository: metadata, answers, every refusal naming its field,
// the deadline rule, exactly one response per request under overload and at shutdown, metrics.
#include <gtest/gtest.h>

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <future>
#include <limits>
#include <thread>

#include "imprecise/data/pipeline.hpp"
#include "imprecise/serve/inference_service.hpp"
#include "support/expect_error.hpp"
#include "support/metric_value.hpp"

namespace imprecise::serve {
namespace {

using namespace std::chrono_literals;

std::filesystem::path repository() { return data::source_path("model_repository"); }

InferenceService& shared_service() {
  static InferenceService service(repository());
  return service;
}

InferRequest vision_request(float value = 0.5f) {
  const ModelInfo* info = shared_service().model("vision");
  InferRequest r;
  r.model = "vision";
  r.id = "req-1";
  InferInput in;
  in.name = info->input.name;
  in.datatype = "FP32";
  in.shape = info->input.shape;
  in.shape[0] = 1;
  std::size_t n = 1;
  for (std::size_t i = 1; i < in.shape.size(); ++i) n *= static_cast<std::size_t>(in.shape[i]);
  in.values.assign(n, value);
  r.inputs.push_back(std::move(in));
  r.deadline_us = 2'000'000;  // generous: the CI machine is loaded
  return r;
}

InferResponse call(InferenceService& s, InferRequest r) {
  std::promise<InferResponse> p;
  auto f = p.get_future();
  s.infer(std::move(r), [&p](InferResponse response) { p.set_value(std::move(response)); });
  return f.get();
}

void expect_refused(InferRequest r, StatusCode code, const std::string& part) {
  const InferResponse response = call(shared_service(), std::move(r));
  EXPECT_EQ(response.status.code, code) << response.status.message;
  EXPECT_NE(response.status.message.find(part), std::string::npos) << "'" << part << "' not in: " << response.status.message;
  EXPECT_FALSE(response.outcome_known);
  EXPECT_TRUE(response.output.empty());
}

TEST(ServeService, DescribesEveryModelOfTheRepository) {
  const auto& models = shared_service().models();
  ASSERT_EQ(models.size(), 3u);
  EXPECT_EQ(models[0].name, "lidar");
  EXPECT_EQ(models[1].name, "vision");
  EXPECT_EQ(models[2].name, "voice");
  for (const ModelInfo& m : models) {
    EXPECT_EQ(m.input.datatype, "FP32");
    EXPECT_EQ(m.input.shape.front(), -1) << m.name;
    EXPECT_EQ(m.output.shape.size(), 2u);
    EXPECT_GT(m.output.shape[1], 1);
    EXPECT_EQ(m.stages, 4) << m.name;
    EXPECT_TRUE(shared_service().model_ready(m.name));
    EXPECT_TRUE(shared_service().model_ready(m.name, "1"));
    EXPECT_FALSE(shared_service().model_ready(m.name, "7"));
  }
  EXPECT_EQ(shared_service().model("vision")->default_deadline, 33ms);
  EXPECT_EQ(shared_service().model("nope"), nullptr);
  EXPECT_TRUE(shared_service().ready());
}

TEST(ServeService, AnswersWithTheLogitsOfTheExitThatAnswered) {
  const InferResponse r = call(shared_service(), vision_request());
  ASSERT_EQ(r.status.code, StatusCode::ok) << r.status.message;
  EXPECT_EQ(r.id, "req-1");
  EXPECT_EQ(r.model, "vision");
  EXPECT_EQ(r.version, "1");  // the version that served it, though the request named none
  EXPECT_EQ(r.outcome, OutcomeStatus::completed);
  EXPECT_GE(r.exit, 1);
  EXPECT_LE(r.exit, 4);
  EXPECT_GE(r.depth, r.exit);
  ASSERT_EQ(r.output_shape.size(), 2u);
  EXPECT_EQ(r.output_shape[1], shared_service().model("vision")->output.shape[1]);
  ASSERT_EQ(r.output.size(), static_cast<std::size_t>(r.output_shape[1]));
  int argmax = 0;
  for (std::size_t i = 0; i < r.output.size(); ++i) {
    EXPECT_TRUE(std::isfinite(r.output[i]));
    if (r.output[i] > r.output[static_cast<std::size_t>(argmax)]) argmax = static_cast<int>(i);
  }
  EXPECT_EQ(r.prediction, argmax);  // the logits are the answering exit's
  EXPECT_FALSE(r.label.empty());
  EXPECT_GT(r.confidence, 0.0);
  EXPECT_GT(r.run_us, 0);
  EXPECT_GE(r.total_us, r.queue_us);
}

// A gRPC Finish writes to the socket inline: run on a lane it would take the lane's time from the stages.
TEST(ServeService, AnswersAreSentFromTheRespondersThreadNotAnEngineThread) {
  std::promise<std::string> thread_name;
  shared_service().infer(vision_request(), [&thread_name](InferResponse) {
    char name[16] = {};
    pthread_getname_np(pthread_self(), name, sizeof name);
    thread_name.set_value(name);
  });
  EXPECT_EQ(thread_name.get_future().get(), "imp-responder");
}

TEST(ServeService, AnIoNiceOutsideZeroToNineteenIsRefused) {
  ServiceConfig config;
  config.io_nice = 20;
  test_support::expect_error([&] { InferenceService s(repository(), config); }, {"io nice: 20 is not 0 to 19"});
}

TEST(ServeService, TheSampleShapeWithoutTheBatchAxisIsAccepted) {
  InferRequest r = vision_request();
  r.inputs[0].shape.erase(r.inputs[0].shape.begin());
  EXPECT_EQ(call(shared_service(), std::move(r)).status.code, StatusCode::ok);
}

TEST(ServeService, RefusesBadRequestsNamingTheField) {
  InferRequest unknown = vision_request();
  unknown.model = "nope";
  expect_refused(unknown, StatusCode::not_found, "model_name: 'nope'");
  InferRequest version = vision_request();
  version.version = "3";
  expect_refused(version, StatusCode::not_found, "model_version");
  InferRequest two = vision_request();
  two.inputs.push_back(two.inputs[0]);
  expect_refused(two, StatusCode::invalid_argument, "inputs: model 'vision' takes exactly one");
  InferRequest name = vision_request();
  name.inputs[0].name = "pixels";
  expect_refused(name, StatusCode::invalid_argument, "inputs[0].name: 'pixels'");
  InferRequest dtype = vision_request();
  dtype.inputs[0].datatype = "INT32";
  expect_refused(dtype, StatusCode::invalid_argument, "inputs[0].datatype: 'INT32'");
  InferRequest shape = vision_request();
  shape.inputs[0].shape[0] = 2;
  expect_refused(shape, StatusCode::invalid_argument, "inputs[0].shape: [2,");
  InferRequest count = vision_request();
  count.inputs[0].values.pop_back();
  expect_refused(count, StatusCode::invalid_argument, "inputs[0]: ");
  InferRequest nan = vision_request();
  nan.inputs[0].values[3] = std::numeric_limits<float>::quiet_NaN();
  expect_refused(nan, StatusCode::invalid_argument, "inputs[0].data[3]");
  InferRequest inf = vision_request();
  inf.inputs[0].values[5] = std::numeric_limits<float>::infinity();
  expect_refused(inf, StatusCode::invalid_argument, "inputs[0].data[5]");
}

TEST(ServeService, DeadlineParametersAreChecked) {
  for (const std::int64_t us : {std::int64_t{0}, std::int64_t{-5}, std::int64_t{3'600'000'000}}) {
    InferRequest r = vision_request();
    r.deadline_us = us;
    expect_refused(r, StatusCode::invalid_argument, "parameters.deadline_us");
  }
  InferRequest triton = vision_request();
  triton.deadline_us.reset();
  triton.timeout_us = -1;
  expect_refused(triton, StatusCode::invalid_argument, "parameters.timeout");
  // Both given: each is checked, naming its own parameter, even when the other is fine.
  InferRequest both = vision_request();
  both.timeout_us = 0;
  expect_refused(both, StatusCode::invalid_argument, "parameters.timeout");
  // A transport deadline already past (after the margin) cannot be met.
  InferRequest past = vision_request();
  past.deadline_us.reset();
  past.deadline = Clock::now() + 100us;  // less than the 2 ms margin
  expect_refused(past, StatusCode::deadline_exceeded, "deadline: already past");
  // A transport timeout beyond max_deadline counts as none: the model's default deadline applies.
  InferRequest far = vision_request();
  far.deadline_us.reset();
  far.deadline = Clock::now() + std::chrono::hours(2);
  const InferResponse r = call(shared_service(), std::move(far));
  EXPECT_NE(r.status.code, StatusCode::invalid_argument) << r.status.message;
  EXPECT_TRUE(r.outcome_known);
}

TEST(ServeService, TheEarlierOfTransportAndParameterDeadlineApplies) {
  InferRequest r = vision_request();
  r.deadline = Clock::now() + 300us;  // past after the margin, although the parameter allows 2 s
  expect_refused(r, StatusCode::deadline_exceeded, "deadline");
}

TEST(ServeService, TheEarlierOfDeadlineUsAndTritonsTimeoutApplies) {
  InferRequest r = vision_request();  // deadline_us allows 2 s
  r.timeout_us = 1'000;               // past after the 2 ms margin: the earlier one counts
  expect_refused(r, StatusCode::deadline_exceeded, "deadline: already past");
  InferRequest reversed = vision_request();
  reversed.deadline_us = 1'000;
  reversed.timeout_us = 2'000'000;
  expect_refused(reversed, StatusCode::deadline_exceeded, "deadline: already past");
}

TEST(ServeService, EveryRequestGetsExactlyOneResponseUnderOverload) {
  ServiceConfig config;
  config.engine.max_pending = 32;
  InferenceService service(repository(), config);
  constexpr int kPerThread = 600;
  std::atomic<int> responses{0}, ok{0}, refused{0}, late{0};
  const auto send = [&] {
    for (int i = 0; i < kPerThread; ++i) {
      InferRequest r = vision_request(static_cast<float>(i % 7) * 0.1f);
      r.deadline_us = 2'000 + (i % 5) * 1'000;  // 2-6 ms: far beyond what the device can do
      service.infer(std::move(r), [&](InferResponse response) {
        responses.fetch_add(1);
        switch (response.status.code) {
          case StatusCode::ok: ok.fetch_add(1); break;
          case StatusCode::resource_exhausted: refused.fetch_add(1); break;
          case StatusCode::deadline_exceeded: late.fetch_add(1); break;
          default: ADD_FAILURE() << to_string(response.status.code) << ": " << response.status.message;
        }
      });
    }
  };
  std::thread a(send), b(send);
  a.join();
  b.join();
  service.shutdown();  // answers everything admitted by its deadline
  EXPECT_EQ(responses.load(), 2 * kPerThread);
  EXPECT_EQ(ok.load() + refused.load() + late.load(), 2 * kPerThread);
  EXPECT_GT(ok.load(), 0);
  EXPECT_GT(refused.load(), 0);  // the 32-job queue overflowed
}

TEST(ServeService, ShutdownAnswersInFlightRequestsAndRefusesNewOnes) {
  InferenceService service(repository());
  std::atomic<int> responses{0};
  for (int i = 0; i < 50; ++i) {
    InferRequest r = vision_request();
    service.infer(std::move(r), [&](InferResponse) { responses.fetch_add(1); });
  }
  service.shutdown();
  EXPECT_EQ(responses.load(), 50);
  EXPECT_FALSE(service.ready());
  EXPECT_FALSE(service.model_ready("vision"));
  const InferResponse after = call(service, vision_request());
  EXPECT_EQ(after.status.code, StatusCode::unavailable);
  service.shutdown();  // idempotent
}

TEST(ServeService, MetricsCountRequestsResponsesAndExits) {
  InferenceService service(repository());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(call(service, vision_request()).status.code, StatusCode::ok);
  InferRequest bad = vision_request();
  bad.inputs[0].datatype = "FP16";
  call(service, std::move(bad));
  const std::string text = service.prometheus_text();
  EXPECT_NE(text.find("imprecise_requests_total{model=\"vision\"} 4\n"), std::string::npos) << text;
  EXPECT_NE(text.find("imprecise_responses_total{model=\"vision\",code=\"OK\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("imprecise_responses_total{model=\"vision\",code=\"INVALID_ARGUMENT\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("imprecise_outcomes_total{model=\"vision\",outcome=\"completed\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("imprecise_request_seconds_count{model=\"vision\"} 4\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE imprecise_queue_seconds histogram"), std::string::npos);
  EXPECT_NE(text.find("imprecise_decision_seconds_count"), std::string::npos);
}

// A request a front end's decoder refused counts as a request and a response of its model, and its
// time from arrival (as the front end saw it) goes into the request-time histogram, not zero.
TEST(ServeService, UndecodedRequestsCountWithTheirTimeSinceArrival) {
  InferenceService service(repository());
  service.count_undecoded("vision", Status{StatusCode::invalid_argument, "inputs[0].datatype: INT32"},
                          Clock::now() - 5ms);
  service.count_undecoded("nope", Status{StatusCode::not_found, "model_name: 'nope' is not served"}, Clock::now());
  const std::string text = service.prometheus_text();
  EXPECT_NE(text.find("imprecise_requests_total{model=\"vision\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("imprecise_requests_total{model=\"\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("imprecise_responses_total{model=\"vision\",code=\"INVALID_ARGUMENT\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("imprecise_request_seconds_count{model=\"vision\"} 1\n"), std::string::npos);
  EXPECT_GE(imprecise::testing::metric_value(text, "imprecise_request_seconds_sum{model=\"vision\"}"), 0.005);
  // The first buckets (below 5 ms) stay empty: the time was not recorded as zero.
  EXPECT_EQ(imprecise::testing::metric_value(text, "imprecise_request_seconds_bucket{model=\"vision\",le=\"0.001\"}"), 0.0)
      << text;
}

class ServeRepository : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("imprecise_repo_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "m");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void write_config(const std::string& text) { std::ofstream(dir_ / "m" / "config.json") << text; }
  std::filesystem::path dir_;
};

TEST_F(ServeRepository, ReadsPathsRelativeToTheFolderAndDefaults) {
  write_config(R"({"model": "net.onnx", "default_deadline_ms": 2.5, "labels": ["a", "b"]})");
  const auto models = read_repository(dir_);
  ASSERT_EQ(models.size(), 1u);
  EXPECT_EQ(models[0].name, "m");
  EXPECT_EQ(models[0].model, dir_ / "m" / "net.onnx");
  EXPECT_EQ(models[0].profile, dir_ / "m" / "profile.json");
  EXPECT_EQ(models[0].default_deadline, 2500us);
  EXPECT_EQ(models[0].labels, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(models[0].max_batch, 8);
}

TEST_F(ServeRepository, BadConfigsNameTheFileAndTheKey) {
  using test_support::expect_error;
  write_config(R"({"modle": "x.onnx"})");
  expect_error([&] { read_repository(dir_); }, {"config.json", "modle", "unknown key"});
  write_config(R"({"max_batch": "eight"})");
  expect_error([&] { read_repository(dir_); }, {"config.json", "max_batch"});
  write_config(R"({"default_deadline_ms": -1})");
  expect_error([&] { read_repository(dir_); }, {"default_deadline_ms"});
  write_config(R"({"labels": [1, 2]})");
  expect_error([&] { read_repository(dir_); }, {"labels[0]"});
  write_config(R"({"model": )");
  expect_error([&] { read_repository(dir_); }, {"config.json", "malformed JSON"});
  write_config(R"({})");
  expect_error([&] { InferenceService s(dir_); }, {"model 'm'", "model.onnx", "no such model file"});
  expect_error([&] { read_repository(dir_ / "absent"); }, {"absent", "not a directory"});
  std::filesystem::remove(dir_ / "m" / "config.json");
  expect_error([&] { read_repository(dir_); }, {"no model folder"});
}

TEST_F(ServeRepository, AProfileThatDisagreesWithTheNetworkIsNamed) {
  const auto root = std::filesystem::absolute(data::source_path("models"));
  write_config(R"({"model": ")" + (root / "vision.onnx").string() + R"(", "profile": ")" +
               (root / "voice.profile.json").string() + R"(", "calibration": ")" +
               (root / "lidar.calibration.json").string() + R"("})");
  // Same stage counts (4), different exits' tables: the load succeeds only if the shapes agree; the
  // calibration's temperatures are per exit, so a 4-exit file loads. A 2-stage profile must not.
  std::ofstream(dir_ / "m" / "short.profile.json")
      << R"({"batch_sizes": [1], "stages": [[{"mean_ms": 0.1, "p50_ms": 0.1, "p99_ms": 0.1, "max_ms": 0.1}],)"
         R"([{"mean_ms": 0.1, "p50_ms": 0.1, "p99_ms": 0.1, "max_ms": 0.1}]]})";
  write_config(R"({"model": ")" + (root / "vision.onnx").string() + R"(", "profile": "short.profile.json"})");
  test_support::expect_error([&] { InferenceService s(dir_); }, {"model 'm'", "short.profile.json", "2 stages"});
}

}  // namespace
}  // namespace imprecise::serve
