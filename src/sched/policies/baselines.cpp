// Baselines: fixed stopping rules with EDF, FIFO or breadth-first order; they never shed load.
#include "baselines.hpp"

#include <algorithm>
#include <utility>

namespace imprecise {

BaselinePolicy::BaselinePolicy(std::span<const Model> models, PolicyConfig config, std::string name, DepthRule rule,
                               detail::JobOrder order, bool breadth_first)
    : PolicyBase(models, config, order), name_(std::move(name)), rule_(rule), breadth_first_(breadth_first) {}

void BaselinePolicy::plan(Time) {
  for (detail::PendingJob& p : jobs_) {
    if (p.in_flight) continue;
    const int stages = stages_of(p);
    const int mandatory = std::min(p.job.mandatory_depth, stages);
    int target = stages;
    switch (rule_) {
      case DepthRule::full: target = stages; break;
      case DepthRule::mandatory: target = mandatory; break;
      case DepthRule::fixed: target = std::clamp(config_.fixed_depth, mandatory, stages); break;
      case DepthRule::threshold:
        if (p.done < mandatory) target = mandatory;
        else target = (p.done < stages && p.confidence < config_.threshold) ? p.done + 1 : p.done;
        break;
    }
    p.target = std::max(target, p.done);
  }
}

int BaselinePolicy::pick_head(Time now) {
  if (!breadth_first_) return PolicyBase::pick_head(now);
  int best = -1;
  for (std::size_t i = 0; i < jobs_.size(); ++i) {
    if (!needs_stage(jobs_[i])) continue;
    if (best < 0 || jobs_[i].done < jobs_[best].done) best = static_cast<int>(i);
  }
  return best;
}

}  // namespace imprecise
