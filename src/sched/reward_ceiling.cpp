// RewardCeiling: per suffix of jobs, the slope-sorted concave hulls of (extra time, extra quanta).
#include "imprecise/sched/reward_ceiling.hpp"

#include <algorithm>
#include <cmath>

namespace imprecise::detail {

void RewardCeiling::build(const PlanProblem& problem, const std::vector<int>& quant,
                          const std::vector<int>& quant_offset, int first) {
  const int n = problem.size();
  begin_.resize(n + 1);
  end_.resize(n + 1);
  fixed_.resize(n + 1);
  budget_.resize(n + 1);
  latest_deadline_.resize(n + 1);
  knots_.clear();
  begin_[n] = end_[n] = 0;
  fixed_[n] = 0;
  budget_[n] = latest_deadline_[n] = problem.now();  // no job left: no room
  Time latest_deadline = problem.now();
  Duration lowest_time = 0;
  for (int i = n - 1; i >= first; --i) {
    const int lo = problem.lo(i), hi = problem.hi(i);
    const int* q = quant.data() + quant_offset[i];
    const Duration c0 = problem.cost(i, lo);
    latest_deadline = std::max(latest_deadline, problem.deadline(i));
    lowest_time += c0;
    budget_[i] = latest_deadline - lowest_time;
    latest_deadline_[i] = latest_deadline;
    // Upper concave hull of (extra time, extra quanta) from the lowest depth; gains that need no
    // time are fixed.
    double free_gain = 0.0;
    hull_.clear();
    for (int l = lo + 1; l <= hi; ++l) {
      const Duration e = problem.cost(i, l) - c0;
      const double g = q[l - lo] - q[0];
      if (e == 0) {
        free_gain = std::max(free_gain, g);
        continue;
      }
      const double top = hull_.empty() ? free_gain : hull_.back().gain;
      if (g <= top) continue;  // more time for no more reward: never on the hull
      // Pop points under the chord from the one before them (or the start) to this one.
      while (!hull_.empty()) {
        const Point a = hull_.size() > 1 ? hull_[hull_.size() - 2] : Point{0, free_gain};
        const Point b = hull_.back();
        if ((b.gain - a.gain) * static_cast<double>(e - a.cost) > (g - a.gain) * static_cast<double>(b.cost - a.cost)) break;
        hull_.pop_back();
      }
      hull_.push_back(Point{e, g});
    }
    fixed_[i] = fixed_[i + 1] + q[0] + static_cast<std::int64_t>(free_gain);
    // Each hull segment's slope, once (the merge below compares it with the suffix's knots).
    slope_.resize(hull_.size());
    for (std::size_t h = 0; h < hull_.size(); ++h) {
      const Point from = h > 0 ? hull_[h - 1] : Point{0, free_gain};
      slope_[h] = (hull_[h].gain - from.gain) / static_cast<double>(hull_[h].cost - from.cost);
    }
    // Merge this job's segments into the next suffix's, steepest first, into knots_ after the
    // suffixes built so far. Every step takes one knot, so the merged list has exactly as many; once
    // the job's segments are used up the rest of the suffix is a plain shifted copy (same sums, in
    // the same order, without the comparison).
    std::int32_t s = begin_[i + 1];
    const std::int32_t suffix_end = end_[i + 1];
    const std::size_t merged_at = knots_.size();
    const std::size_t need = merged_at + hull_.size() + static_cast<std::size_t>(suffix_end - s);
    if (knots_.capacity() < need) knots_.reserve(std::max(need, 2 * knots_.capacity()));
    knots_.resize(need);  // within capacity: reading the suffix below while writing stays valid
    Knot* out = knots_.data() + merged_at;
    const Knot* in = knots_.data();
    std::size_t h = 0;
    Point previous{0, free_gain}, from_suffix{0, 0.0};
    Knot sum{0, 0.0, 0.0};
    auto take_suffix = [&] {
      const Knot& k = in[s++];
      sum.cost += k.cost - from_suffix.cost;
      sum.gain += k.gain - from_suffix.gain;
      sum.slope = k.slope;
      from_suffix = Point{k.cost, k.gain};
      *out++ = sum;
    };
    auto take_job = [&] {
      sum.cost += hull_[h].cost - previous.cost;
      sum.gain += hull_[h].gain - previous.gain;
      sum.slope = slope_[h];
      previous = hull_[h];
      ++h;
      *out++ = sum;
    };
    while (h < hull_.size() && s < suffix_end) {
      if (in[s].slope >= slope_[h]) take_suffix();
      else take_job();
    }
    while (h < hull_.size()) take_job();
    while (s < suffix_end) take_suffix();
    begin_[i] = static_cast<std::int32_t>(merged_at);
    end_[i] = static_cast<std::int32_t>(knots_.size());
  }
}

void RewardCeiling::start(int i) {
  walk_ = i;
  cursor_ = end_[i] - 1;
}

std::int64_t RewardCeiling::at(Time finish) {
  const Duration room = budget_[walk_] - finish;
  double gain = 0.0;
  if (room > 0 && end_[walk_] > begin_[walk_]) {
    const Knot* k = knots_.data();
    if (room >= k[end_[walk_] - 1].cost) {
      gain = k[end_[walk_] - 1].gain;
    } else {
      // Finishes only grow along a walk, so the room only shrinks: the cursor only moves left.
      while (cursor_ > begin_[walk_] && k[cursor_ - 1].cost > room) --cursor_;
      gain = k[cursor_].gain - k[cursor_].slope * static_cast<double>(k[cursor_].cost - room);
    }
  }
  return fixed_[walk_] + static_cast<std::int64_t>(std::floor(gain + 1e-6));
}

std::int64_t RewardCeiling::at_lanes(int i, std::span<const Time> lane_free) const {
  // With one lane this is at(): the room is budget - finish.
  const Time latest = latest_deadline_[i];
  Duration capacity = 0;
  for (const Time f : lane_free) capacity += f < latest ? latest - f : 0;
  const Duration room = capacity - (latest - budget_[i]);  // minus the lowest-depth time
  double gain = 0.0;
  if (room > 0 && end_[i] > begin_[i]) {
    const Knot* first = knots_.data() + begin_[i];
    const Knot* last = knots_.data() + end_[i];
    if (room >= last[-1].cost) {
      gain = last[-1].gain;
    } else {
      // The segment the room ends in: the first knot past it.
      const Knot* k = std::upper_bound(first, last, room, [](Duration r, const Knot& knot) { return r < knot.cost; });
      gain = k->gain - k->slope * static_cast<double>(k->cost - room);
    }
  }
  return fixed_[i] + static_cast<std::int64_t>(std::floor(gain + 1e-6));
}

}  // namespace imprecise::detail
