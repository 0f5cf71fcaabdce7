// The gRPC codec alone: ModelInferRequest decoding (each refusal naming its field, the deadline
// parameters) and ModelInferResponse / trailing-metadata encoding.
#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <map>

#include "serve/grpc/grpc_codec.hpp"

namespace imprecise::serve {
namespace {

inference::ModelInferRequest request_of(int n, bool raw) {
  inference::ModelInferRequest r;
  r.set_model_name("m");
  r.set_model_version("2");
  r.set_id("abc");
  auto* in = r.add_inputs();
  in->set_name("x");
  in->set_datatype("FP32");
  in->add_shape(1);
  in->add_shape(n);
  std::vector<float> values(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) values[static_cast<std::size_t>(i)] = 0.5f * static_cast<float>(i);
  if (raw)
    r.add_raw_input_contents(std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float)));
  else
    for (float v : values) in->mutable_contents()->add_fp32_contents(v);
  return r;
}

void expect_invalid(const inference::ModelInferRequest& wire, const std::string& part) {
  InferRequest decoded;
  const Status s = decode_infer_request(wire, decoded);
  EXPECT_EQ(s.code, StatusCode::invalid_argument) << part;
  EXPECT_NE(s.message.find(part), std::string::npos) << "'" << part << "' not in: " << s.message;
}

TEST(ServeGrpcCodec, DecodesRawAndTypedContentsAlike) {
  for (bool raw : {true, false}) {
    InferRequest decoded;
    ASSERT_TRUE(decode_infer_request(request_of(4, raw), decoded).ok());
    EXPECT_EQ(decoded.model, "m");
    EXPECT_EQ(decoded.version, "2");
    EXPECT_EQ(decoded.id, "abc");
    ASSERT_EQ(decoded.inputs.size(), 1u);
    EXPECT_EQ(decoded.inputs[0].name, "x");
    EXPECT_EQ(decoded.inputs[0].datatype, "FP32");
    EXPECT_EQ(decoded.inputs[0].shape, (std::vector<std::int64_t>{1, 4}));
    EXPECT_EQ(decoded.inputs[0].values, (std::vector<float>{0.0f, 0.5f, 1.0f, 1.5f}));
    EXPECT_FALSE(decoded.deadline_us);
    EXPECT_FALSE(decoded.deadline);
  }
}

TEST(ServeGrpcCodec, RefusesMalformedRequestsNamingTheField) {
  auto r = request_of(4, true);
  r.clear_model_name();
  expect_invalid(r, "model_name");
  r = request_of(4, true);
  r.clear_inputs();
  expect_invalid(r, "inputs: 0 tensors");
  r = request_of(4, true);
  r.mutable_inputs(0)->set_datatype("FP16");
  expect_invalid(r, "inputs[0].datatype: 'FP16'");
  r = request_of(4, true);
  r.mutable_inputs(0)->set_shape(1, -3);
  expect_invalid(r, "inputs[0].shape[1]: -3");
  r = request_of(4, true);
  r.mutable_inputs(0)->set_shape(1, std::numeric_limits<std::int64_t>::max());
  expect_invalid(r, "inputs[0].shape[1]");
  r = request_of(4, true);
  r.mutable_raw_input_contents(0)->append("x");
  expect_invalid(r, "raw_input_contents[0]: 17 bytes");
  r = request_of(4, true);
  r.add_raw_input_contents("");
  expect_invalid(r, "raw_input_contents: 2 entries");
  r = request_of(4, false);
  r.mutable_inputs(0)->mutable_contents()->add_fp32_contents(1.0f);
  expect_invalid(r, "inputs[0].contents.fp32_contents: 5 values, but the shape needs 4");
  r = request_of(4, false);
  r.mutable_inputs(0)->mutable_contents()->add_int64_contents(1);
  expect_invalid(r, "inputs[0].contents.int64_contents");
  r = request_of(4, false);
  r.add_raw_input_contents(std::string(16, '\0'));
  expect_invalid(r, "inputs[0].contents: set together with raw_input_contents");
  r = request_of(4, true);
  r.clear_raw_input_contents();
  expect_invalid(r, "inputs[0].contents: no data");
  r = request_of(4, true);
  r.add_outputs()->set_name("probs");
  expect_invalid(r, "outputs[0].name: 'probs'");
  r = request_of(4, true);
  (*r.mutable_parameters())["timeout"].set_double_param(1.5);
  expect_invalid(r, "parameters.timeout");
}

