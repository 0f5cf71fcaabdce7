// Baselines: what users run today (full depth, fixed depth, confidence-threshold early exit, FIFO, round robin).
#pragma once

#include "policy_base.hpp"

namespace imprecise {

/// How a baseline picks each job's stopping depth; none of them sheds load.
enum class DepthRule {
  full,       ///< every stage (edf-full, fifo-full, round-robin)
  mandatory,  ///< the mandatory stages only (edf-mandatory)
  fixed,      ///< config.fixed_depth stages (edf-fixed:K)
  threshold,  ///< continue while the last exit's confidence < config.threshold (edf-threshold:T)
};

class BaselinePolicy final : public detail::PolicyBase {
 public:
  /// `breadth_first`: run the job with the fewest finished stages first (round-robin).
  BaselinePolicy(std::span<const Model> models, PolicyConfig config, std::string name, DepthRule rule,
                 detail::JobOrder order, bool breadth_first = false);
  std::string_view name() const override { return name_; }

 protected:
  void plan(Time now) override;
  int pick_head(Time now) override;

 private:
  std::string name_;
  DepthRule rule_;
  bool breadth_first_;
};

}  // namespace imprecise
