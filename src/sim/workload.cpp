// Arrival generators: poisson, periodic with jitter, bursty on/off, and CSV traces; load schedules.
#include "imprecise/sim/workload.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "csv_util.hpp"
#include "imprecise/core/split.hpp"
#include "imprecise/error.hpp"
#include "imprecise/sim/random.hpp"

namespace imprecise::sim {

const char* to_string(ArrivalKind kind) {
  switch (kind) {
    case ArrivalKind::poisson: return "poisson";
    case ArrivalKind::periodic: return "periodic";
    case ArrivalKind::bursty: return "bursty";
    case ArrivalKind::trace: return "trace";
  }
  return "?";
}

ArrivalKind parse_arrival_kind(const std::string& name) {
  for (ArrivalKind k : {ArrivalKind::poisson, ArrivalKind::periodic, ArrivalKind::bursty, ArrivalKind::trace})
    if (name == to_string(k)) return k;
  throw Error(fmt::format("unknown arrival kind '{}' (expected poisson, periodic, bursty or trace)", name));
}

double mean_rate_hz(const StreamSpec& stream) {
  if (stream.kind == ArrivalKind::bursty && stream.on + stream.off > 0)
    return stream.rate_hz * static_cast<double>(stream.on) / static_cast<double>(stream.on + stream.off);
  return stream.rate_hz;
}

std::vector<Time> load_trace_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(fmt::format("{}: cannot open trace file", path));
  std::vector<Time> times;
  std::string line;
  int line_no = 0;
  std::size_t column = 0;
  bool first = true;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line == "\r") continue;
    auto cells = detail::split_csv(line);
    if (first) {
      first = false;
      double probe = 0.0;
      if (!detail::parse_double(cells[0], probe)) {  // a header row
        auto it = std::find(cells.begin(), cells.end(), std::string_view("time_ms"));
        if (it == cells.end()) detail::fail_at(path, line_no, 1, "header has no column 'time_ms'");
        column = static_cast<std::size_t>(it - cells.begin());
        continue;
      }
    }
    const int col = static_cast<int>(column + 1);
    if (cells.size() <= column) detail::fail_at(path, line_no, col, "missing time_ms");
    double ms = 0.0;
    if (!detail::parse_double(cells[column], ms))
      detail::fail_at(path, line_no, col, fmt::format("time_ms must be a number, found '{}'", cells[column]));
    if (ms < 0.0) detail::fail_at(path, line_no, col, fmt::format("time_ms must be >= 0, found {}", ms));
    times.push_back(from_ms(ms));
  }
  std::sort(times.begin(), times.end());
  return times;
}

namespace {

[[noreturn]] void bad(const StreamSpec& s, const char* field, const std::string& what) {
  throw Error(fmt::format("stream '{}': {}: {}", s.name, field, what));
}

void poisson_into(std::vector<Time>& out, Rng& rng, double rate_hz, double from_s, double to_s) {
  double t = from_s;
  while (true) {
    t += rng.exponential(rate_hz);
    if (t >= to_s) break;
    out.push_back(from_seconds(t));
  }
}

// Salt of the thinning uniforms (a stream of its own: the arrivals drawn at peak rate are unchanged).
constexpr std::uint64_t kThinSalt = 0x7468696eULL;

double number_in(const std::string& spec, const std::string& text, const char* what) {
  double v = 0.0;
  if (!detail::parse_double(text, v) || !std::isfinite(v))
    throw Error(fmt::format("load schedule '{}': {} must be a number, found '{}'", spec, what, text));
  return v;
}

}  // namespace

double LoadSchedule::at(Time t) const {
  if (points.empty()) return 1.0;
  if (t <= points.front().first) return points.front().second;
  if (t >= points.back().first) return points.back().second;
  const auto hi = std::upper_bound(points.begin(), points.end(), t,
                                   [](Time x, const std::pair<Time, double>& p) { return x < p.first; });
  const auto lo = hi - 1;
  const double span = static_cast<double>(hi->first - lo->first);
  const double f = span > 0 ? static_cast<double>(t - lo->first) / span : 1.0;
  return lo->second + f * (hi->second - lo->second);
}

double LoadSchedule::peak() const {
  if (points.empty()) return 1.0;
  double p = 0.0;
  for (const auto& [t, load] : points) p = std::max(p, load);
  return p;
}

void validate(const LoadSchedule& schedule, const std::string& field) {
  Time last = 0;
  for (std::size_t i = 0; i < schedule.points.size(); ++i) {
    const auto& [t, load] = schedule.points[i];
    if (t < last) throw Error(fmt::format("{}: point {}: times must be >= 0 and sorted", field, i));
    if (!(load >= 0.0) || !std::isfinite(load))
      throw Error(fmt::format("{}: point {}: the multiplier must be >= 0, got {}", field, i, load));
    last = t;
  }
  if (!schedule.empty() && !(schedule.peak() > 0.0)) throw Error(fmt::format("{}: the peak multiplier must be > 0", field));
}

