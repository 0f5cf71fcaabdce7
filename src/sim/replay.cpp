// Replay sets: CSV reading/writing and the parametric easy/hard generator.
#include "imprecise/sim/replay.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <string>

#include <fmt/format.h>

#include "csv_util.hpp"
#include "imprecise/error.hpp"
#include "imprecise/sim/random.hpp"

namespace imprecise::sim {

ReplaySet load_replay_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(fmt::format("{}: cannot open replay file", path));
  ReplaySet set;
  std::string line;
  int line_no = 0;
  bool header_seen = false;
  std::size_t columns = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line == "\r") continue;
    auto cells = detail::split_csv(line);
    if (!header_seen) {
      // The header fixes the number of exits: sample, then (conf_l, correct_l) for l = 1..L.
      if (cells.size() < 3 || cells.size() % 2 == 0)
        detail::fail_at(path, line_no, 1, "header must be sample,conf_1,correct_1,...,conf_L,correct_L");
      if (cells[0] != "sample") detail::fail_at(path, line_no, 1, "first column must be 'sample'");
      for (std::size_t c = 1; c < cells.size(); ++c) {
        const std::size_t exit = (c + 1) / 2;
        const std::string want = fmt::format("{}_{}", c % 2 == 1 ? "conf" : "correct", exit);
        if (cells[c] != want)
          detail::fail_at(path, line_no, static_cast<int>(c + 1),
                          fmt::format("expected column '{}', found '{}'", want, cells[c]));
      }
      columns = cells.size();
      set.exits = static_cast<int>((columns - 1) / 2);
      header_seen = true;
      continue;
    }
    if (cells.size() != columns)
      detail::fail_at(path, line_no, static_cast<int>(std::min(cells.size(), columns) + 1),
                      fmt::format("expected {} columns, found {}", columns, cells.size()));
    for (std::size_t c = 1; c < columns; c += 2) {
      double conf = 0.0, correct = 0.0;
      if (!detail::parse_double(cells[c], conf) || conf < 0.0 || conf > 1.0)
        detail::fail_at(path, line_no, static_cast<int>(c + 1),
                        fmt::format("confidence must be a number in [0, 1], found '{}'", cells[c]));
      if (!detail::parse_double(cells[c + 1], correct) || (correct != 0.0 && correct != 1.0))
        detail::fail_at(path, line_no, static_cast<int>(c + 2),
                        fmt::format("correct must be 0 or 1, found '{}'", cells[c + 1]));
      set.records.push_back({static_cast<float>(conf), correct == 1.0});
    }
  }
  if (!header_seen) throw Error(fmt::format("{}: empty replay file (no header)", path));
  if (set.records.empty()) throw Error(fmt::format("{}: replay file has no samples", path));
  return set;
}

void save_replay_csv(const ReplaySet& set, const std::string& path) {
  std::ofstream out(path);
  if (!out) throw Error(fmt::format("{}: cannot write replay file", path));
  out << "sample";
  for (int l = 1; l <= set.exits; ++l) out << ",conf_" << l << ",correct_" << l;
  out << '\n';
  for (int i = 0; i < set.samples(); ++i) {
    out << i;
    // {:.9g} round-trips a float exactly.
    for (const ExitRecord& r : set.sample(i)) out << fmt::format(",{:.9g},{}", r.confidence, r.correct ? 1 : 0);
    out << '\n';
  }
  if (!out) throw Error(fmt::format("{}: write failed", path));
}

ReplaySet generate_replay(const ParametricReplay& params, int samples, std::uint64_t seed) {
  const int exits = static_cast<int>(params.exit_accuracy.size());
  if (exits == 0) throw Error("parametric replay: exit_accuracy is empty");
  for (int l = 0; l < exits; ++l) {
    const double a = params.exit_accuracy[static_cast<std::size_t>(l)];
    if (!(a > 0.0 && a < 1.0))
      throw Error(fmt::format("parametric replay: exit_accuracy[{}]: must be in (0, 1), got {}", l, a));
  }
  if (params.classes < 2) throw Error(fmt::format("parametric replay: classes: must be >= 2, got {}", params.classes));
  if (!(params.noise >= 0.0)) throw Error(fmt::format("parametric replay: noise: must be >= 0, got {}", params.noise));
  if (!(params.sharpness > 0.0))
    throw Error(fmt::format("parametric replay: sharpness: must be > 0, got {}", params.sharpness));
  if (samples < 0) throw Error(fmt::format("parametric replay: samples: must be >= 0, got {}", samples));

  std::vector<double> threshold(static_cast<std::size_t>(exits));
  for (int l = 0; l < exits; ++l) threshold[static_cast<std::size_t>(l)] = normal_quantile(params.exit_accuracy[static_cast<std::size_t>(l)]);
  const double floor = 1.0 / params.classes;
  // Dividing by sqrt(1 + noise^2) keeps z_l standard normal, so P(correct at l) = acc_l exactly.
  const double scale = 1.0 / std::sqrt(1.0 + params.noise * params.noise);

  ReplaySet set;
  set.exits = exits;
  set.records.resize(static_cast<std::size_t>(samples) * static_cast<std::size_t>(exits));
  for (int i = 0; i < samples; ++i) {
    // One generator per sample: sample i is the same whatever the set's size.
    Rng rng(hash_of({seed, static_cast<std::uint64_t>(i), 0x7265706c6179ULL}));
    const double z = rng.normal();  // latent difficulty (probit of u ~ U(0,1))
    for (int l = 0; l < exits; ++l) {
      const double z_l = (z + params.noise * rng.normal()) * scale;
      const double margin = threshold[static_cast<std::size_t>(l)] - z_l;
      const double seen = margin + params.noise * rng.normal();
      const double s = 1.0 / (1.0 + std::exp(-(params.sharpness * seen + 0.5)));
      ExitRecord& r = set.records[static_cast<std::size_t>(i) * static_cast<std::size_t>(exits) + static_cast<std::size_t>(l)];
      r.confidence = static_cast<float>(floor + (1.0 - floor) * s);
      r.correct = margin > 0.0;
    }
  }
  return set;
}

}  // namespace imprecise::sim
