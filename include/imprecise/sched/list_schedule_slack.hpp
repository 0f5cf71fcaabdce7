// ListScheduleSlack: "is the list schedule still feasible if job i goes to depth l?" over several lanes,
// answered mostly in O(1) instead of by re-running the whole schedule.
#pragma once

#include <span>
#include <vector>

#include "imprecise/core/time.hpp"

namespace imprecise {
class PlanProblem;
}

namespace imprecise::detail {

/// Holds, for one choice of depths, the list schedule's state before every job (the lanes' sorted free
/// times), each running job's slack, and the least slack from each job on. A trial that lengthens job
/// i by d is then decided without a re-run when it can be:
/// - the jobs before i are unchanged;
/// - job i starts when it would have (the earliest lane of the state before it), so its own finish is exact;
/// - every later finish moves by at most d: each list-scheduling step is monotone and moves the sorted
///   free times by no more than its inputs moved. So the least later slack >= d proves them all on time.
/// Otherwise (and for a shorter job, which moves nothing later), the schedule is re-run from job i
/// only, from its stored state. Every answer is exactly PlanProblem::feasible's.
class ListScheduleSlack {
 public:
  /// Takes `depths` as the current choice: O(n * lanes).
  void build(const PlanProblem& problem, std::span<const int> depths);
  /// PlanProblem::feasible of the current depths with job i at `depth` instead.
  bool fits(const PlanProblem& problem, std::span<const int> depths, int i, int depth);
  /// After the caller changed depths[i] (only it): re-runs the schedule from job i.
  void update(const PlanProblem& problem, std::span<const int> depths, int i);

 private:
  /// Runs jobs [from, n) from the stored state before `from`, job `from` at `depth_from`; stores the
  /// states and slacks when `store`, and returns the first miss at or after `from` (-1: none).
  int run_from(const PlanProblem& problem, std::span<const int> depths, int from, int depth_from, bool store);
  /// least_from_ from slack_ (every suffix minimum: an earlier change moves them all).
  void refresh_least_from();
  std::span<Time> state(int i) { return std::span<Time>(states_).subspan(static_cast<std::size_t>(i) * lanes_, lanes_); }

  std::size_t lanes_ = 1;
  int n_ = 0;
  int first_miss_ = -1;            // of the current depths
  std::vector<Time> states_;       // (n + 1) x lanes: sorted free times before job i
  std::vector<Duration> slack_;    // deadline - finish of a running job; kNever for a job that does not run
  std::vector<Duration> least_from_;  // min of slack_ over [i, n); kNever past the end
  std::vector<Time> trial_;        // scratch state for a re-run that is only a trial
};

}  // namespace imprecise::detail
