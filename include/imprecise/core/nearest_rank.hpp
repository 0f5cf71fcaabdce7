// nearest_rank: the one percentile rule of every report (simulator, real runs, loadgen, control windows).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace imprecise {

/// The q-quantile of `v` by nearest rank: its k-th smallest value, k = max(1, ceil(q n)); T{} when
/// empty. Reorders `v` (a selection, O(n), not a sort).
template <class T>
T nearest_rank(std::vector<T>& v, double q) {
  if (v.empty()) return T{};
  const auto n = static_cast<double>(v.size());
  const auto rank = std::min(static_cast<std::size_t>(std::max(1.0, std::ceil(q * n))), v.size()) - 1;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(rank), v.end());
  return v[rank];
}

}  // namespace imprecise
