// DpPlanner: the Yao et al. DP over (jobs in order) x (quantized reward), as sparse Pareto fronts of earliest finish.
#include "imprecise/sched/dp_planner.hpp"

#include <algorithm>
#include <cassert>
#include <limits>

#include "plan_support.hpp"

namespace imprecise {

namespace {

using detail::begin_plan;
using detail::finish_plan;
using detail::kInfinity;
using detail::lowest_depth_plan;

/// Quantized reward, clamped at 0 so a deeper-but-worse depth never lowers the total. The quotient is
/// positive (reward > 0, delta > 0), so truncating it is its floor, without floor's rounding sequence.
int quantize(double reward, double delta) {
  if (!(reward > 0.0)) return 0;
  return static_cast<int>(reward / delta + 1e-9);
}

/// The largest reward any one job can earn at a depth it may stop at.
double max_reward(const PlanProblem& problem) {
  double best = 0.0;
  for (int i = 0; i < problem.size(); ++i)
    for (int l = problem.lo(i); l <= problem.hi(i); ++l) best = std::max(best, problem.reward(i, l));
  return best;
}

/// eps * rmax / n; nothing to earn: every quantum gives the same (all-zero) rewards, eps keeps delta positive.
double relative_delta_of(double rmax, int n, double eps) {
  if (!(rmax > 0.0) || n == 0) return eps;
  return eps * rmax / n;
}

}  // namespace

double DpPlanner::relative_delta(const PlanProblem& problem, double eps) {
  return relative_delta_of(max_reward(problem), problem.size(), eps);
}

int DpPlanner::min_drops(const PlanProblem& problem) {
  // G[k] = earliest finish of the prefix with k drops, every served job at its lowest depth.
  const int n = problem.size();
  drop_finish_.assign(n + 1, kInfinity);
  drop_next_.assign(n + 1, kInfinity);
  drop_finish_[0] = problem.lane_free(0);
  for (int i = 0; i < n; ++i) {
    std::fill(drop_next_.begin(), drop_next_.end(), kInfinity);
    const Duration c = problem.cost(i, problem.lo(i));
    for (int k = 0; k <= i; ++k) {
      const Time f = drop_finish_[k];
      if (f == kInfinity) continue;
      const Time t = f + c;
      if (c == 0 || t <= problem.deadline(i)) drop_next_[k] = std::min(drop_next_[k], t);
      if (problem.droppable(i)) drop_next_[k + 1] = std::min(drop_next_[k + 1], f);
    }
    std::swap(drop_finish_, drop_next_);
  }
  for (int k = 0; k <= n; ++k)
    if (drop_finish_[k] != kInfinity) return k;
  return -1;
}

void DpPlanner::quantize_rewards(const PlanProblem& problem, int drops, double delta) {
  // Without drops every job earns at least its lowest-depth reward, so only the increments above it
  // are quantized (finer for the same front); with drops the lowest-depth reward is part of what a
  // served job earns and is quantized too.
  const int n = problem.size();
  quant_offset_.resize(n + 1);
  reach_.resize(n + 1);
  quant_.clear();
  reach_[0] = 0;
  for (int i = 0; i < n; ++i) {
    quant_offset_[i] = static_cast<int>(quant_.size());
    const int lo = problem.lo(i);
    const double base = problem.reward(i, lo);
    const int base_q = drops > 0 ? quantize(base, delta) : 0;
    int best = 0;
    for (int l = lo; l <= problem.hi(i); ++l) {
      const int q = base_q + quantize(problem.reward(i, l) - base, delta);
      quant_.push_back(q);
      best = std::max(best, q);
    }
    reach_[i + 1] = reach_[i] + best;
  }
}

const Plan& DpPlanner::solve(const PlanProblem& problem, RewardQuantum quantum) {
  assert(quantum.absolute > 0.0 || quantum.eps > 0.0);
  const int n = problem.size();
  if (begin_plan(problem, plan_)) return plan_;
  if (detail::best_depths_plan_if_all_fit(problem, plan_)) {  // the exact optimum: no DP needed
    last_states_ = 0;
    return plan_;
  }
  const bool lanes = problem.lanes() > 1;  // then LaneFronts runs the DP (one lane: the fronts below)
  int drops = 0;
  if (!problem.mandatory_fits()) {
    drops = lanes ? lane_fronts_.fewest_drops(problem) : min_drops(problem);
    if (drops < 0) {
      lowest_depth_plan(problem, plan_);
      return plan_;
    }
  }
  // latest_[i]: the latest a prefix of i jobs may finish and still leave jobs i.. room at their lowest
  // depth. Once no drop is left, a later state is doomed; pruning it now keeps the fronts short.
  latest_.resize(n + 1);
  latest_[n] = kInfinity;
  for (int i = n - 1; i >= 0; --i) {
    const Duration c = problem.cost(i, problem.lo(i));
    latest_[i] = c > 0 ? std::min(latest_[i + 1], problem.deadline(i)) - c : latest_[i + 1];
  }
  // Branch and bound: the density plan is feasible with the same (fewest) drops, so its quantized
  // reward is reachable; a state that cannot reach it even if every later job earned its most is cut.
  // With a few jobs the fronts stay short: there the bound would cost more than the states it cuts.
  const Plan* greedy = n >= kBoundFromJobs ? &bound_.solve(problem) : nullptr;
  const bool greedy_bounds = greedy != nullptr && greedy->feasible && greedy->dropped == drops;

  const double rmax = max_reward(problem);
  double delta = quantum.absolute > 0.0 ? quantum.absolute : relative_delta_of(rmax, n, quantum.eps);
  for (;;) {
    quantize_rewards(problem, drops, delta);
    bound_quanta_ = 0;
    if (greedy_bounds)
      for (int i = 0; i < n; ++i)
        if (greedy->depths[i] > 0) bound_quanta_ += quant_[quant_offset_[i] + greedy->depths[i] - problem.lo(i)];
    // One lane builds the ceiling only once a front grows past ceiling_from_states_ (merge_into_front).
    ceiling_ready_ = lanes && bound_quanta_ > 0;
    if (ceiling_ready_) ceiling_.build(problem, quant_, quant_offset_);
    // Past rmax every quantum is 0 and a front holds one state (several lanes: the free times' Pareto
    // set, as in fewest_drops): that run needs no cap to end.
    const std::int64_t cap = delta <= rmax ? max_states_ : std::numeric_limits<std::int64_t>::max();
    const detail::LaneFronts::Bound bound{bound_quanta_, &reach_, &ceiling_};
    if (lanes ? lane_fronts_.run(problem, quant_, quant_offset_, drops, cap, bound) : run(problem, drops, cap)) break;
    // Over the cap: a coarser quantum shortens every front about in proportion. Reported, not silent.
    delta *= 2.0;
    plan_.coarsened = true;
  }
  plan_.delta_used = delta;
  last_states_ = lanes ? lane_fronts_.states() : static_cast<std::int64_t>(front_.size());

  if (lanes) {
    if (!lane_fronts_.best(n, drops, plan_.depths)) {
      lowest_depth_plan(problem, plan_);
      return plan_;
    }
    detail::spend_leftover_slack(problem, plan_.depths, slack_);
    finish_plan(problem, plan_);
    // The density plan has the same drops; where quantizing (a coarsened quantum, above all) cost more
    // than the greedy lost, it is the better answer.
    if (greedy_bounds && greedy->total_reward > plan_.total_reward) {
      plan_.depths = greedy->depths;
      finish_plan(problem, plan_);
    }
    return plan_;
  }
  const int layers = drops + 1;
  const std::int32_t first = front_begin_[n * layers + drops], last = front_begin_[n * layers + drops + 1];
  if (first == last) {  // cannot happen when min_drops found a plan; keep a defined answer anyway
    lowest_depth_plan(problem, plan_);
    return plan_;
  }
  std::int32_t at = last - 1;  // the most reward: fronts are sorted by reward
  for (int i = n - 1; i >= 0; --i) {
    plan_.depths[i] = front_[at].depth;
    at = front_[at].parent;
  }
  assert(at == 0);
  detail::spend_leftover_slack(problem, plan_.depths, slack_);
  finish_plan(problem, plan_);
  return plan_;
}

bool DpPlanner::run(const PlanProblem& problem, int drops, std::int64_t cap) {
  const int n = problem.size(), layers = drops + 1;
  front_.clear();
  front_.push_back(Entry{problem.lane_free(0), 0, -1, 0});
  front_begin_.resize(static_cast<std::size_t>(n + 1) * layers + 1);
  front_begin_[0] = 0;
  for (int k = 0; k < layers; ++k) front_begin_[k + 1] = 1;  // the root is front (0, 0); the others are empty
  for (int i = 0; i < n; ++i) {
    // A state whose reward plus every later job's best cannot reach the density plan's is cut.
    const std::int32_t need = bound_quanta_ - (reach_[n] - reach_[i + 1]);
    for (int k = 0; k < layers; ++k) {
      merge_into_front(problem, i, k, drops, need);
      front_begin_[static_cast<std::size_t>(i + 1) * layers + k + 1] = static_cast<std::int32_t>(front_.size());
      if (static_cast<std::int64_t>(front_.size()) > cap) return false;
    }
  }
  return true;
}

void DpPlanner::merge_into_front(const PlanProblem& problem, int i, int k, int drops, std::int32_t need) {
  // Front (i + 1, k) is the Pareto front of: front (i, k) shifted by each depth of job i, and
  // front (i, k - 1) unshifted (job i dropped). Every source is sorted by reward and by finish, so
  // the front is a k-way merge by reward in which a candidate evicts the entries it dominates.
  const int layers = drops + 1;
  const int lo = problem.lo(i), hi = problem.hi(i);
  const std::size_t prev = static_cast<std::size_t>(i) * layers;
  const bool droppable = problem.droppable(i) && k > 0;
  const std::size_t own = front_begin_[prev + k + 1] - front_begin_[prev + k];
  const std::size_t dropped = droppable ? front_begin_[prev + k] - front_begin_[prev + k - 1] : 0;
  // Sources point into front_: reserve first so that appending never moves them.
  const std::size_t most = front_.size() + own * (hi - lo + 1) + dropped;
  if (front_.capacity() < most) front_.reserve(std::max(most, 2 * front_.capacity()));
  const Entry* base = front_.data();

  const Time deadline = problem.deadline(i);
  const Time latest = k == drops ? latest_[i + 1] : kInfinity;
  sources_.clear();
  auto add_source = [&](int from_k, std::int32_t dq, Duration dc, std::int32_t depth, Time limit) {
    const Entry* first = base + front_begin_[prev + from_k];
    const Entry* last = base + front_begin_[prev + from_k + 1];
    last = std::upper_bound(first, last, limit - dc, [](Time t, const Entry& e) { return t < e.finish; });
    first = std::lower_bound(first, last, need - dq, [](const Entry& e, std::int32_t r) { return e.reward < r; });
    if (first < last) sources_.push_back(Source{first, last, dq, dc, depth, 0, 0});
  };
  if (own > 0) {
    const int* q = quant_.data() + quant_offset_[i];
    for (int l = lo; l <= hi; ++l) {
      const Duration c = problem.cost(i, l);
      add_source(k, q[l - lo], c, l, c > 0 ? std::min(deadline, latest) : latest);
    }
  }
  if (droppable) add_source(k - 1, 0, 0, 0, latest);

  const std::size_t begin = front_.size();
  // Each source caches its head (shifted) so that picking the smallest is a scan of a few values.
  for (Source& src : sources_) src.load_head();
  while (!sources_.empty()) {
    std::size_t best = 0;
    for (std::size_t s = 1; s < sources_.size(); ++s) {
      const Source& a = sources_[s];
      const Source& b = sources_[best];
      best = a.reward < b.reward || (a.reward == b.reward && a.finish < b.finish) ? s : best;
    }
    Source& src = sources_[best];
    const std::int32_t reward = src.reward;
    const Time finish = src.finish;
    const auto parent = static_cast<std::int32_t>(src.at - base);
    const std::int32_t depth = src.depth;
    if (++src.at == src.end) {
      src = sources_.back();
      sources_.pop_back();
    } else {
      src.load_head();
    }
    // Candidates come by reward, ties earliest first: an equal reward is no better; an entry that
    // finishes no earlier than a higher reward is dominated and goes.
    if (front_.size() > begin && front_.back().reward == reward) continue;
    while (front_.size() > begin && front_.back().finish >= finish) front_.pop_back();
    front_.push_back(Entry{finish, reward, parent, depth});
  }
  if (k != drops || bound_quanta_ <= 0) return;
  if (!ceiling_ready_) {
    if (front_.size() - begin <= ceiling_from_states_) return;
    ceiling_.build(problem, quant_, quant_offset_, i + 1);  // the levels still to come
    ceiling_ready_ = true;
  }
  // Once no drop is left, a state whose reward plus the ceiling on what the later jobs can add falls
  // short of the density plan cannot be on the best path (nor can any state it dominates): cut it.
  ceiling_.start(i + 1);
  std::size_t kept = begin;
  for (std::size_t e = begin; e < front_.size(); ++e)
    if (front_[e].reward + ceiling_.at(front_[e].finish) >= bound_quanta_) front_[kept++] = front_[e];
  front_.resize(kept);
}

}  // namespace imprecise
