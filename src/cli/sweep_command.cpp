// `imprecise sweep`: every (policy, load, seed) run of a scenario on a thread pool; sweep.csv, summary.csv, plots.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "cli_common.hpp"
#include "control_options.hpp"
#include "imprecise/core/split.hpp"
#include "imprecise/sim/metrics.hpp"
#include "imprecise/sim/scenario.hpp"
#include "imprecise/sim/simulator.hpp"
#include "imprecise/sim/slo_report.hpp"

namespace imprecise::cli {
namespace {

namespace fs = std::filesystem;

struct SweepOptions {
  std::string scenario;
  std::string policies;
  std::string loads = "0.5,1,1.5,2,3";
  int seeds = 1;
  std::string out;
  int threads = 0;
  bool no_plot = false;
  RunOptions run;
  ControlOptions control;
};

// With the control options, sweep.csv and summary.csv gain these columns (sim::SloReport).
const char* const kSloColumns[] = {"utility", "utility_accuracy", "slo_violations", "throughput_per_s",
                                   "control_decision_p50_us", "control_decision_p99_us"};
std::vector<double> slo_values(const sim::SloReport& r) {
  return {r.utility, r.utility_accuracy, r.slo_violations, r.throughput_per_s, r.decision_p50_us, r.decision_p99_us};
}

struct RunSpec {
  std::string policy;
  double load = 0.0;
  std::uint64_t seed = 0;
};

/// Reports progress on stderr: a redrawn bar on a terminal, otherwise one line per 10% so logs stay short.
class Progress {
 public:
  explicit Progress(int total) : total_(total), tty_(isatty(fileno(stderr)) != 0) {}

  void advance() {
    const std::lock_guard lock(mutex_);
    ++done_;
    if (tty_) {
      constexpr int kWidth = 30;
      const int filled = done_ * kWidth / total_;
      std::fprintf(stderr, "\r[%s%s] %d/%d runs", std::string(static_cast<std::size_t>(filled), '#').c_str(),
                   std::string(static_cast<std::size_t>(kWidth - filled), ' ').c_str(), done_, total_);
      if (done_ == total_) std::fputc('\n', stderr);
    } else {
      const int tenth = done_ * 10 / total_;
      if (tenth > reported_) {
        reported_ = tenth;
        std::fprintf(stderr, "sweep: %d%% (%d/%d runs)\n", tenth * 10, done_, total_);
      }
    }
    std::fflush(stderr);
  }