TEST(ServeGrpcCodec, DeadlineParametersArePassedOnAsSent) {
  auto with = [](std::map<std::string, std::int64_t> params) {
    auto r = request_of(2, true);
    for (const auto& [k, v] : params) (*r.mutable_parameters())[k].set_int64_param(v);
    (*r.mutable_parameters())["sequence_id"].set_string_param("ignored");
    InferRequest decoded;
    EXPECT_TRUE(decode_infer_request(r, decoded).ok());
    return decoded;
  };
  InferRequest d = with({{"deadline_us", 2500}});
  EXPECT_EQ(d.deadline_us, 2500);
  EXPECT_FALSE(d.timeout_us);
  d = with({{"timeout", 7000}});
  EXPECT_EQ(d.timeout_us, 7000);
  EXPECT_FALSE(d.deadline_us);
  d = with({{"timeout", 7000}, {"deadline_us", 9000}});  // both passed on: the service takes the earlier
  EXPECT_EQ(d.timeout_us, 7000);
  EXPECT_EQ(d.deadline_us, 9000);
  // Negative, zero and absurd values are the service's to refuse: passed on unchanged.
  d = with({{"deadline_us", -4}});
  EXPECT_EQ(d.deadline_us, -4);
  d = with({{"deadline_us", std::numeric_limits<std::int64_t>::max()}});
  EXPECT_EQ(d.deadline_us, std::numeric_limits<std::int64_t>::max());
  auto r = request_of(2, true);
  (*r.mutable_parameters())["deadline_us"].set_uint64_param(std::numeric_limits<std::uint64_t>::max());
  ASSERT_TRUE(decode_infer_request(r, d).ok());
  EXPECT_EQ(d.deadline_us, std::numeric_limits<std::int64_t>::max());  // clamped, still absurd
}

InferResponse answered() {
  InferResponse a;
  a.model = "vision";
  a.version = "1";
  a.id = "q";
  a.output_shape = {1, 3};
  a.output = {0.25f, -1.0f, 3.5f};
  a.outcome_known = true;
  a.outcome = OutcomeStatus::completed;
  a.exit = 2;
  a.depth = 3;
  a.prediction = 2;
  a.label = "bag";
  a.confidence = 0.75;
  a.queue_us = 11;
  a.run_us = 222;
  a.total_us = 300;
  return a;
}

TEST(ServeGrpcCodec, EncodesTheAnswerAndWhatHappened) {
  inference::ModelInferResponse wire;
  encode_infer_response(answered(), wire);
  EXPECT_EQ(wire.model_name(), "vision");
  EXPECT_EQ(wire.model_version(), "1");
  EXPECT_EQ(wire.id(), "q");
  ASSERT_EQ(wire.outputs_size(), 1);
  EXPECT_EQ(wire.outputs(0).name(), "logits");
  EXPECT_EQ(wire.outputs(0).datatype(), "FP32");
  EXPECT_EQ(std::vector<std::int64_t>(wire.outputs(0).shape().begin(), wire.outputs(0).shape().end()),
            (std::vector<std::int64_t>{1, 3}));
  EXPECT_FALSE(wire.outputs(0).has_contents());  // raw only, as the protocol asks
  ASSERT_EQ(wire.raw_output_contents_size(), 1);
  std::vector<float> logits(3);
  ASSERT_EQ(wire.raw_output_contents(0).size(), 12u);
  std::memcpy(logits.data(), wire.raw_output_contents(0).data(), 12);
  EXPECT_EQ(logits, (std::vector<float>{0.25f, -1.0f, 3.5f}));
  const auto& p = wire.parameters();
  EXPECT_EQ(p.at("exit").int64_param(), 2);
  EXPECT_EQ(p.at("depth").int64_param(), 3);
  EXPECT_EQ(p.at("outcome").string_param(), "completed");
  EXPECT_EQ(p.at("prediction").int64_param(), 2);
  EXPECT_EQ(p.at("label").string_param(), "bag");
  EXPECT_DOUBLE_EQ(p.at("confidence").double_param(), 0.75);
  EXPECT_EQ(p.at("queue_us").int64_param(), 11);
  EXPECT_EQ(p.at("run_us").int64_param(), 222);
  EXPECT_EQ(p.at("total_us").int64_param(), 300);
  // No label: no label parameter.
  InferResponse unlabelled = answered();
  unlabelled.label.clear();
  inference::ModelInferResponse wire2;
  encode_infer_response(unlabelled, wire2);
  EXPECT_EQ(wire2.parameters().count("label"), 0u);
}

TEST(ServeGrpcCodec, AMissedAnswerTravelsAsTrailingMetadata) {
  InferResponse missed = answered();
  missed.status = {StatusCode::deadline_exceeded, "missed"};
  missed.outcome = OutcomeStatus::missed;
  std::map<std::string, std::string> md;
  for (auto& [k, v] : trailing_metadata(missed)) md[k] = v;
  EXPECT_EQ(md.at("imprecise-outcome"), "missed");
  EXPECT_EQ(md.at("imprecise-exit"), "2");
  EXPECT_EQ(md.at("imprecise-depth"), "3");
  EXPECT_EQ(md.at("imprecise-prediction"), "2");
  EXPECT_EQ(md.at("imprecise-total-us"), "300");
  EXPECT_EQ(md.at("imprecise-shape"), "1,3");
  ASSERT_EQ(md.at("imprecise-logits-bin").size(), 12u);
  // Refused before the engine: nothing but the status.
  InferResponse refused;
  refused.status = {StatusCode::invalid_argument, "inputs[0].shape: ..."};
  EXPECT_TRUE(trailing_metadata(refused).empty());
}

}  // namespace
}  // namespace imprecise::serve
