// Tables, JSON and CSV of the edge-server experiment.
#include "report.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>

#include <fmt/core.h>

#include "imprecise/error.hpp"
#include "imprecise/sim/scenario.hpp"

namespace edge_server {

using imprecise::sim::SloReport;
using imprecise::sim::StreamMetrics;

std::string run_label(const Comparison& c) {
  return c.controller.empty() ? c.real.policy : c.real.policy + "/" + c.controller;
}

std::string format_table(const std::vector<Comparison>& runs) {
  std::string out = fmt::format("{:<18} {:>5} | {:>8} {:>8} {:>6} {:>6} {:>7} | {:>8} {:>8} | {:>8} {:>8}\n", "policy",
                                "load", "accuracy", "miss", "drop", "depth", "p99 ms", "sim acc", "sim miss", "off acc",
                                "off miss");
  out += std::string(out.size() - 1, '-') + "\n";
  for (const Comparison& c : runs) {
    const StreamMetrics& r = c.real.total;
    const StreamMetrics& s = c.simulated.total;
    const StreamMetrics& o = c.simulated_offline.total;
    out += fmt::format("{:<18} {:>5.2f} | {:>8.3f} {:>8.3f} {:>6.3f} {:>6.2f} {:>7.1f} | {:>8.3f} {:>8.3f} | {:>8.3f} {:>8.3f}\n",
                       run_label(c), c.real.load, r.accuracy, r.miss_ratio, r.drop_ratio, r.mean_depth, r.latency_p99_ms,
                       s.accuracy, s.miss_ratio, o.accuracy, o.miss_ratio);
  }
  return out;
}

std::string format_streams(const std::vector<Comparison>& runs, double load) {
  std::string out;
  for (const Comparison& c : runs) {
    if (c.real.load != load) continue;
    if (out.empty()) {
      out = fmt::format("{:<18}", "load " + fmt::format("{}", load));
      for (const StreamMetrics& s : c.real.streams) out += fmt::format(" | {:^22}", s.name);
      out += "\n" + fmt::format("{:<18}", "policy");
      for (std::size_t i = 0; i < c.real.streams.size(); ++i) out += fmt::format(" | {:>6} {:>6} {:>8}", "acc", "miss", "p99 ms");
      out += "\n";
    }
    out += fmt::format("{:<18}", run_label(c));
    for (const StreamMetrics& s : c.real.streams)
      out += fmt::format(" | {:>6.3f} {:>6.3f} {:>8.1f}", s.accuracy, s.miss_ratio, s.latency_p99_ms);
    out += "\n";
  }
  return out;
}

std::string format_slo_table(const std::vector<Comparison>& runs) {
  std::string out = fmt::format("{:<24} {:>5} | {:>8} {:>7} {:>6} {:>7} {:>7} {:>8} {:>8} {:>8} | {:>8} {:>8}\n",
                                "policy/controller", "load", "util acc", "util", "viol", "p99 ms", "thr/s", "ctl p50",
                                "ctl p99", "cpu p99", "sim uacc", "sim viol");
  out += std::string(out.size() - 1, '-') + "\n";
  for (const Comparison& c : runs) {
    if (!c.real_slo || !c.simulated_slo) continue;
    const SloReport& r = *c.real_slo;
    const SloReport& s = *c.simulated_slo;
    out += fmt::format(
        "{:<24} {:>5.2f} | {:>8.4f} {:>7.4f} {:>6.3f} {:>7.1f} {:>7.1f} {:>8.1f} {:>8.1f} {:>8.1f} | {:>8.4f} {:>8.3f}\n",
        run_label(c), c.real.load, r.utility_accuracy, r.utility, r.slo_violations, r.latency_p99_ms,
        r.throughput_per_s, r.decision_p50_us, r.decision_p99_us, r.decision_cpu_p99_us, s.utility_accuracy,
        s.slo_violations);
  }
  return out +
         "(ctl p50/p99: the controller's decision time, us, on the wall clock; cpu p99: on the deciding thread's CPU "
         "clock, without preemption; utility: SloUtility over the whole run)\n";
}

Agreement agreement(const std::vector<Comparison>& runs) {
  Agreement a;
  for (const Comparison& c : runs) {
    a.accuracy_points = std::max(a.accuracy_points, 100.0 * std::abs(c.real.total.accuracy - c.simulated.total.accuracy));
    a.miss_points = std::max(a.miss_points, 100.0 * std::abs(c.real.total.miss_ratio - c.simulated.total.miss_ratio));
  }
  return a;
}

void write_json(const std::string& path, const std::vector<Comparison>& runs, const nlohmann::json& setup) {
  nlohmann::json list = nlohmann::json::array();
  for (const Comparison& c : runs) {
    nlohmann::json served = nlohmann::json::object();
    for (const auto& [model, profile] : c.served_profiles) served[model] = imprecise::sim::profile_to_json(profile);
    list.push_back({{"policy", c.real.policy}, {"load", c.real.load}, {"real", imprecise::sim::to_json(c.real)},
                    {"simulated", imprecise::sim::to_json(c.simulated)},
                    {"simulated_offline_profile", imprecise::sim::to_json(c.simulated_offline)},
                    {"served_profiles", served}});
    if (c.real_slo) {  // only with --controllers / --load-schedule: plain runs keep their output
      list.back()["controller"] = c.controller.empty() ? "none" : c.controller;
      list.back()["slo"] = {{"real", imprecise::sim::to_json(*c.real_slo)},
                            {"simulated", imprecise::sim::to_json(*c.simulated_slo)},
                            {"simulated_offline_profile", imprecise::sim::to_json(*c.simulated_offline_slo)}};
    }
  }
  const Agreement a = agreement(runs);
  std::ofstream out(path);
  out << nlohmann::json{{"setup", setup},
                        {"max_difference_points", {{"accuracy", a.accuracy_points}, {"miss_ratio", a.miss_points}}},
                        {"runs", list}}
             .dump(1)
      << '\n';
  if (!out) throw imprecise::Error(fmt::format("{}: cannot write", path));
}

void write_csv(const std::string& path, const std::vector<Comparison>& runs) {
  std::ofstream out(path);
  const bool slo = std::any_of(runs.begin(), runs.end(), [](const Comparison& c) { return c.real_slo.has_value(); });
  out << "policy,load,source,stream,jobs,accuracy,miss_ratio,drop_ratio,mean_depth,latency_p99_ms";
  if (slo)
    out << ",controller,utility_accuracy,utility,slo_violations,throughput_per_s,decision_p50_us,decision_p99_us,"
           "decision_cpu_p50_us,decision_cpu_p99_us";
  out << "\n";
  // `report`: the run's SloReport on its total row; null on the per-stream rows (run-wide figures).
  const auto row = [&](const imprecise::sim::SimMetrics& m, const char* source, const StreamMetrics& s,
                       const Comparison& c, const std::optional<SloReport>* report) {
    out << fmt::format("{},{},{},{},{},{:.6f},{:.6f},{:.6f},{:.4f},{:.3f}", m.policy, m.load, source, s.name, s.jobs,
                       s.accuracy, s.miss_ratio, s.drop_ratio, s.mean_depth, s.latency_p99_ms);
    if (slo) {
      out << "," << (c.controller.empty() ? "none" : c.controller);
      if (report != nullptr && report->has_value()) {
        const SloReport& r = **report;
        out << fmt::format(",{:.6f},{:.6f},{:.6f},{:.3f},{:.3f},{:.3f},{:.3f},{:.3f}", r.utility_accuracy, r.utility,
                           r.slo_violations, r.throughput_per_s, r.decision_p50_us, r.decision_p99_us,
                           r.decision_cpu_p50_us, r.decision_cpu_p99_us);
      } else {
        out << ",,,,,,,,";
      }
    }
    out << "\n";
  };
  for (const Comparison& c : runs) {
    for (const auto* m : {&c.real, &c.simulated, &c.simulated_offline}) {
      const char* source = m == &c.real ? "real" : m == &c.simulated ? "simulated" : "simulated_offline";
      const std::optional<SloReport>* report =
          m == &c.real ? &c.real_slo : m == &c.simulated ? &c.simulated_slo : &c.simulated_offline_slo;
      row(*m, source, m->total, c, report);
      for (const StreamMetrics& s : m->streams) row(*m, source, s, c, nullptr);
    }
  }
  if (!out) throw imprecise::Error(fmt::format("{}: cannot write", path));
}

}  // namespace edge_server
