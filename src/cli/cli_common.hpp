// Shared pieces of the imprecise CLI: error types with exit codes, JSON/file helpers, list parsing.
#pragma once

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "imprecise/sim/scenario.hpp"
#include "imprecise/sim/simulator.hpp"

namespace imprecise::cli {

/// Exit codes: bad input (file, field, option value) is the user's to fix; a runtime failure is not.
inline constexpr int kExitOk = 0;
inline constexpr int kExitRuntime = 1;
inline constexpr int kExitInput = 2;

/// Bad input: the message already reads "<file>: <field>: <what>" (or "<option>: <what>").
class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& message) : std::runtime_error(message) {}
};

/// Something failed while running (cannot write output, a worker failed): exit code 1.
class RuntimeFailure : public std::runtime_error {
 public:
  explicit RuntimeFailure(const std::string& message) : std::runtime_error(message) {}
};

/// A subcommand registers its options and, when chosen, leaves the action to run here; running it
/// after parsing (not inside CLI11's callback) keeps our exceptions out of CLI11's error handling.
using Action = std::function<int()>;

void add_plan_command(CLI::App& app, Action& action);
void add_simulate_command(CLI::App& app, Action& action);
void add_sweep_command(CLI::App& app, Action& action);

/// Reads and parses a JSON file; throws InputError naming the file when unreadable or malformed.
nlohmann::json read_json_file(const std::string& path);

/// Splits "a,b,c" (spaces around items allowed); throws InputError naming `option` on an empty item.
std::vector<std::string> split_list(const std::string& text, const std::string& option);
/// Parses "0.5,1,2" into positive finite numbers; throws InputError naming `option` otherwise.
std::vector<double> parse_number_list(const std::string& text, const std::string& option);

/// Checks a policy spec against make_policy's names before any work starts, so a typo fails fast
/// with exit code 2. Throws InputError naming `option`.
void check_policy_spec(const std::string& spec, const std::string& option);

/// Options shared by `simulate` and `sweep` that shape each run.
struct RunOptions {
  std::optional<double> duration_s;  ///< unset: the scenario's duration
  std::optional<double> delta;     ///< unset: eps * Rmax / n per decision
  double eps = RewardQuantum{}.eps;
  std::string figure = to_string(PolicyConfig{}.figure);
  std::string mandatory_figure = to_string(PolicyConfig{}.mandatory_figure);
  std::optional<int> max_batch;      ///< unset: the scenario's
  bool deterministic = false;
  std::string batch_guard = "planned";
  int planning_window = PolicyConfig{}.planning_window;
  bool batch_aware = PolicyConfig{}.batch_aware;
  int shed_pending_limit = PolicyConfig{}.shed_pending_limit;
  bool mandatory_first = PolicyConfig{}.mandatory_first;
  std::string jobs_from = "test";  ///< the split the jobs' content comes from: test or calibration
};
void add_run_options(CLI::App& cmd, RunOptions& options);
/// Validates the options (InputError naming the option) and fills everything but load and seed.
sim::SimConfig make_sim_config(const RunOptions& options);
/// load_scenario with an unreadable file reported like every other input error; with --jobs-from
/// calibration the jobs carry calibration samples (for tuning a baseline without touching the test split).
sim::Scenario load_scenario_checked(const std::string& path, const RunOptions& options);
/// Name check plus one make_policy for the scenario, so a bad spec fails before any run.
void check_policy_for_scenario(const std::string& spec, const sim::Scenario& scenario,
                               const sim::SimConfig& config, const std::string& option);

/// Shortest decimal that reads back as the same double ("1.5", "2", "0.1"), for tables and CSV.
std::string format_number(double value);

}  // namespace imprecise::cli
