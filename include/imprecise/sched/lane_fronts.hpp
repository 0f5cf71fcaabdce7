// LaneFronts: yao-dp's dynamic program when the device has several lanes (fronts of sorted lane free times).
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "imprecise/sched/plan_problem.hpp"
#include "imprecise/sched/reward_ceiling.hpp"
#include "imprecise/sched/staircase.hpp"

namespace imprecise::detail {

/// The DP over (jobs in order) x (drops so far) whose states are (quantized reward, the lanes' free
/// times sorted ascending) under the list schedule (LaneSchedule). A state dominates another with no
/// less reward and every sorted free time no later: running a job on the earliest lane and re-sorting
/// keeps componentwise order, so whatever the dominated state can still do, the other can too. Per
/// (job prefix, drops) a front keeps the non-dominated states, in one flat buffer with parent indices
/// for the backtrack; a front is built by ordering its candidates by (reward desc, free times
/// lexicographic asc), so a candidate's dominators come before it (a merge of the per-choice blocks,
/// each already by reward), and filtering them (two lanes: a staircase, O(log) a query; three: a
/// Fenwick tree of staircases, O(log^2); more: that tree on three of the free times, then a scan of
/// the front where it cannot rule a dominator out). Fronts past `cap` states, or scans
/// past kScanPerState * cap entries, end the run (the caller coarsens). Buffers only grow.
class LaneFronts {
 public:
  /// What prunes the search: states that cannot reach `bound_quanta` even if every later job earned its
  /// most (`reach`, the quanta jobs 0..i-1 can earn at most, cumulated) or, with `ceiling`, its
  /// ceiling-bounded most, are cut. bound_quanta <= 0: no pruning.
  struct Bound {
    std::int32_t quanta = 0;
    const std::vector<int>* reach = nullptr;
    RewardCeiling* ceiling = nullptr;
  };

  /// Runs the DP with up to `drops` drops; `quant[quant_offset[i] + l - lo_i]` = quanta of job i at
  /// depth l. False when the fronts passed `cap` states (the caller coarsens and retries).
  bool run(const PlanProblem& problem, const std::vector<int>& quant, const std::vector<int>& quant_offset, int drops,
           std::int64_t cap, const Bound& bound);
  /// The fewest drops that let every served job fit at its lowest depth; -1 when none does.
  int fewest_drops(const PlanProblem& problem);
  /// Depths of the most-reward state with exactly `drops` drops after run(); false when there is none.
  bool best(int n, int drops, std::vector<int>& depths) const;
  std::int64_t states() const { return static_cast<std::int64_t>(states_.size()); }

 private:
  struct State {
    std::int32_t reward;
    std::int32_t parent;  ///< index in states_ of the state this one extends (-1: the root)
    std::int32_t depth;   ///< depth chosen for this job (0 = dropped)
  };
  /// `lowest_only`: every served job at its lowest depth, no reward (fewest_drops()).
  bool run_fronts(const PlanProblem& problem, const std::vector<int>* quant, const std::vector<int>* quant_offset,
                  int drops, std::int64_t cap, const Bound& bound);
  /// Fills cand_ with front (i + 1, k)'s candidates that can still reach `need`.
  void collect_candidates(const PlanProblem& problem, int i, int k, const std::vector<int>* quant,
                          const std::vector<int>* quant_offset, std::int32_t need);
  /// Appends the candidates no other dominates to states_ (one new front).
  void keep_non_dominated();
  /// Four lanes or more: scans the front built so far (from `begin`) for a dominator.
  bool dominated_by_front(std::size_t begin, const Time* free);
  void cut_below_ceiling(int next, std::size_t begin, const Bound& bound);

  int lanes_ = 1, layers_ = 1;
  std::vector<State> states_;            // every front of one run, level by level, drops layer by layer
  std::vector<Time> free_;               // states_[s]'s sorted free times: [s * lanes_, (s + 1) * lanes_)
  std::vector<std::int32_t> front_begin_;  // [level * layers + k]: where front (level, k) starts in states_
  std::vector<State> cand_;              // one front's candidates, before the dominance filter
  std::vector<Time> cand_free_;
  std::vector<std::int32_t> blocks_;  // where each choice's candidates start in cand_ (and the end)
  std::vector<std::int32_t> heads_, head_reward_;  // the merge's position in each block, and its reward
  std::vector<std::int32_t> order_;
  Staircase stair_;                 // two lanes: the front's kept (free0, free1)
  StaircaseTree tree_;              // more: the front's kept (free0, last two free times)
  std::vector<Time> first_free_;    // the candidates' free0, sorted (the tree's keys)
  /// Four lanes or more: front entries a run may scan per state it may keep, before it coarsens.
  static constexpr std::int64_t kScanPerState = 4;
  std::int64_t scan_work_ = 0, scan_cap_ = 0;
};

}  // namespace imprecise::detail
