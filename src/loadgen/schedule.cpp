// Arrival schedules: synthetic patterns per model, a trace, or a scenario's planned jobs.
#include "imprecise/loadgen/schedule.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <random>

#include <fmt/core.h>

#include "imprecise/error.hpp"
#include "imprecise/sim/jobs.hpp"

namespace imprecise::loadgen {

namespace {

constexpr const char* kPatterns = "periodic, poisson, burst, trace";

std::int64_t ns_of_seconds(double s) { return static_cast<std::int64_t>(std::llround(s * 1e9)); }

void sort_by_time(Schedule& schedule) {
  std::stable_sort(schedule.requests.begin(), schedule.requests.end(),
                   [](const PlannedRequest& a, const PlannedRequest& b) { return a.at_ns < b.at_ns; });
}

// Arrival times in [0, duration) of one model's synthetic stream.
std::vector<std::int64_t> arrivals(const PatternOptions& o, std::mt19937_64& rng) {
  const double period_s = 1.0 / o.rate_hz;
  const std::int64_t end = ns_of_seconds(o.duration_s);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<std::int64_t> times;
  switch (o.pattern) {
    case Pattern::periodic: {
      const double jitter_s = o.jitter_ms / 1e3;
      for (double t = unit(rng) * period_s; t < o.duration_s; t += period_s) {
        const double moved = t + (2.0 * unit(rng) - 1.0) * jitter_s;
        if (moved >= 0.0 && moved < o.duration_s) times.push_back(ns_of_seconds(moved));
      }
      break;
    }
    case Pattern::poisson: {
      std::exponential_distribution<double> gap(o.rate_hz);
      for (double t = gap(rng); t < o.duration_s; t += gap(rng)) times.push_back(ns_of_seconds(t));
      break;
    }
    case Pattern::burst: {
      const double burst_period_s = period_s * o.burst_size;
      for (double t = unit(rng) * burst_period_s; t < o.duration_s; t += burst_period_s)
        times.insert(times.end(), static_cast<std::size_t>(o.burst_size), ns_of_seconds(t));
      break;
    }
    case Pattern::trace: break;  // read from the file instead
  }
  std::sort(times.begin(), times.end());
  times.erase(std::remove_if(times.begin(), times.end(), [end](std::int64_t t) { return t >= end; }), times.end());
  return times;
}

std::string trim(std::string s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t\r") - first + 1);
}

// Rows "time_ms,model"; a first row that is no number is the header.
void read_trace(const PatternOptions& o, Schedule& schedule) {
  std::ifstream in(o.trace_file);
  if (!in) throw Error(fmt::format("--trace: {}: cannot open file", o.trace_file));
  std::string line;
  std::vector<int> next_sample;
  for (int row = 1; std::getline(in, line); ++row) {
    line = trim(line);
    if (line.empty() || line.front() == '#') continue;
    const auto comma = line.find(',');
    const std::string where = fmt::format("{}:{}", o.trace_file, row);
    if (comma == std::string::npos)
      throw Error(fmt::format("{}: want 'time_ms,model', got '{}'", where, line));
    const std::string time_text = trim(line.substr(0, comma)), model = trim(line.substr(comma + 1));
    double time_ms = 0.0;
    try {
      std::size_t used = 0;
      time_ms = std::stod(time_text, &used);
      if (used != time_text.size()) throw std::invalid_argument(time_text);
    } catch (const std::exception&) {
      if (row == 1) continue;  // the header
      throw Error(fmt::format("{}: time_ms: '{}' is not a number", where, time_text));
    }
    if (!std::isfinite(time_ms) || time_ms < 0.0)
      throw Error(fmt::format("{}: time_ms: {} must be >= 0", where, time_text));
    if (model.empty()) throw Error(fmt::format("{}: model: empty", where));
    auto it = std::find(schedule.models.begin(), schedule.models.end(), model);
    if (it == schedule.models.end()) {
      schedule.models.push_back(model);
      schedule.streams.push_back(model);
      next_sample.push_back(0);
      it = schedule.models.end() - 1;
    }
    const int m = static_cast<int>(it - schedule.models.begin());
    int& sample = next_sample[static_cast<std::size_t>(m)];
    schedule.requests.push_back({static_cast<std::int64_t>(std::llround(time_ms * 1e6)), m, m, sample,
                                 static_cast<std::int64_t>(std::llround(o.deadline_ms * 1e3))});
    sample = (sample + 1) % static_cast<int>(o.samples);
  }
  if (schedule.requests.empty()) throw Error(fmt::format("--trace: {}: no rows", o.trace_file));
  sort_by_time(schedule);
  schedule.duration_ns = schedule.requests.back().at_ns + 1;
}

}  // namespace

Pattern parse_pattern(std::string_view name) {
  if (name == "periodic") return Pattern::periodic;
  if (name == "poisson") return Pattern::poisson;
  if (name == "burst") return Pattern::burst;
  if (name == "trace") return Pattern::trace;
  throw Error(fmt::format("--pattern: unknown pattern '{}' (known: {})", name, kPatterns));
}

const char* to_string(Pattern pattern) {
  switch (pattern) {
    case Pattern::periodic: return "periodic";
    case Pattern::poisson: return "poisson";
    case Pattern::burst: return "burst";
    case Pattern::trace: return "trace";
  }
  return "?";
}

Schedule schedule_from_pattern(const PatternOptions& o) {
  if (!(o.deadline_ms > 0.0) || !std::isfinite(o.deadline_ms))
    throw Error(fmt::format("--deadline-ms: {} must be > 0", o.deadline_ms));
  if (o.samples == 0) throw Error("--samples: must be > 0");
  Schedule schedule;
  if (o.pattern == Pattern::trace) {
    if (o.trace_file.empty()) throw Error("--trace: --pattern trace needs a trace file (CSV time_ms,model)");
    read_trace(o, schedule);
    schedule.samples_needed.assign(schedule.models.size(), o.samples);
    return schedule;
  }
  if (o.models.empty()) throw Error("--model: name at least one model");
  if (!(o.rate_hz > 0.0) || !std::isfinite(o.rate_hz)) throw Error(fmt::format("--rate: {} must be > 0", o.rate_hz));
  if (!(o.duration_s > 0.0) || !std::isfinite(o.duration_s))
    throw Error(fmt::format("--duration-s: {} must be > 0", o.duration_s));
  if (!(o.jitter_ms >= 0.0)) throw Error(fmt::format("--jitter-ms: {} must be >= 0", o.jitter_ms));
  if (o.burst_size < 1) throw Error(fmt::format("--burst-size: {} must be >= 1", o.burst_size));
  std::mt19937_64 rng(o.seed);
  schedule.models = o.models;
  schedule.streams = o.models;
  schedule.duration_ns = ns_of_seconds(o.duration_s);
  schedule.samples_needed.assign(o.models.size(), o.samples);
  const auto deadline_us = static_cast<std::int64_t>(std::llround(o.deadline_ms * 1e3));
  for (std::size_t m = 0; m < o.models.size(); ++m) {
    int sample = 0;
    for (const std::int64_t t : arrivals(o, rng)) {
      schedule.requests.push_back({t, static_cast<int>(m), static_cast<int>(m), sample, deadline_us});
      sample = (sample + 1) % static_cast<int>(o.samples);
    }
  }
  sort_by_time(schedule);
  return schedule;
}

Schedule schedule_from_scenario(const sim::Scenario& scenario, double load, std::uint64_t seed, double duration_s) {
  if (!(duration_s > 0.0) || !std::isfinite(duration_s))
    throw Error(fmt::format("--duration-s: {} must be > 0", duration_s));
  const sim::JobPlan plan = sim::plan_jobs(scenario, load, seed, from_seconds(duration_s));
  Schedule schedule;
  for (const auto& model : scenario.models) schedule.models.push_back(model.name);
  for (const auto& stream : scenario.streams) schedule.streams.push_back(stream.name);
  for (const auto& set : scenario.test_sets) schedule.samples_needed.push_back(static_cast<std::size_t>(set.samples()));
  schedule.duration_ns = from_seconds(duration_s);
  for (std::size_t i = 0; i < plan.jobs.size(); ++i) {
    const Job& job = plan.jobs[i];
    schedule.requests.push_back({job.release, static_cast<int>(job.model), job.stream, plan.samples[i],
                                 (job.deadline - job.release) / 1000});
  }
  sort_by_time(schedule);
  return schedule;
}

Schedule shard(const Schedule& schedule, int index, int count) {
  if (count < 1 || index < 0 || index >= count)
    throw Error(fmt::format("--shard: {}/{} is not a shard (want K/N with 0 <= K < N)", index, count));
  Schedule part = schedule;
  part.requests.clear();
  for (std::size_t i = static_cast<std::size_t>(index); i < schedule.requests.size(); i += static_cast<std::size_t>(count))
    part.requests.push_back(schedule.requests[i]);
  return part;
}

}  // namespace imprecise::loadgen
