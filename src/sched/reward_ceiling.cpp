// RewardCeiling: per suffix of jobs, the slope-sorted concave hulls of (extra time, extra quanta).
#include "imprecise/sched/reward_ceiling.hpp"

#include <algorithm>
#include <cmath>

namespace imprecise::detail {

void RewardCeiling::build(const PlanProblem& problem, const std::vector<int>& quant,
                          const std::vector<int>& quant_offset) {
  const int n = problem.size();
  begin_.resize(n + 1);
  end_.resize(n + 1);
  fixed_.resize(n + 1);
  budget_.resize(n + 1);
  knots_.clear();
  begin_[n] = end_[n] = 0;
  fixed_[n] = 0;
  Time latest_deadline = problem.now();
  Duration lowest_time = 0;
  for (int i = n - 1; i >= 0; --i) {
    const int lo = problem.lo(i), hi = problem.hi(i);
    const int* q = quant.data() + quant_offset[i];
    const Duration c0 = problem.cost(i, lo);
    latest_deadline = std::max(latest_deadline, problem.deadline(i));
    lowest_time += c0;
    budget_[i] = latest_deadline - lowest_time;
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
    // Merge this job's segments into the next suffix's, steepest first.
    merged_.clear();
    std::int32_t s = begin_[i + 1];
    std::size_t h = 0;
    Point previous{0, free_gain}, from_suffix{0, 0.0};
    Knot sum{0, 0.0, 0.0};
    while (h < hull_.size() || s < end_[i + 1]) {
      const double job_slope = h < hull_.size() ? (hull_[h].gain - previous.gain) / static_cast<double>(hull_[h].cost - previous.cost) : -1.0;
      if (s < end_[i + 1] && (h == hull_.size() || knots_[s].slope >= job_slope)) {
        sum.cost += knots_[s].cost - from_suffix.cost;
        sum.gain += knots_[s].gain - from_suffix.gain;
        sum.slope = knots_[s].slope;
        from_suffix = Point{knots_[s].cost, knots_[s].gain};
        ++s;
      } else {
        sum.cost += hull_[h].cost - previous.cost;
        sum.gain += hull_[h].gain - previous.gain;
        sum.slope = job_slope;
        previous = hull_[h];
        ++h;
      }
      merged_.push_back(sum);
    }
    begin_[i] = static_cast<std::int32_t>(knots_.size());
    knots_.insert(knots_.end(), merged_.begin(), merged_.end());
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

}  // namespace imprecise::detail
