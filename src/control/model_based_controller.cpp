// model-based (ours): per model, the setting whose SloUtility a queueing approximation over the profiles
// and the measured arrival rate predicts to be best, with the lanes shared among the models.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "controllers_impl.hpp"
#include "imprecise/control/sac_features.hpp"

namespace imprecise::control::detail {

namespace {

/// A candidate replaces the best so far only when predicted better by this much: they are enumerated
/// from the smallest batch and lanes up, and a larger setting that predicts no real gain would
/// only hold jobs back or take lanes the other models could use.
constexpr double kMargin = 1e-3;
constexpr std::uint64_t kNoRevision = ~std::uint64_t{0};  // no profile's: the first refresh computes every span

/// The prediction for one model and setting (batch b, lanes l), given the lanes' worth of
/// busy time B the other models keep ("background"):
///   concurrency     c = clamp(l + ceil(B), 1, L): the stages run at profile_at(c)
///   service         C = sum of the mandatory stages' p50 at batch b and concurrency c (a full batch:
///                   conservative for latency, and what the capacity needs)
///   capacity        mu = l' x b / C with l' = min(l, L - B), at least 0.1: the lanes the others leave
///   utilisation     rho = lambda / mu (lambda: arrivals / interval)
///   queueing        Wq = rho / (2 (1 - rho)) x C (M/D/1), capped at the slack S = slo - C
///   latency         Wq + C
///   violations      v = 1 when S <= 0; else the loss of an M/M/1/K queue whose room is the jobs that
///                   can still wait and be on time, K = l' x b x S / C: v = (1 - rho) rho^K / (1 - rho^(K+1))
///                   (1 / (K + 1) at rho = 1; tends to the shed share 1 - 1/rho for rho > 1)
///   utility         (1 - v) - w_lat x latency / slo - w_viol x v; accuracy_weighted (the default
///                   objective): (1 - v) x (R(m) + f (R(L) - R(m))) - w_viol x v, R the model's prior per
///                   exit, f = the share of each job's optional work (to full depth L, at batch b) that the
///                   capacity left by the mandatory stages carries: clamp((l' b - lambda C) / (lambda (C_L - C)), 0, 1),
///                   and the demand it puts on the lanes lambda (C + f (C_L - C)) / b
/// Each model picks its best setting given the others' demand lambda x C / b, twice round (coordinate
/// ascent): the lanes all models use together are shared through B, so their summed utilisation fits.
/// A model with no SLO seen yet is scored against 1 s. Everything is sized at construction. The profiles
/// are the host's (ControlObservation::planned_models): in the runtime, what its stages cost while serving.
/// The batching wait it sets is always 0. Holding a batch for a wait w would add its fill time,
/// min(w, (b - 1) / lambda), to the latency and take it off the slack S, so the violations and the
/// latency could only grow; the capacity already counts full batches (a queue long enough to matter
/// fills them without waiting), so the model sees nothing a wait buys: no wait predicts more than none,
/// and scoring waits would only cost time (docs/design.md).
class ModelBasedController final : public Controller {
 public:
  ModelBasedController(std::span<const Model> models, const ControllerConfig& config)
      : built_with_(models), models_(models), config_(config), lanes_(std::max(1, config.lanes)) {
    const int max_batch = std::max(1, config.max_batch);
    for (const int b : kBatchChoices) {
      const int clamped = std::min(b, max_batch);
      if (batches_.empty() || batches_.back() != clamped) batches_.push_back(clamped);
    }
    const std::size_t n = models.size();
    cost_.assign(n * static_cast<std::size_t>(lanes_) * batches_.size(), -1.0);
    full_.assign(cost_.size(), -1.0);
    revisions_.assign(n * static_cast<std::size_t>(lanes_), kNoRevision);
    slo_.assign(n, 0.0);
    rate_.assign(n, 0.0);
    demand_.assign(n, 0.0);
    refresh();
  }

  std::string_view name() const override { return "model-based"; }

