// The v2 JSON codec on its own (no server): what a good body decodes into, what each bad one is refused
// with, and the response body's shape.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "http_codec.hpp"

namespace {

using namespace imprecise::serve;
using nlohmann::json;

Status decode(const std::string& body, InferRequest& r) { return decode_infer_json(body, "m", "2", r); }

void expect_invalid(const std::string& body, const std::string& field) {
  InferRequest r;
  const Status s = decode(body, r);
  EXPECT_EQ(s.code, StatusCode::invalid_argument) << body;
  EXPECT_NE(s.message.find(field), std::string::npos) << "'" << field << "' not in: " << s.message;
}

TEST(ServeHttpCodec, NestedDataIsReadRowMajorWithTheParameters) {
  InferRequest r;
  const Status s = decode(R"({"id": "x1", "parameters": {"deadline_us": 2500, "priority": 3},
      "inputs": [{"name": "in", "shape": [1, 2, 3], "datatype": "FP32", "data": [[[1, 2, 3], [4.5, -5, 6e-1]]]}],
      "outputs": [{"name": "logits", "parameters": {"binary_data": true}}]})",
                          r);
  ASSERT_TRUE(s.ok()) << s.message;
  EXPECT_EQ(r.model, "m");
  EXPECT_EQ(r.version, "2");
  EXPECT_EQ(r.id, "x1");
  ASSERT_TRUE(r.deadline_us);
  EXPECT_EQ(*r.deadline_us, 2500);
  EXPECT_FALSE(r.timeout_us);
  EXPECT_FALSE(r.deadline);  // HTTP has no transport deadline
  ASSERT_EQ(r.inputs.size(), 1u);
  EXPECT_EQ(r.inputs[0].shape, (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_EQ(r.inputs[0].values, (std::vector<float>{1, 2, 3, 4.5f, -5, 0.6f}));
}

TEST(ServeHttpCodec, TritonsTimeoutIsTheDeadlineNamedAsSuch) {
  InferRequest r;
  ASSERT_TRUE(decode(R"({"parameters": {"timeout": 7}, "inputs": []})", r).ok());
  EXPECT_EQ(*r.timeout_us, 7);
  EXPECT_FALSE(r.deadline_us);
  ASSERT_TRUE(decode(R"({"parameters": {"timeout": -7}, "inputs": []})", r).ok());  // the service refuses it
  EXPECT_EQ(*r.timeout_us, -7);
  InferRequest both;  // both passed on, as over gRPC: the service takes the earlier
  ASSERT_TRUE(decode(R"({"parameters": {"timeout": 7, "deadline_us": 9}, "inputs": []})", both).ok());
  EXPECT_EQ(*both.timeout_us, 7);
  EXPECT_EQ(*both.deadline_us, 9);
}

TEST(ServeHttpCodec, EachBadBodyNamesItsField) {
  expect_invalid(R"({"inputs": 3})", "inputs: an array expected");
  expect_invalid(R"({})", "inputs: missing");
  expect_invalid(R"({"id": 5, "inputs": []})", "id: a string expected");
  expect_invalid(R"({"parameters": [], "inputs": []})", "parameters: an object expected");
  expect_invalid(R"({"inputs": [{"shape": [1], "datatype": "FP32", "data": [1]}]})", "inputs[0].name: missing");
  expect_invalid(R"({"inputs": [{"name": "a", "datatype": "FP32", "data": [1]}]})", "inputs[0].shape: missing");
  expect_invalid(R"({"inputs": [{"name": "a", "shape": [1, -2], "datatype": "FP32", "data": [1]}]})", "inputs[0].shape[1]");
  expect_invalid(R"({"inputs": [{"name": "a", "shape": [65536, 65536], "datatype": "FP32", "data": []}]})",
                 "inputs[0].shape[1]");
  expect_invalid(R"({"inputs": [{"name": "a", "shape": [1], "datatype": "FP32"}]})", "inputs[0].data: missing");
  expect_invalid(R"({"inputs": [{"name": "a", "shape": [1], "datatype": "BYTES", "data": ["x"]}]})", "inputs[0].datatype");
  expect_invalid(R"({"inputs": [{"name": "a", "shape": [2], "datatype": "FP32", "data": [[1], [true]]}]})",
                 "inputs[0].data[1]");
  expect_invalid(R"({"inputs": [{"name": "a", "shape": [3], "datatype": "FP32", "data": [1, 2]}]})",
                 "inputs[0].data: 2 values sent, but shape [3] needs 3");
  expect_invalid(R"({"inputs": [], "outputs": [{"name": "probs"}]})", "outputs[0].name");
  expect_invalid(R"({"inputs": [], "parameters": {"deadline_us": 1.5}})", "parameters.deadline_us");
  expect_invalid(R"({"inputs": [{"name": "a", "shape": [1], "datatype": "FP32", "data": [1]}, 7]})", "inputs[1]");
  expect_invalid("{\"inputs\": [\"\xff\"]}", "request body: malformed");  // not UTF-8
}

TEST(ServeHttpCodec, DataIsReadInOnePassWithTheDocumentsRules) {
  InferRequest r;
  // One number as the data of a one-element tensor.
  ASSERT_TRUE(decode(R"({"inputs": [{"name": "a", "shape": [1], "datatype": "FP32", "data": 2.5}]})", r).ok());
  EXPECT_EQ(r.inputs[0].values, std::vector<float>{2.5f});
  // A repeated key: the last one counts, for "data" as for any other key.
  ASSERT_TRUE(decode(R"({"inputs": [{"name": "a", "shape": [2], "datatype": "FP32", "data": [9, 9, 9], "data": [1, 2]}]})", r).ok());
  EXPECT_EQ(r.inputs[0].values, (std::vector<float>{1, 2}));
  ASSERT_TRUE(decode(R"({"inputs": [{"name": "a", "shape": [1], "datatype": "FP32", "data": [7]}],
                         "inputs": [{"name": "b", "shape": [1], "datatype": "FP32", "data": [8]}]})", r).ok());
  ASSERT_EQ(r.inputs.size(), 1u);
  EXPECT_EQ(r.inputs[0].name, "b");
  EXPECT_EQ(r.inputs[0].values, std::vector<float>{8});
  // Data of the second input does not stand in for the first's.
  expect_invalid(R"({"inputs": [{"name": "a", "shape": [1], "datatype": "FP32"},
                                {"name": "b", "shape": [1], "datatype": "FP32", "data": [1]}]})", "inputs[0].data: missing");
  // An object among the numbers is named by its index and skipped whole (its numbers are not data).
  expect_invalid(R"({"inputs": [{"name": "a", "shape": [3], "datatype": "FP32", "data": [1, {"x": [2, 3]}, 4]}]})",
                 "inputs[0].data[1]");
  // "data" elsewhere than in an input is an ordinary (unknown) key.
  expect_invalid(R"({"inputs": [], "data": [1]})", "data: unknown key");
  // The datatype is named before what its data holds.
  expect_invalid(R"({"inputs": [{"name": "a", "shape": [1], "data": ["x"], "datatype": "BYTES"}]})", "inputs[0].datatype");
}

