// InferenceService: validation, the deadline rule, outcome -> status, metrics; one Engine for all models.
#include "imprecise/serve/inference_service.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <mutex>

#include <fmt/core.h>

#include "imprecise/config.hpp"
#include "imprecise/error.hpp"
#include "responder.hpp"
#include "service_metrics.hpp"

namespace imprecise::serve {

namespace {

std::string shape_text(std::span<const std::int64_t> shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += fmt::format("{}{}", i ? ", " : "", shape[i]);
  return s + "]";
}

ModelInfo describe_model(const ModelConfig& config, const nn::MultiExitModel& network) {
  ModelInfo info;
  info.name = config.name;
  info.versions = {config.version};
  info.input.name = network.graph().inputs.front().name;
  info.input.shape.assign(network.input_shape().begin(), network.input_shape().end());
  info.output.name = "logits";
  info.output.shape = {-1, network.classes(network.stages() - 1)};
  info.stages = network.stages();
  info.mandatory_depth = network.mandatory_depth();
  info.default_deadline = config.default_deadline;
  info.labels = network.labels();
  return info;
}

// `accepting`: read when the outcome arrives. Refused at submit while shutting down -> unavailable; shed
// or refused for a full queue otherwise -> resource_exhausted (shed during a drain is still a shed).
StatusCode status_of(const Outcome& o, bool accepting) {
  switch (o.status) {
    case OutcomeStatus::completed: return StatusCode::ok;
    case OutcomeStatus::missed: return StatusCode::deadline_exceeded;
    case OutcomeStatus::rejected:
      return !accepting && o.job == runtime::kNotAdmitted ? StatusCode::unavailable : StatusCode::resource_exhausted;
    case OutcomeStatus::failed: return StatusCode::internal;
  }
  return StatusCode::internal;
}

/// Whole microseconds from `start` to now (a response's total_us).
std::int64_t microseconds_since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
}

}  // namespace

struct InferenceService::Impl {
  ServiceConfig config;
  std::vector<ModelConfig> configs;
  std::vector<ModelInfo> infos;
  std::shared_ptr<runtime::MetricsObserver> engine_metrics = std::make_shared<runtime::MetricsObserver>();
  std::unique_ptr<ServiceMetrics> metrics;
  std::unique_ptr<Responder> responder;  // made before the engine, whose callbacks post to it, and outlives it
  std::unique_ptr<runtime::Engine> engine;
  std::atomic<bool> accepting{true};
  std::once_flag stopped;

  int find(std::string_view name) const {
    for (std::size_t m = 0; m < infos.size(); ++m)
      if (infos[m].name == name) return static_cast<int>(m);
    return -1;
  }
  std::string known_models() const {
    std::string s;
    for (const auto& i : infos) s += (s.empty() ? "" : ", ") + i.name;
    return s;
  }
  /// Checks the input and moves its values into `input`.
  Status validate(InferRequest& r, int m, nn::Tensor& input) const;
  Status deadline_of(const InferRequest& r, int m, Clock::time_point arrival, Clock::time_point& deadline) const;
  InferResponse respond(const InferRequest& r, Status status) const;
};

Status InferenceService::Impl::validate(InferRequest& r, int m, nn::Tensor& input) const {
  const ModelInfo& info = infos[static_cast<std::size_t>(m)];
  if (r.inputs.size() != 1)
    return {StatusCode::invalid_argument,
            fmt::format("inputs: model '{}' takes exactly one input tensor ('{}'), {} sent", info.name, info.input.name,
                        r.inputs.size())};
  InferInput& in = r.inputs.front();
  if (in.name != info.input.name)
    return {StatusCode::invalid_argument,
            fmt::format("inputs[0].name: '{}' is not an input of model '{}' (its input: '{}')", in.name, info.name,
                        info.input.name)};
  if (in.datatype != "FP32")
    return {StatusCode::invalid_argument,
            fmt::format("inputs[0].datatype: '{}' is not accepted, model '{}' takes FP32", in.datatype, info.name)};
  // [1, sample...] or the sample shape alone.
  const std::span<const std::int64_t> sample(info.input.shape.begin() + 1, info.input.shape.end());
  const bool batched = in.shape.size() == info.input.shape.size() && in.shape.front() == 1 &&
                       std::equal(in.shape.begin() + 1, in.shape.end(), sample.begin(), sample.end());
  const bool bare = std::equal(in.shape.begin(), in.shape.end(), sample.begin(), sample.end());
  if (!batched && !bare) {
    std::string want = "[1";
    for (const auto d : sample) want += fmt::format(", {}", d);
    return {StatusCode::invalid_argument,
            fmt::format("inputs[0].shape: {} sent, model '{}' takes {} (one sample per request)", shape_text(in.shape),
                        info.name, want + "]")};
  }
  std::size_t elements = 1;
  for (const auto d : sample) elements *= static_cast<std::size_t>(d);
  if (in.values.size() != elements)
    return {StatusCode::invalid_argument,
            fmt::format("inputs[0]: {} values sent, shape {} needs {}", in.values.size(), shape_text(in.shape), elements)};
  for (std::size_t i = 0; i < in.values.size(); ++i)
    if (!std::isfinite(in.values[i]))
      return {StatusCode::invalid_argument, fmt::format("inputs[0].data[{}]: {} is not a finite number", i, in.values[i])};
  nn::Shape shape{1};
  shape.insert(shape.end(), sample.begin(), sample.end());
  input = nn::Tensor(std::move(shape), std::move(in.values));  // the request's buffer, not a copy
  return {};
}

