// RewardQuantum: how yao-dp quantizes reward, relative to each problem (eps) or absolute (delta).
#pragma once

namespace imprecise {

/// The reward quantum of the yao-dp DP. By default it is relative to each decision point:
/// delta = eps * Rmax / n, with Rmax the largest reward any one job of the problem can earn and n
/// its jobs. Each job's floor loses less than delta (2 delta for a served job when some are
/// dropped), so the plan earns at least OPT - eps * Rmax (- the same again with drops), i.e. the
/// (1 - eps) FPTAS bound wherever OPT >= Rmax. `absolute` > 0 replaces it by that fixed quantum
/// (integer rewards with 1 are exact). Plan::delta_used reports the quantum a plan really used.
struct RewardQuantum {
  double eps = 0.01;      ///< relative precision, in (0, 1]
  double absolute = 0.0;  ///< > 0: a fixed quantum instead of eps * Rmax / n
};

}  // namespace imprecise