  void decide(const ControlObservation& observation, std::span<ModelControl> next) override {
    models_ = planning_models(observation, built_with_);  // in the runtime: the profiles measured while serving
    refresh();
    const std::size_t n = std::min(next.size(), models_.size());
    const double interval = static_cast<double>(observation.interval);
    for (std::size_t m = 0; m < n; ++m) {
      const ModelWindow* w = m < observation.models.size() ? &observation.models[m] : nullptr;
      rate_[m] = (w != nullptr && interval > 0) ? w->arrived / interval : 0.0;  // jobs per ns
      if (w != nullptr && w->slo > 0) slo_[m] = static_cast<double>(w->slo);
      demand_[m] = rate_[m] * std::max(0.0, cost(m, 1, 0));  // batch 1 alone until the first pass chose
    }
    double total = 0.0;
    for (std::size_t m = 0; m < n; ++m) total += demand_[m];
    for (int round = 0; round < 2; ++round)
      for (std::size_t m = 0; m < n; ++m) {
        if (cost(m, 1, 0) < 0) continue;  // no profile: leave the setting alone
        const double background = std::max(0.0, total - demand_[m]);
        Best best;
        for (std::size_t bi = 0; bi < batches_.size(); ++bi)
          for (int l = 1; l <= lanes_; ++l) {
            const int c = concurrency_of(l, background);
            const double service = cost(m, c, bi);
            if (service <= 0) continue;
            const Scored s = predict(prepare(m, bi, c, l, background, service));
            if (s.utility > best.utility + kMargin) best = Best{s.utility, s.demand, batches_[bi], l};
          }
        total += best.demand - demand_[m];
        demand_[m] = best.demand;
        next[m] = ModelControl{best.batch, 0, best.lanes};
      }
  }

 private:
  struct Scored {
    double utility;
    double demand;  // lanes' worth of busy time: lambda x C / b
  };
  struct Best {
    double utility = -1e300;
    double demand = 0.0;
    int batch = 1;
    int lanes = 1;
  };

  /// What a (batch, lanes) setting's prediction is made of: the rates, the utilisation (with log rho, so
  /// that rho^K is one exp) and, for accuracy_weighted, the depth the spare capacity buys.
  struct Setting {
    int b;
    double lambda, slo, lanes, service, rho, log_rho;
    double reward = 0.0, demand = 0.0;  // accuracy_weighted: the depth the spare capacity buys, and its lanes
  };
  Setting prepare(std::size_t m, std::size_t bi, int c, int l, double background, double service) const {
    Setting s{};
    s.b = batches_[bi];
    s.lambda = rate_[m];
    s.slo = slo_[m] > 0 ? slo_[m] : 1e9;
    s.lanes = std::max(0.1, std::min(static_cast<double>(l), lanes_ - background));
    s.service = service;
    s.rho = s.lambda * service / (s.lanes * s.b);
    s.log_rho = s.rho > 0.0 ? std::log(s.rho) : 0.0;
    if (config_.utility.accuracy_weighted) {
      // An anytime policy turns the capacity the mandatory stages leave into depth: the share of each
      // job's optional work (to full depth, at the same batch) that fits buys the prior's gain from the
      // mandatory exit to the last. No latency term (slo_utility.hpp): an answer by its deadline counts.
      const double full = full_cost(m, c, bi);
      const double optional = std::max(0.0, full - service);
      const double spare = s.lanes * s.b - s.lambda * service;
      const double share =
          optional <= 0 ? 1.0 : (s.lambda <= 0 ? 1.0 : std::clamp(spare / (s.lambda * optional), 0.0, 1.0));
      const UtilityModel& u = models_[m].utility;
      const int stages = std::max(1, models_[m].profile.stages());
      s.reward = u.prior(mandatory(m)) + share * (u.prior(stages) - u.prior(mandatory(m)));
      s.demand = s.lambda * (service + share * optional) / s.b;
    } else {
      s.demand = s.lambda * service / s.b;
    }
    return s;
  }