LoadSchedule parse_load_schedule(const std::string& spec, Duration horizon) {
  if (horizon <= 0) throw Error(fmt::format("load schedule '{}': the run's duration must be > 0", spec));
  const std::vector<std::string> parts = split(spec, ':');
  const std::string& shape = parts.front();
  LoadSchedule s;
  auto expect = [&](std::size_t n, const char* form) {
    if (parts.size() != n) throw Error(fmt::format("load schedule '{}': expected {}", spec, form));
  };
  if (shape == "ramp") {
    expect(3, "ramp:FROM:TO");
    s.points = {{0, number_in(spec, parts[1], "FROM")}, {horizon, number_in(spec, parts[2], "TO")}};
  } else if (shape == "bursts") {
    expect(5, "bursts:BASE:PEAK:PERIOD_S:DUTY");
    const double base = number_in(spec, parts[1], "BASE"), peak = number_in(spec, parts[2], "PEAK");
    const double period_s = number_in(spec, parts[3], "PERIOD_S"), duty = number_in(spec, parts[4], "DUTY");
    if (!(period_s > 0.0)) throw Error(fmt::format("load schedule '{}': PERIOD_S must be > 0", spec));
    if (!(duty >= 0.0 && duty <= 1.0)) throw Error(fmt::format("load schedule '{}': DUTY must be in [0, 1]", spec));
    const Duration period = from_seconds(period_s);
    const Duration on = static_cast<Duration>(std::llround(duty * static_cast<double>(period)));
    if (on <= 0 || on >= period) {  // no edge: a constant
      s.points = {{0, on <= 0 ? base : peak}};
    } else {
      // A square wave as a piecewise-linear curve with 1 ns edges.
      for (Time start = 0; start < horizon; start += period) {
        s.points.push_back({start, peak});
        s.points.push_back({start + on - 1, peak});
        s.points.push_back({start + on, base});
        s.points.push_back({start + period - 1, base});
      }
    }
  } else if (shape == "points") {
    expect(2, "points:T_S=L,T_S=L,...");
    for (const std::string& point : split(parts[1], ',')) {
      const auto eq = point.find('=');
      if (eq == std::string::npos) throw Error(fmt::format("load schedule '{}': '{}' is not T_S=L", spec, point));
      const double t = number_in(spec, point.substr(0, eq), "T_S");
      if (!(t >= 0.0)) throw Error(fmt::format("load schedule '{}': T_S must be >= 0, found {}", spec, t));
      s.points.push_back({from_seconds(t), number_in(spec, point.substr(eq + 1), "L")});
    }
  } else {
    throw Error(fmt::format("load schedule '{}': unknown shape '{}' (expected ramp, bursts or points)", spec, shape));
  }
  validate(s, fmt::format("load schedule '{}'", spec));
  return s;
}

std::vector<std::size_t> thin_by_schedule(std::span<const Time> times, const LoadSchedule& schedule,
                                          std::uint64_t seed) {
  std::vector<std::size_t> kept;
  kept.reserve(times.size());
  const double peak = schedule.peak();
  for (std::size_t i = 0; i < times.size(); ++i) {
    const double u = unit_open(hash_of({seed, static_cast<std::uint64_t>(i), kThinSalt}));
    if (u * peak < schedule.at(times[i])) kept.push_back(i);
  }
  return kept;
}

std::vector<Time> generate_arrivals(const StreamSpec& s, Duration horizon, double rate_scale, std::uint64_t seed) {
  if (horizon < 0) bad(s, "horizon", "must be >= 0");
  if (!(rate_scale > 0.0) || !std::isfinite(rate_scale)) bad(s, "rate_scale", fmt::format("must be > 0, got {}", rate_scale));
  if (s.kind != ArrivalKind::trace && (!(s.rate_hz > 0.0) || !std::isfinite(s.rate_hz)))
    bad(s, "rate_hz", fmt::format("must be > 0, got {}", s.rate_hz));
  Rng rng(seed);
  const double horizon_s = to_seconds(horizon);
  const double rate = s.rate_hz * rate_scale;
  std::vector<Time> out;
  switch (s.kind) {
    case ArrivalKind::poisson:
      out.reserve(static_cast<std::size_t>(rate * horizon_s * 1.1) + 16);
      poisson_into(out, rng, rate, 0.0, horizon_s);
      break;
    case ArrivalKind::periodic: {
      if (s.jitter < 0) bad(s, "jitter_ms", "must be >= 0");
      const double period = 1.0 / rate;
      const double jitter_s = to_seconds(s.jitter);
      // A random phase keeps streams of equal rate from arriving in lock-step.
      for (double t = rng.uniform() * period; t < horizon_s; t += period) {
        const double j = jitter_s > 0.0 ? rng.uniform(-jitter_s, jitter_s) : 0.0;
        const double at = t + j;
        if (at >= 0.0 && at < horizon_s) out.push_back(from_seconds(at));
      }
      break;
    }
    case ArrivalKind::bursty: {
      if (s.on <= 0) bad(s, "on_ms", "must be > 0");
      if (s.off < 0) bad(s, "off_ms", "must be >= 0");
      const double on = to_seconds(s.on), cycle = to_seconds(s.on + s.off);
      // Random phase in the on/off cycle, so the run does not always start inside a burst.
      for (double start = -rng.uniform() * cycle; start < horizon_s; start += cycle) {
        const double from = std::max(start, 0.0), to = std::min(start + on, horizon_s);
        if (to > from) poisson_into(out, rng, rate, from, to);
      }
      break;
    }
    case ArrivalKind::trace: {
      if (s.trace_file.empty()) bad(s, "trace", "a trace stream needs a trace file");
      for (Time t : load_trace_csv(s.trace_file)) {
        const Time at = static_cast<Time>(std::llround(static_cast<double>(t) / rate_scale));
        if (at < horizon) out.push_back(at);
      }
      break;
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace imprecise::sim
