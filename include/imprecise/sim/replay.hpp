// ReplaySet: per-sample exit records (confidence, correct) that simulated jobs draw their content from.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "imprecise/core/utility.hpp"

namespace imprecise::sim {

/// `samples() x exits` records, row-major: record [i * exits + (l-1)] is exit l of sample i.
struct ReplaySet {
  int exits = 0;
  std::vector<ExitRecord> records;

  int samples() const { return exits > 0 ? static_cast<int>(records.size()) / exits : 0; }
  std::span<const ExitRecord> sample(int i) const {
    return {records.data() + static_cast<std::size_t>(i) * static_cast<std::size_t>(exits),
            static_cast<std::size_t>(exits)};
  }
};

/// Reads a CSV with a header `sample,conf_1,correct_1,...,conf_L,correct_L` and one row per sample
/// (confidence in [0, 1], correct 0 or 1). Throws Error("path:line:column: ...") on any defect.
ReplaySet load_replay_csv(const std::string& path);
/// Writes the same format (what load_replay_csv reads back bit-for-bit at float precision).
void save_replay_csv(const ReplaySet& set, const std::string& path);

/// Parametric stand-in for a profiled network, with the easy/hard structure real early-exit
/// networks show. Each sample has a latent difficulty z ~ N(0,1) (the probit of u ~ U(0,1)); exit
/// l sees z_l = (z + noise * e_l) / sqrt(1 + noise^2) (per-exit jitter e_l ~ N(0,1), same marginal)
/// and is correct iff z_l < Phi^-1(exit_accuracy[l]), so its accuracy is exit_accuracy[l] exactly in
/// expectation: easy samples are right at every exit, hard ones at none, middle ones get fixed by
/// deeper exits. The confidence at exit l grows with the margin m_l = Phi^-1(acc_l) - z_l seen
/// through the same noise: c = 1/K + (1 - 1/K) * sigmoid(sharpness * (m_l + noise * e'_l) + 0.5),
/// in [1/K, 1] — high for confident correct answers, low near and beyond the boundary.
struct ParametricReplay {
  std::vector<double> exit_accuracy;  ///< per exit, in (0, 1), normally increasing, e.g. .72,.84,.89,.91
  int classes = 10;                   ///< K: the confidence floor is 1/K
  double noise = 0.35;                ///< per-exit jitter of difficulty and confidence (0: exits agree)
  double sharpness = 6.0;             ///< how fast confidence saturates with the margin
};

/// Throws Error if the parameters are out of range (accuracy outside (0,1), classes < 2, ...).
ReplaySet generate_replay(const ParametricReplay& params, int samples, std::uint64_t seed);

}  // namespace imprecise::sim
