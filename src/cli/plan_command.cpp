// `imprecise plan`: solve one decision point (jobs from a JSON file) with yao-dp, density or exhaustive search.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <initializer_list>
#include <limits>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "cli_common.hpp"
#include "imprecise/sched/planner.hpp"

namespace imprecise::cli {
namespace {

using nlohmann::json;

struct PlanOptions {
  std::string instance;
  std::string policy = "yao-dp";
  std::optional<double> delta;  // unset: eps * Rmax / n
  double eps = RewardQuantum{}.eps;
};

/// One job of the instance, already validated. Costs and rewards are indexed by depth (entry 0 = 0).
struct InstanceJob {
  Time deadline = 0;
  int mandatory = 1;
  std::vector<Duration> cost;
  std::vector<double> reward;
};

struct Instance {
  Time now = 0;
  std::vector<InstanceJob> jobs;
};

/// Validates fields while naming them the way the user wrote them ("jobs[2].cumulative_time[1]").
class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  [[noreturn]] void fail(const std::string& field, const std::string& what) const {
    throw InputError(fmt::format("{}: {}: {}", file_, field, what));
  }

  const json& member(const json& object, const std::string& parent, const char* key) const {
    const auto it = object.find(key);
    if (it == object.end()) fail(join(parent, key), "missing");
    return *it;
  }

  double number(const json& value, const std::string& field) const {
    if (!value.is_number()) fail(field, "must be a number");
    const double v = value.get<double>();
    if (!std::isfinite(v)) fail(field, "must be finite");
    return v;
  }

  /// Times are unitless in the instance and taken as integer nanoseconds; fractions are rounded.
  Time time(const json& value, const std::string& field, bool non_negative) const {
    const double v = number(value, field);
    if (non_negative && v < 0) fail(field, "must be >= 0");
    if (std::fabs(v) > 9.0e18) fail(field, "out of range");
    return static_cast<Time>(std::llround(v));
  }

  int integer(const json& value, const std::string& field) const {
    if (!value.is_number_integer()) fail(field, "must be an integer");
    const auto v = value.get<std::int64_t>();
    if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max()) fail(field, "out of range");
    return static_cast<int>(v);
  }

  /// Instances are a closed format: a key outside `known` (a typo such as "wieght") is an error naming it.
  void only(const json& object, const std::string& parent, std::initializer_list<const char*> known) const {
    for (const auto& item : object.items()) {
      bool ok = false;
      for (const char* k : known) ok = ok || item.key() == k;
      if (ok) continue;
      std::string list;
      for (const char* k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      fail(join(parent, item.key().c_str()), fmt::format("unknown key (known here: {})", list));
    }
  }

  static std::string join(const std::string& parent, const char* key) {
    return parent.empty() ? std::string(key) : parent + "." + key;
  }

 private:
  std::string file_;
};

Instance read_instance(const std::string& path) {
  const json doc = read_json_file(path);
  const Reader in(path);
  if (!doc.is_object()) in.fail("(top level)", "must be an object");
  in.only(doc, "", {"now", "jobs"});
  Instance instance;
  if (const auto it = doc.find("now"); it != doc.end()) instance.now = in.time(*it, "now", false);

  const json& jobs = in.member(doc, "", "jobs");
  if (!jobs.is_array()) in.fail("jobs", "must be an array");
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    const std::string where = fmt::format("jobs[{}]", i);
    const json& entry = jobs[i];
    if (!entry.is_object()) in.fail(where, "must be an object");
    in.only(entry, where, {"deadline", "cumulative_time", "reward", "mandatory", "weight"});
    InstanceJob job;

    job.deadline = in.time(in.member(entry, where, "deadline"), where + ".deadline", false);
    if (job.deadline < instance.now) in.fail(where + ".deadline", "before now");

    const json& times = in.member(entry, where, "cumulative_time");
    if (!times.is_array() || times.empty()) in.fail(where + ".cumulative_time", "must be a non-empty array");
    job.cost.push_back(0);
    for (std::size_t l = 0; l < times.size(); ++l) {
      const std::string field = fmt::format("{}.cumulative_time[{}]", where, l);
      const Time t = in.time(times[l], field, true);
      if (t < job.cost.back()) in.fail(field, "must be non-decreasing (cumulative time)");
      job.cost.push_back(t);
    }

    double weight = 1.0;
    if (const auto it = entry.find("weight"); it != entry.end()) {
      weight = in.number(*it, where + ".weight");
      if (weight < 0) in.fail(where + ".weight", "must be >= 0");
    }

    const json& rewards = in.member(entry, where, "reward");
    if (!rewards.is_array()) in.fail(where + ".reward", "must be an array");
    if (rewards.size() != times.size())
      in.fail(where + ".reward", fmt::format("has {} entries but cumulative_time has {}", rewards.size(), times.size()));
    job.reward.push_back(0.0);
    for (std::size_t l = 0; l < rewards.size(); ++l) {
      const std::string field = fmt::format("{}.reward[{}]", where, l);
      const double r = in.number(rewards[l], field);
      if (r < 0) in.fail(field, "must be >= 0");
      job.reward.push_back(weight * r);
    }

    const int depth = static_cast<int>(times.size());
    if (const auto it = entry.find("mandatory"); it != entry.end()) {
      job.mandatory = in.integer(*it, where + ".mandatory");
      if (job.mandatory < 1 || job.mandatory > depth)
        in.fail(where + ".mandatory", fmt::format("must be in [1, {}]", depth));
    }
    instance.jobs.push_back(std::move(job));
  }
  return instance;
}

