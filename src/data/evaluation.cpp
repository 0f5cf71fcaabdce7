// evaluate(): every exit of a multi-exit model over a labelled set, batched, timed per stage.
#include "imprecise/data/evaluation.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include <fmt/core.h>

#include "imprecise/error.hpp"

namespace imprecise::data {

double expected_calibration_error(std::span<const ExitRecord> records, int exits, int exit, int bins) {
  if (exits < 1 || exit < 1 || exit > exits || bins < 1 || records.size() % static_cast<std::size_t>(exits) != 0)
    throw Error(fmt::format("expected_calibration_error: exit {} of {} with {} bins over {} records", exit, exits,
                            bins, records.size()));
  const std::size_t samples = records.size() / static_cast<std::size_t>(exits);
  if (samples == 0) return 0.0;
  std::vector<double> confidence(static_cast<std::size_t>(bins), 0.0), correct(static_cast<std::size_t>(bins), 0.0);
  std::vector<std::size_t> count(static_cast<std::size_t>(bins), 0);
  for (std::size_t i = 0; i < samples; ++i) {
    const ExitRecord& r = records[i * static_cast<std::size_t>(exits) + static_cast<std::size_t>(exit - 1)];
    const auto b = static_cast<std::size_t>(std::clamp(static_cast<int>(r.confidence * static_cast<float>(bins)), 0, bins - 1));
    confidence[b] += r.confidence;
    correct[b] += r.correct ? 1.0 : 0.0;
    ++count[b];
  }
  double ece = 0.0;
  for (std::size_t b = 0; b < count.size(); ++b)
    if (count[b] > 0) ece += std::abs(correct[b] - confidence[b]) / static_cast<double>(samples);
  return ece;
}

double any_exit_accuracy(std::span<const ExitRecord> records, int exits) {
  if (exits < 1 || records.size() % static_cast<std::size_t>(exits) != 0)
    throw Error(fmt::format("any_exit_accuracy: {} records are not samples x {} exits", records.size(), exits));
  const std::size_t width = static_cast<std::size_t>(exits), samples = records.size() / width;
  if (samples == 0) return 0.0;
  std::size_t right = 0;
  for (std::size_t i = 0; i < records.size(); i += width)
    right += std::any_of(records.begin() + static_cast<std::ptrdiff_t>(i),
                         records.begin() + static_cast<std::ptrdiff_t>(i + width), [](const ExitRecord& r) { return r.correct; });
  return static_cast<double>(right) / static_cast<double>(samples);
}

double confidence_auroc(std::span<const ExitRecord> records, int exits, int exit) {
  if (exits < 1 || exit < 1 || exit > exits || records.size() % static_cast<std::size_t>(exits) != 0)
    throw Error(fmt::format("confidence_auroc: exit {} of {} over {} records", exit, exits, records.size()));
  std::vector<std::pair<float, bool>> scored;
  for (std::size_t i = static_cast<std::size_t>(exit - 1); i < records.size(); i += static_cast<std::size_t>(exits))
    scored.emplace_back(records[i].confidence, records[i].correct);
  std::sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  // Mann-Whitney U: the rank sum of the correct samples, tied confidences sharing their mean rank.
  double rank_sum = 0.0, positives = 0.0;
  for (std::size_t begin = 0; begin < scored.size();) {
    std::size_t end = begin;
    while (end < scored.size() && scored[end].first == scored[begin].first) ++end;
    const double mean_rank = 0.5 * static_cast<double>(begin + 1 + end);  // ranks begin+1 .. end
    for (std::size_t i = begin; i < end; ++i)
      if (scored[i].second) {
        rank_sum += mean_rank;
        positives += 1.0;
      }
    begin = end;
  }
  const double negatives = static_cast<double>(scored.size()) - positives;
  if (positives == 0.0 || negatives == 0.0) return std::numeric_limits<double>::quiet_NaN();
  return (rank_sum - positives * (positives + 1.0) / 2.0) / (positives * negatives);
}

Evaluation evaluate(nn::MultiExitModel& model, const LabeledSet& set, const EvaluationOptions& options) {
  const std::size_t n = set.size();
  if (set.inputs.batch() != static_cast<std::int64_t>(n))
    throw Error(fmt::format("evaluate: {} inputs but {} labels", set.inputs.batch(), n));
  const int exits = model.stages();
  for (int k = 0; k < exits; ++k) {
    const std::int64_t classes = model.classes(k);
    for (std::size_t i = 0; i < n; ++i)
      if (set.labels[i] < 0 || set.labels[i] >= classes)
        throw Error(fmt::format("evaluate: label {} of sample {} outside exit {}'s {} classes", set.labels[i], i, k + 1,
                                classes));
  }
  const int batch = std::clamp(options.batch, 1, model.max_batch());
  Evaluation result;
  result.samples = n;
  result.batch = batch;
  result.records.resize(n * static_cast<std::size_t>(exits));
  std::vector<double> stage_seconds(static_cast<std::size_t>(exits), 0.0);
  std::size_t batches = 0;

  nn::Shape sample_shape = set.inputs.shape();
  sample_shape[0] = 1;
  nn::Tensor one(sample_shape);
  std::vector<nn::JobState> jobs;
  std::vector<nn::JobState*> pointers;
  std::vector<nn::ExitResult> results(static_cast<std::size_t>(batch));
  for (std::size_t begin = 0; begin < n; begin += static_cast<std::size_t>(batch)) {
    const std::size_t end = std::min(n, begin + static_cast<std::size_t>(batch));
    jobs.clear();
    pointers.clear();
    for (std::size_t i = begin; i < end; ++i) {
      std::copy_n(set.inputs.sample(i).begin(), one.size(), one.values().begin());
      jobs.push_back(model.start(one));
    }
    for (auto& job : jobs) pointers.push_back(&job);
    ++batches;
    for (int k = 0; k < exits; ++k) {
      const auto started = std::chrono::steady_clock::now();
      model.run_stage(k, pointers, std::span<nn::ExitResult>(results.data(), pointers.size()));
      stage_seconds[static_cast<std::size_t>(k)] +=
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      for (std::size_t j = 0; j < pointers.size(); ++j) {
        const nn::ExitResult& r = results[j];
        const std::size_t i = begin + j;
        result.records[i * static_cast<std::size_t>(exits) + static_cast<std::size_t>(k)] =
            ExitRecord{r.confidence, r.prediction == set.labels[i]};
        if (options.keep_logits) result.logits.insert(result.logits.end(), r.logits.begin(), r.logits.end());
      }
    }
  }
  if (options.keep_logits) {
    // Collected per (batch, exit, sample); reorder to samples x exits x classes.
    std::vector<float> ordered(result.logits.size());
    std::size_t at = 0;
    std::vector<std::size_t> offset(static_cast<std::size_t>(exits) + 1, 0);
    for (int k = 0; k < exits; ++k)
      offset[static_cast<std::size_t>(k) + 1] = offset[static_cast<std::size_t>(k)] + static_cast<std::size_t>(model.classes(k));
    const std::size_t row = offset.back();
    for (std::size_t begin = 0; begin < n; begin += static_cast<std::size_t>(batch)) {
      const std::size_t end = std::min(n, begin + static_cast<std::size_t>(batch));
      for (int k = 0; k < exits; ++k) {
        const std::size_t c = static_cast<std::size_t>(model.classes(k));
        for (std::size_t i = begin; i < end; ++i, at += c)
          std::copy_n(result.logits.begin() + static_cast<std::ptrdiff_t>(at), c,
                      ordered.begin() + static_cast<std::ptrdiff_t>(i * row + offset[static_cast<std::size_t>(k)]));
      }
    }
    result.logits = std::move(ordered);
  }
  for (int k = 0; k < exits; ++k) {
    ExitEvaluation e;
    std::size_t right = 0;
    for (std::size_t i = 0; i < n; ++i) right += result.records[i * static_cast<std::size_t>(exits) + static_cast<std::size_t>(k)].correct;
    e.accuracy = n > 0 ? static_cast<double>(right) / static_cast<double>(n) : 0.0;
    e.ece = expected_calibration_error(result.records, exits, k + 1, options.ece_bins);
    e.auroc = confidence_auroc(result.records, exits, k + 1);
    e.mean_stage_ms = batches > 0 ? 1e3 * stage_seconds[static_cast<std::size_t>(k)] / static_cast<double>(batches) : 0.0;
    result.exits.push_back(e);
  }
  result.any_exit_accuracy = any_exit_accuracy(result.records, exits);
  return result;
}

}  // namespace imprecise::data
