// ListScheduleSlack: feasibility trials over several lanes from stored schedule states and slacks.
#include "imprecise/sched/list_schedule_slack.hpp"

#include <algorithm>

#include "imprecise/sched/lane_schedule.hpp"
#include "imprecise/sched/plan_problem.hpp"

namespace imprecise::detail {

void ListScheduleSlack::build(const PlanProblem& problem, std::span<const int> depths) {
  n_ = problem.size();
  lanes_ = static_cast<std::size_t>(problem.lanes());
  states_.resize(static_cast<std::size_t>(n_ + 1) * lanes_);
  slack_.assign(static_cast<std::size_t>(n_), kNever);
  least_from_.assign(static_cast<std::size_t>(n_) + 1, kNever);
  const std::span<const Time> start = problem.sorted_lane_free();
  std::copy(start.begin(), start.end(), state(0).begin());
  first_miss_ = n_ > 0 ? run_from(problem, depths, 0, depths[0], /*store=*/true) : -1;
  refresh_least_from();
}

bool ListScheduleSlack::fits(const PlanProblem& problem, std::span<const int> depths, int i, int depth) {
  if (first_miss_ >= 0) return first_miss_ >= i && run_from(problem, depths, i, depth, /*store=*/false) < 0;
  const bool runs_new = !(depth == 0 && problem.droppable(i));
  if (runs_new && (depth < problem.lo(i) || depth > problem.hi(i))) return false;
  const int cur = depths[i];
  const Duration before = cur == 0 && problem.droppable(i) ? 0 : problem.cost(i, cur);
  const Duration after = runs_new ? problem.cost(i, depth) : 0;
  const Duration longer = after - before;
  if (longer <= 0) return true;  // nothing starts later (the schedule is monotone), and it ends no later
  if (state(i)[0] + after > problem.deadline(i)) return false;  // it starts exactly as before
  if (least_from_[i + 1] >= longer) return true;  // no later finish moves by more than `longer`
  return run_from(problem, depths, i, depth, /*store=*/false) < 0;
}

void ListScheduleSlack::update(const PlanProblem& problem, std::span<const int> depths, int i) {
  if (first_miss_ >= 0 && first_miss_ < i) return;  // still missing there; nothing stored before i changed
  first_miss_ = run_from(problem, depths, i, depths[i], /*store=*/true);
  refresh_least_from();
}

void ListScheduleSlack::refresh_least_from() {
  for (int k = n_; k-- > 0;) least_from_[k] = std::min(slack_[k], least_from_[k + 1]);
}

int ListScheduleSlack::run_from(const PlanProblem& problem, std::span<const int> depths, int from, int depth_from,
                                bool store) {
  std::span<Time> lanes;
  if (!store) {
    const std::span<Time> stored = state(from);
    trial_.assign(stored.begin(), stored.end());
    lanes = trial_;
  }
  for (int j = from; j < n_; ++j) {
    if (store) {
      const std::span<Time> next = state(j + 1);
      const std::span<Time> here = state(j);
      std::copy(here.begin(), here.end(), next.begin());
      lanes = next;
      slack_[j] = kNever;
    }
    const int l = j == from ? depth_from : depths[j];
    if (l == 0 && problem.droppable(j)) continue;
    if (l < problem.lo(j) || l > problem.hi(j)) return j;
    const Duration c = problem.cost(j, l);
    if (c <= 0) continue;
    const Time finish = run_on_sorted(lanes, c);
    if (finish > problem.deadline(j)) return j;
    if (store) slack_[j] = problem.deadline(j) - finish;
  }
  return -1;
}

}  // namespace imprecise::detail