int run_plan(const PlanOptions& options) {
  if (options.policy != "yao-dp" && options.policy != "density" && options.policy != "exhaustive")
    throw InputError(fmt::format("--policy: unknown planner '{}' (known: yao-dp, density, exhaustive)", options.policy));
  if (!(options.eps > 0 && options.eps <= 1)) throw InputError("--eps: must be in (0, 1]");
  if (options.delta && (!(*options.delta > 0) || !std::isfinite(*options.delta)))
    throw InputError("--delta: must be > 0");
  const Instance instance = read_instance(options.instance);
  const int n = static_cast<int>(instance.jobs.size());
  if (options.policy == "exhaustive" && n > 12)
    throw InputError(fmt::format("{}: jobs: exhaustive search takes at most 12 jobs, got {}", options.instance, n));

  // Jobs run back to back in deadline order; stable so equal deadlines keep the input order.
  std::vector<int> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return instance.jobs[a].deadline < instance.jobs[b].deadline; });

  PlanProblem problem;
  problem.reset(instance.now);
  for (const int index : order) {
    const auto& job = instance.jobs[index];
    const int depth = static_cast<int>(job.cost.size()) - 1;
    problem.add(job.deadline, 0, job.mandatory, depth, job.cost, job.reward);
  }

  Plan plan;
  if (options.policy == "yao-dp") {
    DpPlanner planner;
    plan = planner.solve(problem, RewardQuantum{.eps = options.eps, .absolute = options.delta.value_or(0.0)});
  } else if (options.policy == "density") {
    DensityPlanner planner;
    plan = planner.solve(problem);
  } else {
    plan = solve_exhaustive(problem);
  }

  // Back to the input order; the reward is recomputed from the chosen depths so that it is the
  // exact (unquantized, weighted) total whatever the planner reports.
  std::vector<int> depths(static_cast<std::size_t>(n), 0);
  json dropped = json::array();
  double total = 0.0;
  for (int k = 0; k < n; ++k) {
    const int index = order[k];
    const int depth = plan.depths.empty() ? 0 : plan.depths[k];
    depths[index] = depth;
    total += problem.reward(k, depth);
  }
  for (int i = 0; i < n; ++i)
    if (depths[i] == 0) dropped.push_back(i);

  nlohmann::ordered_json out = {{"depths", depths},
              {"total_reward", total},
              {"dropped", dropped},
              {"feasible", plan.feasible && problem.feasible(plan.depths)}};
  std::printf("%s\n", out.dump().c_str());
  return kExitOk;
}

}  // namespace

void add_plan_command(CLI::App& app, Action& action) {
  auto options = std::make_shared<PlanOptions>();
  auto* cmd = app.add_subcommand(
      "plan",
      "Plan one decision point: how deep each job of an instance goes.\n"
      "Input JSON: {\"now\": 0, \"jobs\": [{\"deadline\": 18, \"cumulative_time\": [2,3,5,7,9],\n"
      "  \"reward\": [12,15,16,17,17], \"mandatory\": 1, \"weight\": 1}, ...]}\n"
      "Jobs run back to back in deadline order from `now`; times are unitless integers (ns).\n"
      "Output JSON: {\"depths\": [...], \"total_reward\": X, \"dropped\": [...], \"feasible\": true},\n"
      "depths in input order, 0 = dropped.");
  cmd->add_option("--instance", options->instance, "Instance JSON file")->required();
  cmd->add_option("--policy", options->policy, "Planner: yao-dp, density or exhaustive (at most 12 jobs)")
      ->capture_default_str();
  cmd->add_option("--eps", options->eps, "Precision of yao-dp: it quantizes reward by eps * Rmax / n")
      ->capture_default_str();
  cmd->add_option("--delta", options->delta,
                  "A fixed reward quantum for yao-dp instead of eps * Rmax / n; with integer rewards, --delta 1 is exact");
  cmd->callback([options, &action] { action = [options] { return run_plan(*options); }; });
}

}  // namespace imprecise::cli
