// DpPlanner: the Yao et al. dynamic program over (jobs in EDF order) x (quantized reward), policy `yao-dp`.
#pragma once

#include <cstdint>
#include <vector>

#include "imprecise/sched/density_planner.hpp"
#include "imprecise/sched/lane_fronts.hpp"
#include "imprecise/sched/plan_problem.hpp"
#include "imprecise/sched/reward_ceiling.hpp"
#include "imprecise/sched/reward_quantum.hpp"

namespace imprecise {

/// Yao et al.: DP over (jobs in order) x (quantized reward) keeping the earliest finish time;
/// with drops only when needed, fewest drops first, then most reward. The reward quantum is
/// eps * Rmax / n by default or a fixed one (see RewardQuantum); with integer rewards and delta 1 it
/// is exact. Sparse: per (job prefix, drops) only the Pareto front of (quantized reward, earliest
/// finish) is kept, pruned by deadlines, by the time the later jobs' lowest depths need, and where
/// even a fractional-knapsack ceiling on the later jobs' reward cannot reach the density plan's. Should the fronts still pass `max_states` entries in one decision, the
/// quantum doubles until they fit, and the plan says so (Plan::coarsened, Plan::delta_used).
/// Several lanes: the same DP, exact for the list schedule (PlanProblem), with states (quantized reward,
/// sorted lane free times) (detail::LaneFronts); the same fewest-drops layers, state cap, coarsening
/// and bounds (the ceiling over the lanes' summed room). Fronts are wider there: at 32 jobs x 4 stages
/// (planner_bench) 2 lanes keep ~15x the states of one, 3 lanes ~50x; from 4 lanes the fronts barely
/// shrink with a coarser quantum, so a scan budget coarsens it far (density is the planner for those).
/// Reuses its buffers across calls (they only grow).
class DpPlanner {
 public:
  /// About a millisecond's work; only heavy overload with fine quanta gets there.
  static constexpr std::int64_t kDefaultMaxStates = std::int64_t{1} << 18;

  /// One lane: the ceiling waits until a front of the last drop layer holds more states than this, and
  /// is then built for the levels still to come (O((n - i)^2) at level i); short fronts cost less to
  /// merge than the ceiling to build. In the simulator (5 s, callgrind) 12 cut yao-dp's planner
  /// instructions by 35 / 5 / 13 % at loads 2 / 3 / 5 of the edge_server scenario and by 19 % on the
  /// multi-model one at load 3, against building it whole before the DP (0); 8 and 16 did a little worse.
  static constexpr std::size_t kDefaultCeilingFromStates = 12;

  explicit DpPlanner(std::int64_t max_states = kDefaultMaxStates,
                     std::size_t ceiling_from_states = kDefaultCeilingFromStates)
      : max_states_(max_states), ceiling_from_states_(ceiling_from_states) {}

  const Plan& solve(const PlanProblem& problem, RewardQuantum quantum = {});
  /// A fixed quantum `delta` > 0 (RewardQuantum::absolute).
  const Plan& solve(const PlanProblem& problem, double delta) {
    return solve(problem, RewardQuantum{.absolute = delta});
  }
  /// eps * Rmax / n for `problem` (Rmax: the largest reward one job can earn at a depth it may stop at).
  static double relative_delta(const PlanProblem& problem, double eps);
  /// Front entries the last solve() kept (the DP's states; what max_states bounds).
  std::int64_t states() const { return last_states_; }

 private:
  /// One non-dominated state: the prefix earns `reward` quanta and ends at `finish`.
  struct Entry {
    Time finish;
    std::int32_t reward;
    std::int32_t parent;  ///< index in front_ of the state this one extends (-1: the root)
    std::int32_t depth;   ///< depth chosen for this job (0 = dropped)
  };
  /// A sorted list one front is merged from: a front of the previous job shifted by one choice.
  struct Source {
    const Entry* at;
    const Entry* end;
    std::int32_t dq;
    Duration dc;
    std::int32_t depth;
    std::int32_t reward;  // the head, shifted
    Time finish;
    void load_head() {
      reward = at->reward + dq;
      finish = at->finish + dc;
    }
  };
  int min_drops(const PlanProblem& problem);
  void quantize_rewards(const PlanProblem& problem, int drops, double delta);
  /// Runs the DP; false when the fronts passed `cap` entries (the caller coarsens and retries).
  bool run(const PlanProblem& problem, int drops, std::int64_t cap);
  void merge_into_front(const PlanProblem& problem, int i, int k, int drops, std::int32_t need);

  static constexpr int kBoundFromJobs = 6;  // fewer jobs: no branch and bound (measured in the simulator)
  std::int64_t max_states_;
  std::size_t ceiling_from_states_;
  Plan plan_;
  SlackScratch slack_;
  std::vector<Entry> front_;             // every front of one solve, level by level, drops layer by layer
  std::vector<Source> sources_;
  std::vector<std::int32_t> front_begin_;  // [level * layers + k]: where front (level, k) starts in front_
  std::vector<int> quant_, quant_offset_, reach_;
  std::vector<Time> latest_;             // latest finish of a prefix that leaves the rest room at lowest depth
  std::vector<Time> drop_finish_, drop_next_;
  DensityPlanner bound_;  // a feasible plan whose reward bounds the search from below
  detail::RewardCeiling ceiling_;  // what the later jobs can still add, bounding a state from above
  int bound_quanta_ = 0;
  bool ceiling_ready_ = false;  // ceiling_ is built for this quantization
  detail::LaneFronts lane_fronts_;  // the DP when the problem has several lanes
  std::int64_t last_states_ = 0;
};

}  // namespace imprecise