 private:
  std::mutex mutex_;
  int total_;
  int done_ = 0;
  int reported_ = 0;
  bool tty_;
};

std::string shell_quote(const std::string& text) {
  std::string quoted = "'";
  for (const char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

/// Runs scripts/plot_sweep.py when the system Python has matplotlib; never fails the sweep.
void plot(const fs::path& summary, const fs::path& out_dir) {
  // The Debian interpreter, not the one on PATH: that is where python3-matplotlib lives.
  const std::string python = "/usr/bin/python3";
  const char* env_dir = std::getenv("IMPRECISE_SCRIPTS_DIR");
  const fs::path scripts = env_dir && *env_dir ? fs::path(env_dir) : fs::path(IMPRECISE_SOURCE_DIR) / "scripts";
  const fs::path script = scripts / "plot_sweep.py";
  std::error_code ec;
  if (!fs::exists(python, ec) ||
      std::system((shell_quote(python) + " -c 'import matplotlib' >/dev/null 2>&1").c_str()) != 0) {
    std::fprintf(stderr, "imprecise: note: no /usr/bin/python3 with matplotlib; skipping the plots\n");
    return;
  }
  if (!fs::exists(script, ec)) {
    std::fprintf(stderr, "imprecise: note: %s not found (set IMPRECISE_SCRIPTS_DIR); skipping the plots\n",
                 script.c_str());
    return;
  }
  const std::string command =
      shell_quote(python) + " " + shell_quote(script.string()) + " " + shell_quote(summary.string()) + " " +
      shell_quote(out_dir.string());
  std::fflush(stdout);
  if (std::system(command.c_str()) != 0)
    std::fprintf(stderr, "imprecise: note: plotting failed (%s); the CSV files are complete\n", command.c_str());
}

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream file(path);
  if (!file) throw RuntimeFailure(fmt::format("{}: cannot open for writing", path.string()));
  file << text;
  if (!file.flush()) throw RuntimeFailure(fmt::format("{}: write failed", path.string()));
}

void print_markdown_table(const std::string& title, const std::vector<std::string>& policies,
                          const std::vector<double>& loads,
                          const std::map<std::pair<std::string, double>, double>& values) {
  std::printf("\n%s\n\n| policy |", title.c_str());
  for (const double load : loads) std::printf(" load %s |", format_number(load).c_str());
  std::printf("\n|---|");
  for (std::size_t i = 0; i < loads.size(); ++i) std::printf("---:|");
  std::printf("\n");
  for (const auto& policy : policies) {
    std::printf("| %s |", policy.c_str());
    for (const double load : loads) std::printf(" %.3f |", values.at({policy, load}));
    std::printf("\n");
  }
}

int run_sweep(const SweepOptions& options) {
  const std::vector<std::string> policies = split_list(options.policies, "--policies");
  const std::vector<double> loads = parse_number_list(options.loads, "--loads");
  if (options.seeds < 1) throw InputError("--seeds: must be >= 1");
  if (options.threads < 0) throw InputError("--threads: must be >= 0");
  sim::SimConfig base = make_sim_config(options.run);
  for (const auto& policy : policies) check_policy_spec(policy, "--policies");
  const sim::Scenario scenario = load_scenario_checked(options.scenario, options.run);
  apply_control_options(options.control, scenario, base);
  const bool slo = options.control.active();
  for (const auto& policy : policies) check_policy_for_scenario(policy, scenario, base, "--policies");

  const fs::path out_dir(options.out);
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec || !fs::is_directory(out_dir))
    throw InputError(fmt::format("--out: cannot create directory '{}': {}", options.out, ec.message()));

  // Runs in a fixed order (policy, load, seed); each result lands in its own slot, so the CSV is
  // the same whichever worker finishes first.
  std::vector<RunSpec> runs;
  for (const auto& policy : policies)
    for (const double load : loads)
      for (int s = 1; s <= options.seeds; ++s) runs.push_back({policy, load, static_cast<std::uint64_t>(s)});
  std::vector<sim::SimMetrics> results(runs.size());
  std::vector<sim::SloReport> reports(runs.size());

  const unsigned hardware = std::max(1u, std::thread::hardware_concurrency());
  const unsigned workers = static_cast<unsigned>(
      std::min<std::size_t>(runs.size(), options.threads > 0 ? static_cast<unsigned>(options.threads) : hardware));
  Progress progress(static_cast<int>(runs.size()));
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr first_error;
  std::mutex error_mutex;
  auto worker = [&] {
    while (!failed.load()) {
      const std::size_t i = next.fetch_add(1);
      if (i >= runs.size()) return;
      try {
        sim::SimConfig config = base;
        config.load = runs[i].load;
        config.seed = runs[i].seed;
        config.controller = make_run_controller(options.control, scenario, config);  // fresh: controllers keep state
        const sim::SimResult r = sim::simulate(scenario, runs[i].policy, config);
        results[i] = r.metrics;
        reports[i] = sim::slo_report(r, config.control.utility, config.lanes,
                                     config.controller ? std::string(config.controller->name()) : "");
      } catch (...) {
        const std::lock_guard lock(error_mutex);
        if (!first_error) first_error = std::current_exception();
        failed = true;
        return;
      }
      progress.advance();
    }
  };
  std::vector<std::thread> pool;
  for (unsigned w = 0; w < workers; ++w) pool.emplace_back(worker);
  for (auto& thread : pool) thread.join();
  if (first_error) std::rethrow_exception(first_error);

  // sweep.csv: policy, load, seed first, then the metrics' own columns (minus any repeat of those three).
  const std::vector<std::string> metric_columns = split(sim::csv_header(), ',');
  std::vector<std::size_t> kept;
  for (std::size_t c = 0; c < metric_columns.size(); ++c)
    if (metric_columns[c] != "policy" && metric_columns[c] != "load" && metric_columns[c] != "seed") kept.push_back(c);
  std::string sweep_csv = "policy,load,seed";
  for (const auto c : kept) sweep_csv += "," + metric_columns[c];
  if (slo)
    for (const char* column : kSloColumns) sweep_csv += fmt::format(",{}", column);
  sweep_csv += "\n";
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const auto fields = split(sim::to_csv_row(results[i]), ',');
    sweep_csv += fmt::format("{},{},{}", runs[i].policy, format_number(runs[i].load), runs[i].seed);
    for (const auto c : kept) sweep_csv += "," + (c < fields.size() ? fields[c] : std::string());
    if (slo)
      for (const double v : slo_values(reports[i])) sweep_csv += fmt::format(",{}", format_number(v));
    sweep_csv += "\n";
  }
  write_file(out_dir / "sweep.csv", sweep_csv);