  Scored predict(const Setting& s) const {
    const double slack = s.slo - s.service;
    double violation = 1.0;
    double queueing = std::max(0.0, slack);
    if (slack > 0) {
      if (s.rho < 1.0) queueing = std::min(queueing, s.rho / (2.0 * (1.0 - s.rho)) * s.service);
      const double room = s.lanes * s.b * slack / s.service;
      if (s.rho <= 0.0) {
        violation = 0.0;
      } else if (std::abs(s.rho - 1.0) < 1e-6) {
        violation = 1.0 / (room + 1.0);
      } else {
        const double rk = std::exp(room * s.log_rho);  // rho^room
        violation = std::clamp((1.0 - s.rho) * rk / (1.0 - rk * s.rho), 0.0, 1.0);
      }
    }
    if (config_.utility.accuracy_weighted)
      return {(1.0 - violation) * s.reward - config_.utility.violation * violation, s.demand};
    const double latency = queueing + s.service;
    const double utility = (1.0 - violation) - config_.utility.latency * latency / s.slo - config_.utility.violation * violation;
    return {utility, s.demand};
  }

  int concurrency_of(int l, double background) const {
    return std::clamp(l + static_cast<int>(std::ceil(background - 1e-9)), 1, lanes_);
  }
  /// Full-depth span (ns) of model m at concurrency c and batch batches_[bi]; < 0 when not measured.
  double full_cost(std::size_t m, int c, std::size_t bi) const {
    return full_[span_index(m, c, bi)];
  }

  int mandatory(std::size_t m) const {
    return std::clamp(models_[m].mandatory_depth, 1, std::max(1, models_[m].profile.stages()));
  }
  /// Mandatory span (ns) of model m at concurrency c and batch batches_[bi]; < 0 when not measured.
  double cost(std::size_t m, int c, std::size_t bi) const {
    return cost_[span_index(m, c, bi)];
  }
  std::size_t span_index(std::size_t m, int c, std::size_t bi) const {
    return (m * static_cast<std::size_t>(lanes_) + static_cast<std::size_t>(c - 1)) * batches_.size() + bi;
  }
  /// Recomputes the spans of a profile that changed since (online re-profiling bumps its revision).
  void refresh() {
    for (std::size_t m = 0; m < models_.size(); ++m)
      for (int c = 1; c <= lanes_; ++c) {
        const Profile& p = models_[m].profile_at(c);
        const std::size_t row = m * static_cast<std::size_t>(lanes_) + static_cast<std::size_t>(c - 1);
        if (revisions_[row] == p.revision()) continue;
        revisions_[row] = p.revision();
        for (std::size_t bi = 0; bi < batches_.size(); ++bi) {
          double span = -1.0, full = -1.0;
          if (p.stages() > 0 && batches_[bi] <= p.max_batch()) {
            span = full = 0.0;
            for (int s = 0; s < p.stages(); ++s) {
              const double t = static_cast<double>(p.planned(s, batches_[bi], PlanningFigure::p50));
              if (s < mandatory(m)) span += t;
              full += t;
            }
          }
          cost_[row * batches_.size() + bi] = span;
          full_[row * batches_.size() + bi] = full;
        }
      }
  }

  std::span<const Model> built_with_;
  std::span<const Model> models_;  // this decision's: the host's planning models (planning_models)
  ControllerConfig config_;
  int lanes_;
  std::vector<int> batches_;
  std::vector<double> cost_, full_;  // mandatory and full-depth spans per (model, concurrency, batch)
  std::vector<std::uint64_t> revisions_;
  std::vector<double> slo_;     // last SLO seen per model (ns)
  std::vector<double> rate_;    // arrivals per ns
  std::vector<double> demand_;  // lanes' worth of busy time
};

}  // namespace

std::unique_ptr<Controller> make_model_based(std::span<const Model> models, const ControllerConfig& config) {
  return std::make_unique<ModelBasedController>(models, config);
}

}  // namespace imprecise::control::detail
