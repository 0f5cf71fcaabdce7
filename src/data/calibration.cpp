// Temperature scaling, replay records and utility tables from a model's evaluation on the calibration split.
#include "imprecise/data/calibration.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "imprecise/error.hpp"

namespace imprecise::data {

namespace {

// Mean negative log-likelihood of softmax(logits / t).
double mean_nll(std::span<const float> logits, int classes, std::span<const int> labels, double t) {
  const auto c = static_cast<std::size_t>(classes);
  double total = 0.0;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const auto row = logits.subspan(i * c, c);
    const double top = *std::max_element(row.begin(), row.end()) / t;
    double sum = 0.0;
    for (float z : row) sum += std::exp(z / t - top);
    total += std::log(sum) + top - row[static_cast<std::size_t>(labels[i])] / t;
  }
  return labels.empty() ? 0.0 : total / static_cast<double>(labels.size());
}

float max_prob(std::span<const float> row, double t) {
  const double top = *std::max_element(row.begin(), row.end()) / t;
  double sum = 0.0;
  for (float z : row) sum += std::exp(z / t - top);
  return static_cast<float>(1.0 / sum);  // the top class's exp(0) over the sum
}

}  // namespace

double fit_temperature(std::span<const float> logits, int classes, std::span<const int> labels) {
  if (classes < 2 || logits.size() != labels.size() * static_cast<std::size_t>(classes))
    throw Error(fmt::format("fit_temperature: {} logits for {} samples of {} classes", logits.size(), labels.size(), classes));
  for (int label : labels)
    if (label < 0 || label >= classes) throw Error(fmt::format("fit_temperature: label {} outside [0, {})", label, classes));
  // NLL is unimodal in log T for softmax scaling; golden-section search over T in [e^-3, e^3].
  const double phi = (std::sqrt(5.0) - 1.0) / 2.0;
  double lo = -3.0, hi = 3.0;
  double a = hi - phi * (hi - lo), b = lo + phi * (hi - lo);
  double fa = mean_nll(logits, classes, labels, std::exp(a)), fb = mean_nll(logits, classes, labels, std::exp(b));
  for (int iteration = 0; iteration < 60; ++iteration) {
    if (fa < fb) {
      hi = b;
      b = a;
      fb = fa;
      a = hi - phi * (hi - lo);
      fa = mean_nll(logits, classes, labels, std::exp(a));
    } else {
      lo = a;
      a = b;
      fa = fb;
      b = lo + phi * (hi - lo);
      fb = mean_nll(logits, classes, labels, std::exp(b));
    }
  }
  return std::exp((lo + hi) / 2.0);
}

std::vector<ExitRecord> records_with_temperatures(const Evaluation& evaluation, std::span<const int> classes,
                                                  std::span<const int> labels, std::span<const double> temperatures) {
  const std::size_t exits = classes.size();
  std::size_t row = 0;
  for (int c : classes) row += static_cast<std::size_t>(c);
  if (temperatures.size() != exits || labels.size() != evaluation.samples ||
      evaluation.logits.size() != evaluation.samples * row)
    throw Error("records_with_temperatures: the evaluation kept no logits, or sizes disagree");
  std::vector<ExitRecord> records(evaluation.samples * exits);
  for (std::size_t i = 0; i < evaluation.samples; ++i) {
    std::size_t offset = i * row;
    for (std::size_t k = 0; k < exits; ++k) {
      const std::span<const float> logits(evaluation.logits.data() + offset, static_cast<std::size_t>(classes[k]));
      const auto prediction = static_cast<int>(std::max_element(logits.begin(), logits.end()) - logits.begin());
      records[i * exits + k] = ExitRecord{max_prob(logits, temperatures[k]), prediction == labels[i]};
      offset += static_cast<std::size_t>(classes[k]);
    }
  }
  return records;
}

Calibration calibrate(const Evaluation& evaluation, std::span<const int> classes, std::span<const int> labels,
                      const CalibrationOptions& options) {
  const int exits = static_cast<int>(classes.size());
  if (exits < 1 || evaluation.exits.size() != classes.size())
    throw Error(fmt::format("calibrate: {} exits evaluated, {} class counts given", evaluation.exits.size(), classes.size()));
  Calibration result;
  result.temperatures.assign(classes.size(), 1.0);
  for (int k = 1; k <= exits; ++k)
    result.ece_raw.push_back(expected_calibration_error(evaluation.records, exits, k, options.ece_bins));
  std::vector<ExitRecord> records = evaluation.records;
  if (options.temperature_scaling) {
    std::size_t row = 0;
    for (int c : classes) row += static_cast<std::size_t>(c);
    std::vector<float> exit_logits;
    std::size_t offset = 0;
    for (std::size_t k = 0; k < classes.size(); ++k) {
      const auto c = static_cast<std::size_t>(classes[k]);
      exit_logits.resize(evaluation.samples * c);
      for (std::size_t i = 0; i < evaluation.samples; ++i)
        std::copy_n(evaluation.logits.begin() + static_cast<std::ptrdiff_t>(i * row + offset), c,
                    exit_logits.begin() + static_cast<std::ptrdiff_t>(i * c));
      result.temperatures[k] = fit_temperature(exit_logits, classes[k], labels);
      offset += c;
    }
    records = records_with_temperatures(evaluation, classes, labels, result.temperatures);
  }
  for (int k = 1; k <= exits; ++k) result.ece.push_back(expected_calibration_error(records, exits, k, options.ece_bins));
  result.replay.exits = exits;
  result.replay.records = std::move(records);
  result.utility = UtilityModel::calibrate(exits, result.replay.records, options.bins, true, options.spacing);
  return result;
}