  // summary.csv: the mean over seeds of every numeric metric, in the CSV's column order; the
  // scenario name rides along so the plot can be titled.
  std::vector<std::string> numeric;
  {
    const nlohmann::json sample = sim::to_json(results.front());
    for (const auto c : kept) {
      const auto it = sample.find(metric_columns[c]);
      if (it != sample.end() && it->is_number()) numeric.push_back(metric_columns[c]);
    }
  }
  std::string summary_csv = "scenario,policy,load,seeds";
  for (const auto& column : numeric) summary_csv += "," + column;
  if (slo)
    for (const char* column : kSloColumns) summary_csv += fmt::format(",{}", column);
  summary_csv += "\n";
  std::map<std::pair<std::string, double>, double> accuracy, miss, drop;
  const std::size_t seeds = static_cast<std::size_t>(options.seeds);
  for (std::size_t first = 0; first < runs.size(); first += seeds) {
    std::vector<double> sums(numeric.size(), 0.0);
    for (std::size_t i = first; i < first + seeds; ++i) {
      const nlohmann::json metrics = sim::to_json(results[i]);
      for (std::size_t k = 0; k < numeric.size(); ++k) sums[k] += metrics.at(numeric[k]).get<double>();
    }
    summary_csv += fmt::format("{},{},{},{}", scenario.name, runs[first].policy, format_number(runs[first].load),
                               options.seeds);
    for (std::size_t k = 0; k < numeric.size(); ++k) {
      const double mean = sums[k] / static_cast<double>(seeds);
      summary_csv += fmt::format(",{:.8g}", mean);  // means: 8 digits, not float noise
      const auto key = std::make_pair(runs[first].policy, runs[first].load);
      if (numeric[k] == "accuracy") accuracy[key] = mean;
      if (numeric[k] == "miss_ratio") miss[key] = mean;
      if (numeric[k] == "drop_ratio") drop[key] = mean;
    }
    if (slo) {
      std::vector<double> sums_slo(std::size(kSloColumns), 0.0);
      for (std::size_t i = first; i < first + seeds; ++i) {
        const std::vector<double> v = slo_values(reports[i]);
        for (std::size_t k = 0; k < v.size(); ++k) sums_slo[k] += v[k];
      }
      for (const double sum : sums_slo) summary_csv += fmt::format(",{:.8g}", sum / static_cast<double>(seeds));
    }
    summary_csv += "\n";
  }
  const fs::path summary_path = out_dir / "summary.csv";
  write_file(summary_path, summary_csv);

  const Duration duration = base.duration > 0 ? base.duration : scenario.duration;
  const std::string about = fmt::format("scenario {}, {} seed{}, {} s each", scenario.name, options.seeds,
                                        options.seeds == 1 ? "" : "s", format_number(to_seconds(duration)));
  std::printf("Wrote %s and %s (%zu runs).\n", (out_dir / "sweep.csv").c_str(), summary_path.c_str(), runs.size());
  if (accuracy.size() == policies.size() * loads.size())
    print_markdown_table(fmt::format("Accuracy ({})", about), policies, loads, accuracy);
  if (miss.size() == policies.size() * loads.size())
    print_markdown_table(fmt::format("Miss ratio ({})", about), policies, loads, miss);
  if (drop.size() == policies.size() * loads.size())
    print_markdown_table(fmt::format("Drop ratio ({})", about), policies, loads, drop);

  if (!options.no_plot) plot(summary_path, out_dir);
  return kExitOk;
}

}  // namespace

void add_sweep_command(CLI::App& app, Action& action) {
  auto options = std::make_shared<SweepOptions>();
  auto* cmd = app.add_subcommand(
      "sweep",
      "Run every (policy, load, seed) of a scenario; writes OUT/sweep.csv, OUT/summary.csv (mean over seeds) and,\n"
      "when /usr/bin/python3 has matplotlib, OUT/accuracy_vs_load.png, miss_ratio_vs_load.png, drop_ratio_vs_load.png");
  cmd->add_option("--scenario", options->scenario, "Scenario JSON file")->required();
  cmd->add_option("--policies", options->policies, "Comma-separated policies, e.g. yao-dp,density,edf-full")
      ->required();
  cmd->add_option("--loads", options->loads, "Comma-separated offered loads (> 0)")->capture_default_str();
  cmd->add_option("--seeds", options->seeds, "Seeds per (policy, load): 1..N")->capture_default_str();
  cmd->add_option("--out", options->out, "Output directory (created if missing)")->required();
  cmd->add_option("--threads", options->threads, "Worker threads (0: one per hardware thread)")->capture_default_str();
  cmd->add_flag("--no-plot", options->no_plot, "Skip the matplotlib plots");
  add_run_options(*cmd, options->run);
  add_control_options(*cmd, options->control);
  cmd->callback([options, &action] { action = [options] { return run_sweep(*options); }; });
}

}  // namespace imprecise::cli
