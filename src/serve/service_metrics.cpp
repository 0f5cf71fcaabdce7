// The service's Prometheus text exposition (format 0.0.4).
#include "service_metrics.hpp"

#include <fmt/core.h>

namespace imprecise::serve {

namespace {

constexpr StatusCode kCodeOrder[] = {StatusCode::ok,
                                     StatusCode::invalid_argument,
                                     StatusCode::not_found,
                                     StatusCode::deadline_exceeded,
                                     StatusCode::resource_exhausted,
                                     StatusCode::unavailable,
                                     StatusCode::internal};
constexpr OutcomeStatus kOutcomeOrder[] = {OutcomeStatus::completed, OutcomeStatus::missed, OutcomeStatus::rejected,
                                           OutcomeStatus::failed};

void header(std::string& out, const char* name, const char* type, const char* help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

std::int64_t get(const std::atomic<std::int64_t>& a) { return a.load(std::memory_order_relaxed); }

}  // namespace

void SecondsHistogram::record(std::int64_t microseconds) {
  const double s = static_cast<double>(microseconds) * 1e-6;
  std::size_t b = 0;
  while (b < kBounds.size() && s > kBounds[b]) ++b;
  counts_[b].fetch_add(1, std::memory_order_relaxed);
  sum_us_.fetch_add(microseconds, std::memory_order_relaxed);
}

void SecondsHistogram::write(std::string& out, const std::string& name, const std::string& labels) const {
  std::int64_t cumulative = 0;
  for (std::size_t b = 0; b < kBounds.size(); ++b) {
    cumulative += get(counts_[b]);
    out += fmt::format("{}_bucket{{{},le=\"{}\"}} {}\n", name, labels, kBounds[b], cumulative);
  }
  cumulative += get(counts_[kBounds.size()]);
  out += fmt::format("{}_bucket{{{},le=\"+Inf\"}} {}\n", name, labels, cumulative);
  out += fmt::format("{}_sum{{{}}} {}\n", name, labels, static_cast<double>(get(sum_us_)) * 1e-6);
  out += fmt::format("{}_count{{{}}} {}\n", name, labels, cumulative);
}

ServiceMetrics::ServiceMetrics(std::vector<std::string> models, std::vector<int> exits) : names_(std::move(models)) {
  for (std::size_t m = 0; m < names_.size(); ++m) {
    auto p = std::make_unique<PerModel>();
    p->exits = exits[m];
    p->answers = std::make_unique<std::atomic<std::int64_t>[]>(static_cast<std::size_t>(p->exits) + 1);
    models_.push_back(std::move(p));
  }
}

void ServiceMetrics::on_request(int model) {
  if (model < 0) {
    unknown_model_requests_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  models_[static_cast<std::size_t>(model)]->requests.fetch_add(1, std::memory_order_relaxed);
}

void ServiceMetrics::on_response(int model, const InferResponse& r) {
  if (model < 0) return;
  PerModel& p = *models_[static_cast<std::size_t>(model)];
  p.responses[static_cast<std::size_t>(r.status.code)].fetch_add(1, std::memory_order_relaxed);
  if (r.outcome_known) {
    p.outcomes[static_cast<std::size_t>(r.outcome)].fetch_add(1, std::memory_order_relaxed);
    if (r.exit >= 1 && r.exit <= p.exits) p.answers[static_cast<std::size_t>(r.exit)].fetch_add(1, std::memory_order_relaxed);
    p.queue.record(r.queue_us);
    p.run.record(r.run_us);
  }
  p.total.record(r.total_us);
}

std::string ServiceMetrics::text(const runtime::MetricsObserver& engine, const std::optional<ControlStatus>& control) const {
  std::string out;
  header(out, "imprecise_requests_total", "counter", "Inference requests received, by model.");
  for (std::size_t m = 0; m < names_.size(); ++m)
    out += fmt::format("imprecise_requests_total{{model=\"{}\"}} {}\n", names_[m], get(models_[m]->requests));
  out += fmt::format("imprecise_requests_total{{model=\"\"}} {}\n", get(unknown_model_requests_));
  header(out, "imprecise_responses_total", "counter", "Responses by model and status code.");
  for (std::size_t m = 0; m < names_.size(); ++m)
    for (int c = 0; c < kCodes; ++c)
      out += fmt::format("imprecise_responses_total{{model=\"{}\",code=\"{}\"}} {}\n", names_[m], to_string(kCodeOrder[c]),
                         get(models_[m]->responses[static_cast<std::size_t>(kCodeOrder[c])]));
  header(out, "imprecise_outcomes_total", "counter", "Engine outcomes of admitted and refused jobs, by model.");
  for (std::size_t m = 0; m < names_.size(); ++m)
    for (int o = 0; o < kOutcomes; ++o)
      out += fmt::format("imprecise_outcomes_total{{model=\"{}\",outcome=\"{}\"}} {}\n", names_[m],
                         to_string(kOutcomeOrder[o]), get(models_[m]->outcomes[static_cast<std::size_t>(kOutcomeOrder[o])]));
  header(out, "imprecise_answers_total", "counter", "Answers by the exit that gave them (1 = first exit).");
  for (std::size_t m = 0; m < names_.size(); ++m)
    for (int e = 1; e <= models_[m]->exits; ++e)
      out += fmt::format("imprecise_answers_total{{model=\"{}\",exit=\"{}\"}} {}\n", names_[m], e,
                         get(models_[m]->answers[static_cast<std::size_t>(e)]));
  const auto histograms = [&](const char* name, const char* help, SecondsHistogram PerModel::*member) {
    header(out, name, "histogram", help);
    for (std::size_t m = 0; m < names_.size(); ++m)
      ((*models_[m]).*member).write(out, name, fmt::format("model=\"{}\"", names_[m]));
  };
  histograms("imprecise_queue_seconds", "Arrival to the first stage of a job.", &PerModel::queue);
  histograms("imprecise_run_seconds", "Time a job's stages ran on the device.", &PerModel::run);
  histograms("imprecise_request_seconds", "Arrival to answer, every request.", &PerModel::total);

  const runtime::MetricsSnapshot s = engine.snapshot();
  header(out, "imprecise_decision_seconds", "summary", "Time of one scheduling decision (Policy::next).");
  out += fmt::format("imprecise_decision_seconds{{quantile=\"0.5\"}} {}\n", static_cast<double>(s.decision_p50) * 1e-9);
  out += fmt::format("imprecise_decision_seconds{{quantile=\"0.99\"}} {}\n", static_cast<double>(s.decision_p99) * 1e-9);
  out += fmt::format("imprecise_decision_seconds_count {}\n", s.decisions);
  header(out, "imprecise_dispatches_total", "counter", "Batches dispatched to the device.");
  out += fmt::format("imprecise_dispatches_total {}\n", s.dispatches);
  header(out, "imprecise_dispatched_jobs_total", "counter", "Sum of dispatched batch sizes (/ dispatches = mean batch).");
  out += fmt::format("imprecise_dispatched_jobs_total {}\n", s.stage_jobs);
  header(out, "imprecise_shed_total", "counter", "Jobs shed by the policy under overload.");
  out += fmt::format("imprecise_shed_total {}\n", s.dropped);
  header(out, "imprecise_device_busy_seconds_total", "counter", "Time the device ran stages.");
  out += fmt::format("imprecise_device_busy_seconds_total {}\n", static_cast<double>(s.lane_busy) * 1e-9);
  if (control) write_control(out, *control);
  return out;
}

void ServiceMetrics::write_control(std::string& out, const ControlStatus& c) const {
  header(out, "imprecise_control_info", "gauge", "The controller setting batch size, batching wait and lanes.");
  out += fmt::format("imprecise_control_info{{controller=\"{}\"}} 1\n", c.controller);
  header(out, "imprecise_control_intervals_total", "counter", "Control intervals decided.");
  out += fmt::format("imprecise_control_intervals_total {}\n", c.intervals);
  const auto per_model = [&](const char* name, const char* help, auto value) {
    header(out, name, "gauge", help);
    for (std::size_t m = 0; m < names_.size() && m < c.settings.size(); ++m)
      out += fmt::format("{}{{model=\"{}\"}} {}\n", name, names_[m], value(c.settings[m]));
  };
  per_model("imprecise_control_max_batch", "Largest batch the controller allows the model now.",
            [](const ModelControl& s) { return s.max_batch; });
  per_model("imprecise_control_batch_wait_seconds", "How long a batch of the model may wait to fill, now.",
            [](const ModelControl& s) { return static_cast<double>(s.batch_wait) * 1e-9; });
  per_model("imprecise_control_lanes", "Lanes the model may use now (0: every lane).",
            [](const ModelControl& s) { return s.lanes; });
  if (!c.last) return;
  header(out, "imprecise_control_utility", "gauge", "SLO utility of the last control interval.");
  out += fmt::format("imprecise_control_utility {}\n", c.last->utility);
  header(out, "imprecise_control_decision_seconds", "gauge", "Wall time of the controller's last decision.");
  out += fmt::format("imprecise_control_decision_seconds {}\n", static_cast<double>(c.last->decision) * 1e-9);
}

}  // namespace imprecise::serve
