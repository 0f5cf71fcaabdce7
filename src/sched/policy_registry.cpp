// Policy registry: one table of {name, parameter, factory}; make_policy and policy_names() both read it.
#include <charconv>
#include <cmath>
#include <string_view>

#include "imprecise/error.hpp"
#include "policies/baselines.hpp"
#include "policies/density.hpp"
#include "policies/yao_dp.hpp"
#include "imprecise/sched/policy.hpp"

namespace imprecise {

namespace {

double parse_parameter(const std::string& spec, const std::string& text) {
  double value = 0.0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(value))
    throw Error("policy '" + spec + "': parameter '" + text + "' is not a number");
  return value;
}

using detail::JobOrder;
using Models = std::span<const Model>;

/// One row per policy: its name, the name of its parameter ("" = none; spelled NAME:PARAMETER) and the
/// factory. `parameter` is null when the spec has none (the config's default is used).
struct PolicyEntry {
  std::string_view name;
  std::string_view parameter;
  std::unique_ptr<Policy> (*make)(const std::string& spec, const std::string* parameter, Models models,
                                  PolicyConfig config);
};

std::unique_ptr<Policy> baseline(const std::string& spec, Models models, PolicyConfig config, DepthRule rule,
                                 JobOrder order, bool breadth_first = false) {
  // A baseline budgets every stage alike, as its users would configure it: the mandatory guard is
  // the planners' (on the simulated edge sweep it cost edf-threshold 0.4-0.5 points at loads 4-5).
  config.mandatory_figure = config.figure;
  return std::make_unique<BaselinePolicy>(models, config, spec, rule, order, breadth_first);
}

// The table: policy_names() lists it in this order and make_policy looks names up in it.
constexpr PolicyEntry kPolicies[] = {
    {"yao-dp", "",
     [](const std::string&, const std::string*, Models models, PolicyConfig config) -> std::unique_ptr<Policy> {
       return std::make_unique<YaoDpPolicy>(models, config);
     }},
    {"density", "",
     [](const std::string&, const std::string*, Models models, PolicyConfig config) -> std::unique_ptr<Policy> {
       return std::make_unique<DensityPolicy>(models, config);
     }},
    {"edf-full", "",
     [](const std::string& spec, const std::string*, Models models, PolicyConfig config) {
       return baseline(spec, models, config, DepthRule::full, JobOrder::earliest_deadline);
     }},
    {"edf-mandatory", "",
     [](const std::string& spec, const std::string*, Models models, PolicyConfig config) {
       return baseline(spec, models, config, DepthRule::mandatory, JobOrder::earliest_deadline);
     }},
    {"edf-fixed", "K",
     [](const std::string& spec, const std::string* parameter, Models models, PolicyConfig config) {
       if (parameter != nullptr) {
         const double k = parse_parameter(spec, *parameter);
         if (k < 1 || k != std::floor(k)) throw Error("policy '" + spec + "': K must be a whole number >= 1");
         config.fixed_depth = static_cast<int>(k);
       }
       return baseline(spec, models, config, DepthRule::fixed, JobOrder::earliest_deadline);
     }},
    {"edf-threshold", "T",
     [](const std::string& spec, const std::string* parameter, Models models, PolicyConfig config) {
       if (parameter != nullptr) {
         const double t = parse_parameter(spec, *parameter);
         if (t < 0.0 || t > 1.0) throw Error("policy '" + spec + "': T must be in [0, 1]");
         config.threshold = t;
       }
       return baseline(spec, models, config, DepthRule::threshold, JobOrder::earliest_deadline);
     }},
    {"fifo-full", "",
     [](const std::string& spec, const std::string*, Models models, PolicyConfig config) {
       return baseline(spec, models, config, DepthRule::full, JobOrder::first_released);
     }},
    {"round-robin", "",
     [](const std::string& spec, const std::string*, Models models, PolicyConfig config) {
       return baseline(spec, models, config, DepthRule::full, JobOrder::earliest_deadline, /*breadth_first=*/true);
     }},
    {"oracle-utility", "",
     [](const std::string&, const std::string*, Models models, PolicyConfig config) -> std::unique_ptr<Policy> {
       return std::make_unique<YaoDpPolicy>(models, config, detail::RewardSource::oracle);
     }},
};

}  // namespace

std::vector<std::string> policy_names() {
  std::vector<std::string> names;
  for (const PolicyEntry& entry : kPolicies)
    names.push_back(entry.parameter.empty() ? std::string(entry.name)
                                            : std::string(entry.name) + ":" + std::string(entry.parameter));
  return names;
}

std::unique_ptr<Policy> make_policy(const std::string& spec, std::span<const Model> models, PolicyConfig config) {
  if (!(config.delta.eps > 0.0 && config.delta.eps <= 1.0))
    throw Error("policy '" + spec + "': eps must be in (0, 1]");
  if (!(config.delta.absolute >= 0.0) || !std::isfinite(config.delta.absolute))
    throw Error("policy '" + spec + "': delta must be > 0 (or 0: eps * Rmax / n)");
  if (config.max_batch < 1) throw Error("policy '" + spec + "': max_batch must be >= 1");
  if (config.planning_window < 0) throw Error("policy '" + spec + "': planning_window must be >= 0 (0 = every job)");
  for (const Model& m : models)
    if (m.stages() < 1 || m.mandatory_depth < 1 || m.mandatory_depth > m.stages())
      throw Error("model '" + m.name + "': mandatory depth " + std::to_string(m.mandatory_depth) +
                  " outside [1, " + std::to_string(m.stages()) + "]");

  const auto colon = spec.find(':');
  const std::string base = spec.substr(0, colon);
  const bool has_parameter = colon != std::string::npos;
  const std::string parameter = has_parameter ? spec.substr(colon + 1) : "";
  for (const PolicyEntry& entry : kPolicies) {
    if (entry.name != base) continue;
    if (has_parameter && entry.parameter.empty())
      throw Error("policy '" + spec + "': '" + base + "' takes no parameter");
    return entry.make(spec, has_parameter ? &parameter : nullptr, models, config);
  }
  std::string known;
  for (const auto& n : policy_names()) known += (known.empty() ? "" : ", ") + n;
  throw Error("unknown policy '" + spec + "' (known: " + known + ")");
}

}  // namespace imprecise
