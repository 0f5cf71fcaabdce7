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
  // JSON's reader would stop at a NUL and ignore the rest: refused instead, at its byte.
  expect_invalid(std::string("{\"inputs\": []}\0{\"x\"", 20), "request body: byte 14 is NUL");
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

// Triton's binary tensor data extension: JSON, then each binary input's bytes in input order.
std::string floats_as_bytes(const std::vector<float>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
}

struct BinaryBody {
  std::string body;
  std::string header;  // Inference-Header-Content-Length
};

BinaryBody binary_body(const std::string& json_part, const std::string& tail) {
  return {json_part + tail, std::to_string(json_part.size())};
}

Status decode_binary(const BinaryBody& b, InferRequest& r, OutputEncoding& output) {
  return decode_infer_body(b.body, b.header, "m", "", r, output);
}

void expect_binary_invalid(const BinaryBody& b, const std::string& field) {
  InferRequest r;
  OutputEncoding output = OutputEncoding::json;
  const Status s = decode_binary(b, r, output);
  EXPECT_EQ(s.code, StatusCode::invalid_argument) << b.body;
  EXPECT_NE(s.message.find(field), std::string::npos) << "'" << field << "' not in: " << s.message;
}

TEST(ServeHttpCodec, BinaryInputsAreReadAfterTheJsonInInputOrder) {
  // Three inputs: binary, JSON, binary. The bytes after the JSON go to the binary ones in order.
  const std::string json_part = R"({"inputs": [
      {"name": "a", "shape": [2], "datatype": "FP32", "parameters": {"binary_data_size": 8}},
      {"name": "b", "shape": [1], "datatype": "FP32", "data": [7]},
      {"name": "c", "shape": [1, 3], "datatype": "FP32", "parameters": {"binary_data_size": 12}}],
      "parameters": {"binary_data_output": true}})";
  InferRequest r;
  OutputEncoding output = OutputEncoding::json;
  const Status s =
      decode_binary(binary_body(json_part, floats_as_bytes({1.5f, -2.f}) + floats_as_bytes({3.f, 4.f, 5.25f})), r, output);
  ASSERT_TRUE(s.ok()) << s.message;
  ASSERT_EQ(r.inputs.size(), 3u);
  EXPECT_EQ(r.inputs[0].values, (std::vector<float>{1.5f, -2.f}));
  EXPECT_EQ(r.inputs[1].values, std::vector<float>{7.f});
  EXPECT_EQ(r.inputs[2].values, (std::vector<float>{3.f, 4.f, 5.25f}));
  EXPECT_EQ(r.inputs[2].shape, (std::vector<std::int64_t>{1, 3}));
  EXPECT_EQ(output, OutputEncoding::binary);  // binary_data_output

  // An output's own binary_data overrides binary_data_output, both ways.
  const std::string one = R"({"name": "a", "shape": [1], "datatype": "FP32", "data": [1]})";
  ASSERT_TRUE(decode_infer_body(R"({"inputs": [)" + one + R"(], "parameters": {"binary_data_output": true},
      "outputs": [{"name": "logits", "parameters": {"binary_data": false}}]})",
                                std::nullopt, "m", "", r, output)
                  .ok());
  EXPECT_EQ(output, OutputEncoding::json);
  ASSERT_TRUE(decode_infer_body(R"({"inputs": [)" + one + R"(], "outputs": [{"name": "logits", "parameters": {"binary_data": true}}]})",
                                std::nullopt, "m", "", r, output)
                  .ok());
  EXPECT_EQ(output, OutputEncoding::binary);
  ASSERT_TRUE(decode_infer_body(R"({"inputs": [)" + one + "]}", std::nullopt, "m", "", r, output).ok());
  EXPECT_EQ(output, OutputEncoding::json);  // the default
  // A header that says the whole body is JSON is the same as none.
  const std::string all_json = R"({"inputs": [)" + one + "]}";
  ASSERT_TRUE(decode_infer_body(all_json, std::to_string(all_json.size()), "m", "", r, output).ok());
  EXPECT_EQ(r.inputs[0].values, std::vector<float>{1.f});
}

