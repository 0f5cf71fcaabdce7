// UtilityModel: validation of calibration tables and their construction from per-sample exit records.
#include "imprecise/core/utility.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <utility>

#include "imprecise/error.hpp"

namespace imprecise {

namespace detail {
// Pseudo-count of the shrinkage toward the marginal: a bin with n samples trusts its own rate with
// weight n / (n + m). 20 keeps a bin of a handful of samples close to the marginal while a bin of
// a few hundred is essentially its own estimate.
inline constexpr double kCalibrationPseudoCount = 20.0;
}  // namespace detail

UtilityModel::UtilityModel(int exits, int bins, std::vector<double> prior, std::vector<double> table)
    : exits_(exits), bins_(bins), prior_(std::move(prior)), table_(std::move(table)) {
  if (exits_ < 1) throw Error(fmt::format("utility: exits is {}, must be >= 1", exits_));
  if (bins_ < 1) throw Error(fmt::format("utility: bins is {}, must be >= 1", bins_));
  if (prior_.size() != static_cast<std::size_t>(exits_))
    throw Error(fmt::format("utility: prior has {} entries, expected one per exit ({})", prior_.size(), exits_));
  const std::size_t expected = static_cast<std::size_t>(exits_) * static_cast<std::size_t>(bins_) *
                               static_cast<std::size_t>(exits_);
  if (table_.size() != expected)
    throw Error(fmt::format("utility: table has {} entries, expected exits x bins x exits = {}", table_.size(),
                            expected));
  // Values are probabilities; anything else (NaN included) would poison every plan built on them.
  for (std::size_t i = 0; i < prior_.size(); ++i) {
    if (!(prior_[i] >= 0.0 && prior_[i] <= 1.0))
      throw Error(fmt::format("utility: prior[{}] = {} is not a probability in [0, 1]", i, prior_[i]));
  }
  for (std::size_t i = 0; i < table_.size(); ++i) {
    if (!(table_[i] >= 0.0 && table_[i] <= 1.0)) {
      const std::size_t per_k = static_cast<std::size_t>(bins_) * static_cast<std::size_t>(exits_);
      throw Error(fmt::format("utility: table[k={}][bin={}][l={}] = {} is not a probability in [0, 1]",
                              i / per_k + 1, (i % per_k) / static_cast<std::size_t>(exits_),
                              i % static_cast<std::size_t>(exits_) + 1, table_[i]));
    }
  }
}

UtilityModel::UtilityModel(int exits, int bins, std::vector<double> prior, std::vector<double> table,
                           std::vector<double> edges)
    : UtilityModel(exits, bins, std::move(prior), std::move(table)) {
  if (edges.empty()) return;
  const std::size_t per_exit = static_cast<std::size_t>(bins_ - 1);
  if (edges.size() != static_cast<std::size_t>(exits_) * per_exit)
    throw Error(fmt::format("utility: edges has {} entries, expected exits x (bins - 1) = {}", edges.size(),
                            static_cast<std::size_t>(exits_) * per_exit));
  for (std::size_t i = 0; i < edges.size(); ++i) {
    if (!(edges[i] >= 0.0 && edges[i] <= 1.0))
      throw Error(fmt::format("utility: edges[k={}][{}] = {} is not in [0, 1]", i / per_exit + 1, i % per_exit, edges[i]));
    if (i % per_exit > 0 && edges[i] < edges[i - 1])
      throw Error(fmt::format("utility: edges[k={}] decrease at {} ({} after {})", i / per_exit + 1, i % per_exit,
                              edges[i], edges[i - 1]));
  }
  edges_ = std::move(edges);
}

void make_non_decreasing(std::span<double> values) {
  // Pool adjacent violators with equal weights: merge any block that dips below its predecessor
  // into their mean until the sequence is non-decreasing (the least-squares isotonic fit).
  std::vector<double> mean;
  std::vector<std::size_t> size;
  mean.reserve(values.size());
  size.reserve(values.size());
  for (const double v : values) {
    mean.push_back(v);
    size.push_back(1);
    while (mean.size() > 1 && mean[mean.size() - 2] > mean.back()) {
      const std::size_t n = size.back() + size[size.size() - 2];
      const double merged = (mean.back() * static_cast<double>(size.back()) +
                             mean[mean.size() - 2] * static_cast<double>(size[size.size() - 2])) /
                            static_cast<double>(n);
      mean.pop_back();
      size.pop_back();
      mean.back() = merged;
      size.back() = n;
    }
  }
  std::size_t at = 0;
  for (std::size_t block = 0; block < mean.size(); ++block)
    for (std::size_t j = 0; j < size[block]; ++j) values[at++] = mean[block];
}

UtilityModel UtilityModel::calibrate(int exits, std::span<const ExitRecord> records, int bins,
                                     bool monotone_in_depth, BinSpacing spacing) {
  if (exits < 1) throw Error(fmt::format("calibrate: exits is {}, must be >= 1", exits));
  if (bins < 1) throw Error(fmt::format("calibrate: bins is {}, must be >= 1", bins));
  const std::size_t L = static_cast<std::size_t>(exits);
  const std::size_t B = static_cast<std::size_t>(bins);
  if (records.empty()) throw Error("calibrate: records is empty (no calibration samples)");
  if (records.size() % L != 0)
    throw Error(fmt::format("calibrate: records has {} entries, not a multiple of exits ({})", records.size(), exits));
  const std::size_t samples = records.size() / L;

  UtilityModel model;
  model.exits_ = exits;
  model.bins_ = bins;

  for (std::size_t s = 0; s < samples; ++s)
    for (std::size_t k = 0; k < L; ++k)
      if (std::isnan(records[s * L + k].confidence))
        throw Error(fmt::format("calibrate: sample {} exit {} has a NaN confidence", s, k + 1));
  if (spacing == BinSpacing::equal_mass && bins > 1) {
    // Edge j of exit k lies between the samples ranked j * n / B - 1 and j * n / B (0-based), so each
    // bin holds n / B samples (fewer where many samples share one confidence).
    model.edges_.resize(L * (B - 1));
    std::vector<double> sorted(samples);
    for (std::size_t k = 0; k < L; ++k) {
      for (std::size_t s = 0; s < samples; ++s)
        sorted[s] = std::clamp(static_cast<double>(records[s * L + k].confidence), 0.0, 1.0);
      std::sort(sorted.begin(), sorted.end());
      for (std::size_t j = 1; j < B; ++j) {
        const std::size_t at = std::clamp<std::size_t>(j * samples / B, 1, std::max<std::size_t>(samples - 1, 1));
        model.edges_[k * (B - 1) + j - 1] = 0.5 * (sorted[at - 1] + sorted[std::min(at, samples - 1)]);
      }
      // Ranks can tie at the float level; keep the edges non-decreasing all the same.
      for (std::size_t j = 1; j + 1 < B; ++j)
        model.edges_[k * (B - 1) + j] = std::max(model.edges_[k * (B - 1) + j], model.edges_[k * (B - 1) + j - 1]);
    }
  }

  // count[k][bin] = samples whose confidence at exit k fell in bin; hits[k][bin][l] = of those, correct at l.
  std::vector<double> correct(L, 0.0);
  std::vector<double> count(L * B, 0.0);
  std::vector<double> hits(L * B * L, 0.0);
  for (std::size_t s = 0; s < samples; ++s) {
    const ExitRecord* row = records.data() + s * L;
    for (std::size_t k = 0; k < L; ++k) {
      if (row[k].correct) correct[k] += 1.0;
      // bin_of is the lookup expected() uses, so calibration and queries agree on bin edges.
      const std::size_t bin = static_cast<std::size_t>(model.bin_of(row[k].confidence, static_cast<int>(k) + 1));
      count[k * B + bin] += 1.0;
      double* h = &hits[(k * B + bin) * L];
      for (std::size_t l = k; l < L; ++l) {
        if (row[l].correct) h[l] += 1.0;
      }
    }
  }

  model.prior_.resize(L);
  for (std::size_t l = 0; l < L; ++l) model.prior_[l] = correct[l] / static_cast<double>(samples);

  model.table_.assign(L * B * L, 0.0);
  const double m = detail::kCalibrationPseudoCount;
  for (std::size_t k = 0; k < L; ++k) {
    for (std::size_t b = 0; b < B; ++b) {
      const double n = count[k * B + b];
      const double* h = &hits[(k * B + b) * L];
      double* out = &model.table_[(k * B + b) * L];
      // An empty bin has nothing to say and answers the marginal; a full one answers its own rate.
      for (std::size_t l = k; l < L; ++l) out[l] = (h[l] + m * model.prior_[l]) / (n + m);
      // Every entry of a row comes from the same samples, and an anytime network's deeper exit is
      // no worse on average; dips along depth are sampling noise that would make a planner stop
      // early for nothing, so the row is fitted to the closest non-decreasing sequence.
      if (monotone_in_depth) make_non_decreasing(std::span<double>(out + k, L - k));
      // l < k is never read by expected() (it clamps to l = k); fill it so the table has no holes.
      for (std::size_t l = 0; l < k; ++l) out[l] = out[k];
    }
  }
  return model;
}

}  // namespace imprecise
