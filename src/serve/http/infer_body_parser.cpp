// A SAX handler that builds the document, except that numbers under inputs[i].data go to InputData.
#include "infer_body_parser.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include <fmt/core.h>

namespace imprecise::serve {

namespace {

using nlohmann::json;

class InferBodySax {
 public:
  InferBodySax(std::size_t body_size, ParsedInferBody& out) : body_size_(body_size), out_(out) {}

  Status status;

  bool null() { return scalar(json(nullptr)); }
  bool boolean(bool value) { return scalar(json(value)); }
  bool number_integer(json::number_integer_t value) { return number(static_cast<double>(value), json(value)); }
  bool number_unsigned(json::number_unsigned_t value) { return number(static_cast<double>(value), json(value)); }
  bool number_float(json::number_float_t value, const std::string&) { return number(value, json(value)); }
  bool string(std::string& value) { return scalar(json(std::move(value))); }
  bool binary(json::binary_t&) { return true; }  // not produced by the JSON reader

  bool start_object(std::size_t) { return open(json::object()); }
  bool start_array(std::size_t) { return open(json::array()); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }
  bool key(std::string& name) {
    if (skip_depth_ == 0 && data_depth_ == 0) stack_.back().key = std::move(name);
    return true;
  }

  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) {
    // e.what(): "[json.exception.parse_error.101] parse error at line 1, column 7: syntax error ...", or
    // "[json.exception.out_of_range.406] number overflow parsing '1e400'".
    std::string what = e.what();
    if (const auto bracket = what.find("] "); bracket != std::string::npos) what = what.substr(bracket + 2);
    if (what.rfind("parse error", 0) == 0)
      if (const auto colon = what.find(": "); colon != std::string::npos) what = what.substr(colon + 2);
    // At the end of input nlohmann reports one byte past it: name the last byte instead.
    status = {StatusCode::invalid_argument,
              fmt::format("request body: malformed or truncated JSON, parsing stopped at byte {} of {}: {}",
                          std::min(position, body_size_), body_size_, what)};
    return false;
  }

 private:
  struct Frame {
    json* node;
    std::string key;  // the key whose value comes next, when node is an object
  };

  int depth() const { return static_cast<int>(stack_.size()) + data_depth_ + skip_depth_; }

  // The next value is inputs[i].data: root {"inputs": [ {... "data": <here>
  bool next_is_input_data() const {
    return stack_.size() == 3 && stack_[0].node->is_object() && stack_[0].key == "inputs" && stack_[1].node->is_array() &&
           stack_[2].node->is_object() && stack_[2].key == "data";
  }

  InputData& begin_data() {
    const std::size_t input = stack_[1].node->size() - 1;  // the object being built is the array's last
    if (out_.data.size() <= input) out_.data.resize(input + 1);
    out_.data[input] = InputData{};  // a repeated "data" key: the last one counts, as in a document
    out_.data[input].present = true;
    data_input_ = input;
    return out_.data[input];
  }
  void end_data() { add(json(nullptr)); }  // the document keeps a placeholder under "data"

  void element_error(std::string what) {
    InputData& d = out_.data[data_input_];
    if (d.status.ok())
      d.status = {StatusCode::invalid_argument,
                  fmt::format("inputs[{}].data[{}]: {}", data_input_, d.values.size(), std::move(what))};
  }
  void element(double value, const json& as_json) {
    if (std::fabs(value) > static_cast<double>(std::numeric_limits<float>::max()))
      return element_error(fmt::format("{} is outside the FP32 range", as_json.dump()));
    out_.data[data_input_].values.push_back(static_cast<float>(value));
  }
  void not_a_number(const json& value) {
    element_error(fmt::format("{} is not a number (FP32 data are JSON numbers; JSON has no NaN or Infinity)",
                              value.dump(-1, ' ', false, json::error_handler_t::replace).substr(0, 40)));
  }

  bool number(double value, json as_json) {
    if (skip_depth_ > 0) return true;
    if (data_depth_ > 0) {
      element(value, as_json);
      return true;
    }
    if (next_is_input_data()) {  // "data": 1.5, one number
      begin_data();
      element(value, as_json);
      end_data();
      return true;
    }
    add(std::move(as_json));
    return true;
  }
  bool scalar(json value) {
    if (skip_depth_ > 0) return true;
    if (data_depth_ > 0) {
      not_a_number(value);
      return true;
    }
    if (next_is_input_data()) {
      begin_data();
      not_a_number(value);
      end_data();
      return true;
    }
    add(std::move(value));
    return true;
  }

  bool open(json container) {
    if (depth() >= kMaxJsonDepth) {
      status = {StatusCode::invalid_argument, fmt::format("request body: JSON nested deeper than {} levels", kMaxJsonDepth)};
      return false;
    }
    if (skip_depth_ > 0) {
      ++skip_depth_;
      return true;
    }
    if (data_depth_ > 0 || next_is_input_data()) {
      if (data_depth_ == 0) begin_data();
      if (container.is_object()) {  // an object among the numbers: named, then skipped whole
        not_a_number(json("an object"));
        ++skip_depth_;
      } else {
        ++data_depth_;
      }
      return true;
    }
    if (stack_.size() == 1 && stack_[0].key == "inputs") out_.data.clear();  // a repeated "inputs": the last counts
    stack_.push_back({add(std::move(container)), {}});
    return true;
  }
  bool close() {
    if (skip_depth_ > 0) {
      if (--skip_depth_ == 0 && data_depth_ == 0) end_data();  // "data": {...}
      return true;
    }
    if (data_depth_ > 0) {
      if (--data_depth_ == 0) end_data();
      return true;
    }
    stack_.pop_back();
    return true;
  }

  // Places `value` in the document (under the pending key or at the end of the array) and returns it.
  json* add(json value) {
    if (stack_.empty()) {
      out_.document = std::move(value);
      return &out_.document;
    }
    Frame& top = stack_.back();
    if (top.node->is_array()) {
      top.node->push_back(std::move(value));
      return &top.node->back();
    }
    json& slot = (*top.node)[top.key];
    slot = std::move(value);
    return &slot;
  }

  std::size_t body_size_;
  ParsedInferBody& out_;
  std::vector<Frame> stack_;  // pointers stay valid: a parent gets no new element while a child is open
  int data_depth_ = 0;        // arrays open inside inputs[data_input_].data
  int skip_depth_ = 0;        // containers open inside an object found among the data
  std::size_t data_input_ = 0;
};

}  // namespace

Status parse_infer_body(std::string_view body, ParsedInferBody& parsed) {
  parsed = ParsedInferBody{};
  InferBodySax sax(body.size(), parsed);
  if (!json::sax_parse(body.begin(), body.end(), &sax) && sax.status.ok())
    sax.status = {StatusCode::invalid_argument, "request body: malformed JSON"};
  return sax.status;
}

}  // namespace imprecise::serve