nlohmann::json to_json(const Calibration& calibration) {
  const UtilityModel& u = calibration.utility;
  nlohmann::json out = {{"exits", u.exits()},         {"bins", u.bins()},          {"temperatures", calibration.temperatures},
                        {"ece_raw", calibration.ece_raw}, {"ece", calibration.ece}, {"prior", u.prior_table()},
                        {"table", u.table()}};
  // Equal-width tables (all written so far) carry no edges; a reader treats a file without them so.
  if (!u.edges().empty()) out["edges"] = u.edges();
  return out;
}

Calibration load_calibration(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(fmt::format("{}: cannot open calibration file", path));
  std::ostringstream text;
  text << in.rdbuf();
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::parse_error& e) {
    std::string what = e.what();
    if (auto pos = what.find("] "); pos != std::string::npos) what = what.substr(pos + 2);
    throw Error(fmt::format("{}: malformed JSON: {}", path, what));
  }
  if (!doc.is_object()) throw Error(fmt::format("{}: (top level): must be an object", path));
  static constexpr const char* kKeys[] = {"exits", "bins", "temperatures", "ece_raw", "ece", "prior", "table", "edges"};
  for (const auto& item : doc.items()) {
    if (std::find_if(std::begin(kKeys), std::end(kKeys), [&](const char* k) { return item.key() == k; }) == std::end(kKeys))
      throw Error(fmt::format("{}: {}: unknown key (known: exits, bins, temperatures, ece_raw, ece, prior, table, edges)", path,
                              item.key()));
  }
  const auto integer = [&](const char* key) {
    const auto it = doc.find(key);
    if (it == doc.end()) throw Error(fmt::format("{}: {}: missing field", path, key));
    if (!it->is_number_integer() || it->get<std::int64_t>() < 1 || it->get<std::int64_t>() > 1000000)
      throw Error(fmt::format("{}: {}: must be a positive integer", path, key));
    return static_cast<int>(it->get<std::int64_t>());
  };
  const auto numbers = [&](const char* key, std::size_t size, bool required) {
    std::vector<double> out;
    const auto it = doc.find(key);
    if (it == doc.end()) {
      if (required) throw Error(fmt::format("{}: {}: missing field", path, key));
      return out;
    }
    if (!it->is_array() || it->size() != size)
      throw Error(fmt::format("{}: {}: must be an array of {} numbers", path, key, size));
    for (std::size_t i = 0; i < size; ++i) {
      const auto& v = (*it)[i];
      if (!v.is_number() || !std::isfinite(v.get<double>()))
        throw Error(fmt::format("{}: {}[{}]: must be a finite number", path, key, i));
      out.push_back(v.get<double>());
    }
    return out;
  };
  const int exits = integer("exits");
  const int bins = integer("bins");
  const auto L = static_cast<std::size_t>(exits);
  Calibration calibration;
  calibration.temperatures = numbers("temperatures", L, false);
  if (calibration.temperatures.empty()) calibration.temperatures.assign(L, 1.0);
  for (std::size_t k = 0; k < L; ++k)
    if (!(calibration.temperatures[k] > 0.0)) throw Error(fmt::format("{}: temperatures[{}]: must be > 0", path, k));
  calibration.ece_raw = numbers("ece_raw", L, false);
  calibration.ece = numbers("ece", L, false);
  std::vector<double> prior = numbers("prior", L, true);
  std::vector<double> table = numbers("table", L * static_cast<std::size_t>(bins) * L, true);
  // Equal-mass tables carry their bin edges; without them the bins are equal widths.
  std::vector<double> edges = numbers("edges", L * static_cast<std::size_t>(bins - 1), false);
  try {
    calibration.utility = UtilityModel(exits, bins, std::move(prior), std::move(table), std::move(edges));
  } catch (const Error& e) {
    throw Error(fmt::format("{}: {}", path, e.what()));
  }
  return calibration;
}

}  // namespace imprecise::data