TEST(ServeHttpCodec, TheResponseCarriesTheLogitsAndWhatHappened) {
  InferResponse r;
  r.model = "vision";
  r.version = "1";
  r.id = "abc";
  r.outcome_known = true;
  r.outcome = imprecise::OutcomeStatus::missed;
  r.status = {StatusCode::deadline_exceeded, "missed: the mandatory part did not finish by the deadline"};
  r.exit = 1;
  r.depth = 1;
  r.prediction = 1;
  r.label = "b";
  r.confidence = 0.75;
  r.queue_us = 10;
  r.run_us = 20;
  r.total_us = 40;
  r.output = {0.5f, 1.5f};
  r.output_shape = {1, 2};
  const json body = json::parse(encode_infer_json(r));
  EXPECT_EQ(body["model_name"], "vision");
  EXPECT_EQ(body["model_version"], "1");
  EXPECT_EQ(body["id"], "abc");
  EXPECT_NE(body["error"].get<std::string>().find("missed"), std::string::npos);  // an error, with its best answer
  EXPECT_EQ(body["outputs"][0]["name"], "logits");
  EXPECT_EQ(body["outputs"][0]["shape"], json({1, 2}));
  EXPECT_EQ(body["outputs"][0]["data"], json({0.5, 1.5}));
  const json& p = body["parameters"];
  EXPECT_EQ(p["outcome"], "missed");
  EXPECT_EQ(p["status"], "DEADLINE_EXCEEDED");
  EXPECT_EQ(p["exit"], 1);
  EXPECT_EQ(p["label"], "b");
  EXPECT_EQ(p["total_us"], 40);

  InferResponse refused;
  refused.model = "m";
  refused.status = {StatusCode::invalid_argument, "inputs: missing"};
  const json small = json::parse(encode_infer_json(refused));
  EXPECT_EQ(small["error"], "inputs: missing");
  EXPECT_FALSE(small.contains("outputs"));
  EXPECT_FALSE(small.contains("parameters"));
  EXPECT_EQ(json::parse(error_json("x \"quoted\"")), json({{"error", "x \"quoted\""}}));
}

}  // namespace