Status InferenceService::Impl::deadline_of(const InferRequest& r, int m, Clock::time_point arrival,
                                           Clock::time_point& deadline) const {
  const auto max = config.max_deadline;
  std::optional<Clock::time_point> due;
  if (r.deadline && *r.deadline - arrival <= max) due = *r.deadline;  // a transport timeout beyond max: none
  const std::pair<const std::optional<std::int64_t>&, const char*> parameters[] = {
      {r.deadline_us, "parameters.deadline_us"}, {r.timeout_us, "parameters.timeout"}};
  for (const auto& [us, field] : parameters) {
    if (!us) continue;
    if (*us <= 0 || *us > max.count())
      return {StatusCode::invalid_argument,
              fmt::format("{}: {} us is not a deadline (want 1 to {} microseconds)", field, *us, max.count())};
    const auto from_parameter = arrival + std::chrono::microseconds(*us);
    due = due ? std::min(*due, from_parameter) : from_parameter;
  }
  if (!due) due = arrival + configs[static_cast<std::size_t>(m)].default_deadline;
  deadline = *due - config.network_margin;
  if (deadline <= Clock::now())
    return {StatusCode::deadline_exceeded,
            fmt::format("deadline: already past on arrival, after the network margin of {} us",
                        config.network_margin.count())};
  return {};
}

InferResponse InferenceService::Impl::respond(const InferRequest& r, Status status) const {
  InferResponse response;
  response.status = std::move(status);
  response.model = r.model;
  response.version = r.version;
  response.id = r.id;
  return response;
}

InferenceService::InferenceService(const std::filesystem::path& repository, ServiceConfig config)
    : impl_(std::make_unique<Impl>()) {
  Impl& im = *impl_;
  im.config = std::move(config);
  if (im.config.network_margin.count() < 0) throw Error("network margin: must be >= 0 microseconds");
  if (im.config.max_deadline.count() <= 0) throw Error("max deadline: must be > 0 microseconds");
  if (im.config.io_nice < 0 || im.config.io_nice > 19) throw Error(fmt::format("io nice: {} is not 0 to 19", im.config.io_nice));
  im.configs = read_repository(repository);
  std::vector<runtime::ServedModel> served;
  std::vector<std::string> names;
  std::vector<int> exits;
  for (const ModelConfig& c : im.configs) {
    served.push_back(load_served_model(c, im.config.backend));
    im.infos.push_back(describe_model(c, served.back().network));
    names.push_back(c.name);
    exits.push_back(served.back().network.stages());
  }
  im.metrics = std::make_unique<ServiceMetrics>(std::move(names), std::move(exits));
  runtime::EngineConfig engine = im.config.engine;
  engine.keep_logits = true;
  engine.stop = runtime::StopMode::drain;
  engine.observers.push_back(im.engine_metrics);
  im.responder = std::make_unique<Responder>(im.config.io_nice);
  im.engine = std::make_unique<runtime::Engine>(std::move(served), std::move(engine));
}

InferenceService::~InferenceService() { shutdown(); }

bool InferenceService::ready() const { return impl_->accepting.load(); }

bool InferenceService::model_ready(std::string_view name, std::string_view version) const {
  const ModelInfo* info = model(name);
  return ready() && info && (version.empty() || info->versions.front() == version);
}

