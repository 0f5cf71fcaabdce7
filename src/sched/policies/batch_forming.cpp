// PolicyBase::form_batch: grows a dispatch's batch while no job the batch-1 plan had on time becomes
// late, in one pass over the pending jobs.
#include <algorithm>

#include "policy_base.hpp"

namespace imprecise::detail {

namespace {

constexpr Duration kNoLimit = kNever;

Duration plus(Duration slack, Duration extra) { return slack == kNoLimit ? kNoLimit : slack + extra; }

}  // namespace

int PolicyBase::guarded_depth(const PendingJob& job) const {
  return config_.batch_guard == BatchGuard::planned_depth ? job.target
                                                          : std::min(job.target, std::max(job.job.mandatory_depth, job.done));
}

void PolicyBase::form_batch(int head, Time now) {
  // Jobs the plan serves first, then riders (jobs the plan sheds), so that a rider never takes the
  // room a planned job could have had.
  const PendingJob& lead = jobs_[static_cast<std::size_t>(head)];
  const bool rider_waits = grow_batch(lead.job.model, lead.done, now, /*riders=*/false);
  if (rider_waits && (shed_ > 0 || !shed_known_)) grow_batch(lead.job.model, lead.done, now, /*riders=*/true);
}

bool PolicyBase::grow_batch(int model, int stage, Time now, bool riders) {
  // The check, for a batch of b: the batch runs first (at its measured cost c(b)), then every job's
  // remaining work (to its guarded depth) back to back in order, at batch 1. Against the batch as it
  // is (b0 members), every later finish moves by c(b) - c(b0), less the stage each earlier member no longer
  // runs after the batch. So a job on time alone stays on time iff its slack there, plus what the
  // members at or before it saved, covers c(b) - c(1); and every member must still end by its
  // deadline. Slack and its suffix minimum are computed once; candidates are tried in order, folding
  // the slack of the positions passed into a running minimum: O(n) for the whole batch.
  const int limit = max_batch_of(model);
  if (static_cast<int>(batch_.size()) >= limit) return false;
  const Duration base_cost = planned_time(model, stage, static_cast<int>(batch_.size()));
  const std::size_t n = jobs_.size();

  slack_.assign(n, kNoLimit);
  Duration member_room = kNoLimit;  // least (deadline - now) of the members on time alone
  Time t = now + base_cost;
  for (std::size_t i = 0; i < n; ++i) {
    const PendingJob& p = jobs_[i];
    if (p.in_flight || p.drop) continue;
    const Duration rest = alone_cost(p, p.done + (p.in_batch ? 1 : 0), guarded_depth(p));
    bool late = p.in_batch && now + base_cost > p.job.deadline;
    if (rest > 0) {
      t += rest;
      late = late || t > p.job.deadline;
      if (!late) slack_[i] = p.job.deadline - t;
    }
    if (late) slack_[i] = kNoLimit;  // late anyway: the batch may not make it worse than "late"
    if (p.in_batch && !late) member_room = std::min(member_room, p.job.deadline - now);
  }
  suffix_slack_.assign(n + 1, kNoLimit);
  for (std::size_t i = n; i-- > 0;) suffix_slack_[i] = std::min(slack_[i], suffix_slack_[i + 1]);

  Duration saved = 0;                // stage time the members so far no longer run after the batch
  Duration passed_min = kNoLimit;    // min over positions passed of slack + what was saved up to them
  std::size_t folded = 0;
  bool rider_waits = false;
  for (std::size_t i = 0; i < n && static_cast<int>(batch_.size()) < limit; ++i) {
    PendingJob& c = jobs_[i];
    if (c.in_batch || c.job.model != model || c.done != stage) continue;
    // A job the plan sheds (not dropped yet: its deadline does not prove it) may ride along when this
    // stage completes its mandatory part and the batch stays within every guard: then it is served.
    const bool rides_along = !c.in_flight && c.drop && stage + 1 >= c.job.mandatory_depth;
    rider_waits = rider_waits || rides_along;
    if (riders ? !rides_along : !needs_stage(c)) continue;
    for (; folded < i; ++folded) passed_min = std::min(passed_min, plus(slack_[folded], saved));
    const int size = static_cast<int>(batch_.size()) + 1;
    const Duration batch_cost = planned_time(model, stage, size);
    const Duration shift = batch_cost - base_cost;
    const int guarded = guarded_depth(c);
    // A rider was not in the batch-1 plan: it saves the others nothing and has no work after the batch.
    const Duration rest_alone = rides_along ? 0 : alone_cost(c, guarded);
    const Duration rest_in_batch = rides_along ? 0 : alone_cost(c, c.done + 1, guarded);
    const Duration saving = rest_alone - rest_in_batch;
    // On time alone: its chain finish was checked (finite slack) or it has no chain work at all.
    const bool on_time_alone = slack_[i] != kNoLimit || rest_alone == 0;
    bool keeps = member_room >= batch_cost && passed_min >= shift &&
                 plus(suffix_slack_[i + 1], saved + saving) >= shift;
    if (keeps && on_time_alone) {
      keeps = now + batch_cost <= c.job.deadline && (rest_in_batch == 0 || plus(slack_[i], saved + saving) >= shift);
    }
    if (!keeps) {
      continue;
    }
    c.in_batch = true;
    batch_.push_back(c.job.id);
    saved += saving;
    if (on_time_alone) member_room = std::min(member_room, c.job.deadline - now);
    if (rest_in_batch == 0) slack_[i] = kNoLimit;  // nothing left after the batch: no chain finish
  }
  // The loop saw every job unless the batch filled, and then the riders' pass adds nobody either.
  return rider_waits;
}

}  // namespace imprecise::detail
