// RewardCeiling: an upper bound on the quanta the jobs after a yao-dp state can still add (its pruning).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "imprecise/sched/plan_problem.hpp"

namespace imprecise::detail {

/// Fractional-knapsack ceiling on the quantized reward jobs i.. can still earn once the jobs before
/// them end at `finish` and no drop is left. Each of them earns at least its lowest-depth quanta;
/// deepening costs time, and all of it runs before the last job with work, hence by the latest
/// deadline. So the time left past the lowest depths, filled greedily from each job's concave hull of
/// (extra time, extra quanta), bounds the rest from above. Buffers only grow.
class RewardCeiling {
 public:
  /// `quant[quant_offset[i] + l - lo_i]` = quanta of job i stopping at depth l, as the DP has them.
  /// Only the suffixes from `first` on (the DP's levels still to come: a late build costs less).
  void build(const PlanProblem& problem, const std::vector<int>& quant, const std::vector<int>& quant_offset,
             int first = 0);
  /// Starts a walk over a front of states before job i (i >= build's `first`); at() must then see
  /// non-decreasing finishes.
  void start(int i);
  /// Most quanta jobs i.. can add after a prefix that ends at `finish`.
  std::int64_t at(Time finish);
  /// Several lanes, free at `lane_free` after the prefix: the work of jobs i.. fits in what every lane
  /// has left before their latest deadline, so the same knapsack over that (summed) room bounds it.
  std::int64_t at_lanes(int i, std::span<const Time> lane_free) const;  // i >= build's `first`

 private:
  struct Knot {       // end of one hull segment in a suffix's slope order, cumulated
    Duration cost;    // extra time up to here
    double gain;      // extra quanta up to here
    double slope;     // quanta per unit of time along this segment
  };
  struct Point {
    Duration cost;
    double gain;
  };
  std::vector<Knot> knots_;
  std::vector<std::int32_t> begin_, end_;  // suffix i's knots: [begin_[i], end_[i])
  std::vector<std::int64_t> fixed_;         // quanta jobs i.. earn without extra time
  std::vector<Time> budget_;                // latest deadline of jobs i.. minus their lowest-depth time
  std::vector<Time> latest_deadline_;       // latest deadline of jobs i..
  std::vector<Point> hull_;
  std::vector<double> slope_;                // slope of each hull_ segment
  int walk_ = 0;
  std::int32_t cursor_ = 0;
};

}  // namespace imprecise::detail