const ModelInfo* InferenceService::model(std::string_view name) const {
  const int m = impl_->find(name);
  return m < 0 ? nullptr : &impl_->infos[static_cast<std::size_t>(m)];
}

const std::vector<ModelInfo>& InferenceService::models() const { return impl_->infos; }

std::string InferenceService::server_version() const { return IMPRECISE_VERSION; }

void InferenceService::count_undecoded(std::string_view model, const Status& status, Clock::time_point arrival) {
  const int m = impl_->find(model);
  impl_->metrics->on_request(m);
  InferResponse response;
  response.status = status;
  response.total_us = microseconds_since(arrival);
  impl_->metrics->on_response(m, response);
}

void InferenceService::infer(InferRequest request, Done done) {
  Impl& im = *impl_;
  const Clock::time_point arrival = Clock::now();
  const int m = im.find(request.model);
  im.metrics->on_request(m);
  const auto refuse = [&](Status status) {
    InferResponse response = im.respond(request, std::move(status));
    response.total_us = microseconds_since(arrival);
    im.metrics->on_response(m, response);
    done(std::move(response));
  };
  if (!im.accepting.load()) return refuse({StatusCode::unavailable, "the server is shutting down"});
  if (m < 0)
    return refuse({StatusCode::not_found,
                   fmt::format("model_name: '{}' is not served (served: {})", request.model, im.known_models())});
  const ModelInfo& info = im.infos[static_cast<std::size_t>(m)];
  if (!request.version.empty() && request.version != info.versions.front())
    return refuse({StatusCode::not_found, fmt::format("model_version: model '{}' has version '{}', not '{}'", info.name,
                                                      info.versions.front(), request.version)});
  nn::Tensor input;
  if (Status s = im.validate(request, m, input); !s.ok()) return refuse(std::move(s));
  Clock::time_point deadline;
  if (Status s = im.deadline_of(request, m, arrival, deadline); !s.ok()) return refuse(std::move(s));

  // The callback owns what the response needs; it runs once (or inside submit when refused there).
  // The response names the version that served it (the spec's model_version), asked for or not.
  // The engine thread only posts it; the response is built and sent on the responder's thread.
  auto answer = [&im, m, arrival, model = std::move(request.model), version = info.versions.front(),
                 id = std::move(request.id), done = std::move(done)](Outcome o, bool accepting) mutable {
    InferResponse r;
    r.model = std::move(model);
    r.version = std::move(version);
    r.id = std::move(id);
    r.status.code = status_of(o, accepting);
    if (r.status.code != StatusCode::ok)
      r.status.message = o.status == OutcomeStatus::missed
                             ? "missed: the mandatory part did not finish by the deadline"
                             : fmt::format("{}: {}", to_string(o.status), o.message.empty() ? "refused" : o.message);
    r.outcome_known = true;
    r.outcome = o.status;
    r.exit = o.exit;
    r.depth = o.depth;
    r.prediction = o.prediction;
    r.confidence = o.confidence;
    const std::vector<std::string>& labels = im.infos[static_cast<std::size_t>(m)].labels;
    if (o.exit > 0 && o.prediction >= 0) {
      if (static_cast<std::size_t>(o.prediction) < labels.size()) r.label = labels[static_cast<std::size_t>(o.prediction)];
      r.output_shape = {1, static_cast<std::int64_t>(o.logits.size())};
      r.output = std::move(o.logits);
    }
    r.queue_us = o.queued() / 1000;
    r.run_us = o.run / 1000;
    r.total_us = microseconds_since(arrival);
    im.metrics->on_response(m, r);
    done(std::move(r));
  };
  // Whether the service still accepted is read when the outcome arrives, not when it is sent: a job
  // refused for a full queue just before a shutdown is still "resource exhausted".
  im.engine->submit(m, input, deadline, [&im, answer = std::move(answer)](Outcome o) mutable {
    im.responder->post([answer = std::move(answer), o = std::move(o), accepting = im.accepting.load()]() mutable {
      answer(std::move(o), accepting);
    });
  });
}

void InferenceService::shutdown() {
  Impl& im = *impl_;
  im.accepting.store(false);
  std::call_once(im.stopped, [&] {
    im.engine->stop(runtime::StopMode::drain);
    im.responder->close();  // sends what the engine answered last
  });
}

std::string InferenceService::prometheus_text() const {
  return impl_->metrics->text(*impl_->engine_metrics, impl_->engine->control_status());
}

}  // namespace imprecise::serve