TEST(ServeHttpCodec, EachBadBinaryBodyNamesItsFieldOrHeader) {
  const std::string input = R"({"inputs": [{"name": "a", "shape": [2], "datatype": "FP32", "parameters": {"binary_data_size": 8}}]})";
  const std::string eight = floats_as_bytes({1.f, 2.f});
  // The header: not a number, signed, or past the body's end.
  for (const std::string header : {"", "12a", "-1", " 5", "99999999999999999999999"})
    expect_binary_invalid({input + eight, header}, "Inference-Header-Content-Length: '" + header.substr(0, 40) + "'");
  expect_binary_invalid({input + eight, std::to_string(input.size() + 9)}, "within the body's");
  // Binary data without the header: named, and the header suggested.
  {
    InferRequest r;
    OutputEncoding output = OutputEncoding::json;
    const Status s = decode_infer_body(input + eight, std::nullopt, "m", "", r, output);
    EXPECT_EQ(s.code, StatusCode::invalid_argument);
    // The bytes after the JSON start with NUL (1.0f, little-endian): named, with the header suggested.
    EXPECT_NE(s.message.find("request body: byte " + std::to_string(input.size()) + " is NUL"), std::string::npos) << s.message;
    EXPECT_NE(s.message.find("Inference-Header-Content-Length header"), std::string::npos) << s.message;
    EXPECT_NE(decode_infer_body(input + "xyz", std::nullopt, "m", "", r, output).message.find("request body: malformed"),
              std::string::npos);
    const Status t = decode_infer_body(input, std::nullopt, "m", "", r, output);
    EXPECT_NE(t.message.find("inputs[0].parameters.binary_data_size: 8 bytes, but 0 bytes"), std::string::npos) << t.message;
    EXPECT_NE(t.message.find("Inference-Header-Content-Length header"), std::string::npos) << t.message;
  }
  // Fewer bytes than claimed, more than the inputs claim, or a count that does not fit the shape.
  expect_binary_invalid(binary_body(input, eight.substr(0, 5)), "inputs[0].parameters.binary_data_size: 8 bytes, but 5");
  expect_binary_invalid(binary_body(input, eight + "xyz"), "3 bytes after the JSON");
  std::string four = input;
  four.replace(four.find(": 8"), 3, ": 4");
  expect_binary_invalid(binary_body(four, eight.substr(0, 4)),
                        "inputs[0].parameters.binary_data_size: 4 bytes sent, but shape and FP32 need 8");
  // A size that is not a byte count.
  for (const std::string size : {"-8", "8.0", "\"8\"", "null"}) {
    std::string bad = input;
    bad.replace(bad.find(": 8"), 3, ": " + size);
    expect_binary_invalid(binary_body(bad, eight), "inputs[0].parameters.binary_data_size: a byte count expected");
  }
  // Data both ways, a datatype the models do not take (named before the bytes), flags that are not booleans.
  std::string both = input;
  both.replace(both.find("\"parameters\""), 0, R"("data": [1, 2], )");
  expect_binary_invalid(binary_body(both, eight), "inputs[0].data: sent beside parameters.binary_data_size");
  std::string int32 = input;
  int32.replace(int32.find("FP32"), 4, "INT32");
  expect_binary_invalid(binary_body(int32, eight), "inputs[0].datatype");
  std::string flag = input;
  flag.replace(flag.size() - 1, 0, R"(, "parameters": {"binary_data_output": 1})");
  expect_binary_invalid(binary_body(flag, eight), "parameters.binary_data_output: true or false expected");
  std::string out_flag = input;
  out_flag.replace(out_flag.size() - 1, 0, R"(, "outputs": [{"name": "logits", "parameters": {"binary_data": "yes"}}])");
  expect_binary_invalid(binary_body(out_flag, eight), "outputs[0].parameters.binary_data: true or false expected");
}

TEST(ServeHttpCodec, ABinaryResponseCarriesTheLogitsAfterTheJson) {
  InferResponse r;
  r.model = "vision";
  r.outcome_known = true;
  r.outcome = imprecise::OutcomeStatus::completed;
  r.exit = 2;
  r.output = {0.5f, -1.25f, 3.f};
  r.output_shape = {1, 3};
  const EncodedBody encoded = encode_infer_body(r, OutputEncoding::binary);
  ASSERT_TRUE(encoded.has_binary());
  ASSERT_EQ(encoded.body.size(), encoded.json_length + 12);
  const json head = json::parse(encoded.body.substr(0, encoded.json_length));
  const json& out = head["outputs"][0];
  EXPECT_EQ(out["name"], "logits");
  EXPECT_EQ(out["shape"], json({1, 3}));
  EXPECT_EQ(out["parameters"]["binary_data_size"], 12);
  EXPECT_FALSE(out.contains("data"));
  EXPECT_EQ(head["parameters"]["exit"], 2);
  EXPECT_EQ(encoded.body.substr(encoded.json_length), floats_as_bytes(r.output));

  // As JSON, the same answer; with no output, nothing binary even when asked.
  const EncodedBody as_json = encode_infer_body(r, OutputEncoding::json);
  EXPECT_FALSE(as_json.has_binary());
  EXPECT_EQ(json::parse(as_json.body)["outputs"][0]["data"], json({0.5, -1.25, 3.0}));
  InferResponse refused;
  refused.model = "m";
  refused.status = {StatusCode::invalid_argument, "inputs: missing"};
  EXPECT_FALSE(encode_infer_body(refused, OutputEncoding::binary).has_binary());
}

}  // namespace
