// Policy registry: builds a policy from its CLI name ("yao-dp", "edf-fixed:3", "edf-threshold:0.9", ...).
#include <charconv>
#include <cmath>

#include "imprecise/error.hpp"
#include "imprecise/policies/baselines.hpp"
#include "imprecise/policies/density.hpp"
#include "imprecise/policies/yao_dp.hpp"
#include "imprecise/policy.hpp"

namespace imprecise {

std::vector<std::string> policy_names() {
  return {"yao-dp", "density", "edf-full", "edf-mandatory", "edf-fixed:K", "edf-threshold:T",
          "fifo-full", "round-robin", "oracle-utility"};
}

namespace {

double parse_parameter(const std::string& spec, const std::string& text) {
  double value = 0.0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(value))
    throw Error("policy '" + spec + "': parameter '" + text + "' is not a number");
  return value;
}

bool is_known(const std::string& base) {
  for (const std::string& name : policy_names())
    if (name.substr(0, name.find(':')) == base) return true;
  return false;
}

}  // namespace

std::unique_ptr<Policy> make_policy(const std::string& spec, std::span<const Model> models, PolicyConfig config) {
  if (!(config.delta > 0.0) || !std::isfinite(config.delta))
    throw Error("policy '" + spec + "': delta must be > 0");
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
  using detail::JobOrder;
  const bool takes_parameter = base == "edf-fixed" || base == "edf-threshold";
  if (has_parameter && !takes_parameter && is_known(base))
    throw Error("policy '" + spec + "': '" + base + "' takes no parameter");

  if (base == "yao-dp") return std::make_unique<YaoDpPolicy>(models, config);
  if (base == "oracle-utility") return std::make_unique<YaoDpPolicy>(models, config, detail::RewardSource::oracle);
  if (base == "density") return std::make_unique<DensityPolicy>(models, config);
  if (base == "edf-full")
    return std::make_unique<BaselinePolicy>(models, config, spec, DepthRule::full, JobOrder::earliest_deadline);
  if (base == "edf-mandatory")
    return std::make_unique<BaselinePolicy>(models, config, spec, DepthRule::mandatory, JobOrder::earliest_deadline);
  if (base == "fifo-full")
    return std::make_unique<BaselinePolicy>(models, config, spec, DepthRule::full, JobOrder::first_released);
  if (base == "round-robin")
    return std::make_unique<BaselinePolicy>(models, config, spec, DepthRule::full, JobOrder::earliest_deadline,
                                            /*breadth_first=*/true);
  if (base == "edf-fixed") {
    if (has_parameter) {
      const double k = parse_parameter(spec, parameter);
      if (k < 1 || k != std::floor(k)) throw Error("policy '" + spec + "': K must be a whole number >= 1");
      config.fixed_depth = static_cast<int>(k);
    }
    return std::make_unique<BaselinePolicy>(models, config, spec, DepthRule::fixed, JobOrder::earliest_deadline);
  }
  if (base == "edf-threshold") {
    if (has_parameter) {
      const double t = parse_parameter(spec, parameter);
      if (t < 0.0 || t > 1.0) throw Error("policy '" + spec + "': T must be in [0, 1]");
      config.threshold = t;
    }
    return std::make_unique<BaselinePolicy>(models, config, spec, DepthRule::threshold, JobOrder::earliest_deadline);
  }
  std::string known;
  for (const auto& n : policy_names()) known += (known.empty() ? "" : ", ") + n;
  throw Error("unknown policy '" + spec + "' (known: " + known + ")");
}

}  // namespace imprecise
