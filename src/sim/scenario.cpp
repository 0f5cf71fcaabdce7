// Scenario files: JSON parsing with errors that name file and field, and the load normalisation.
#include "imprecise/sim/scenario.hpp"

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "imprecise/error.hpp"

namespace imprecise::sim {
namespace {

using nlohmann::json;

/// A JSON node plus its path ("models[0].profile"), so every error can name the field.
struct Node {
  const json& value;
  std::string path;
  const std::string& where;

  [[noreturn]] void fail(const std::string& what) const {
    throw Error(fmt::format("{}: {}: {}", where, path.empty() ? "(top level)" : path, what));
  }
  std::string child_path(const std::string& key) const { return path.empty() ? key : path + "." + key; }
  bool has(const std::string& key) const { return value.is_object() && value.contains(key); }
  Node at(const std::string& key) const {
    if (!value.is_object()) fail("must be an object");
    auto it = value.find(key);
    if (it == value.end()) throw Error(fmt::format("{}: {}: missing field", where, child_path(key)));
    return {*it, child_path(key), where};
  }
  Node at(std::size_t i) const { return {value[i], fmt::format("{}[{}]", path, i), where}; }
  std::size_t size() const { return value.size(); }
  /// Scenario files are a closed format: a key not in `known` is a typo ("wieght"), named with the known ones.
  void only(std::initializer_list<const char*> known) const {
    if (!value.is_object()) return;
    for (const auto& item : value.items()) {
      bool ok = false;
      for (const char* k : known) ok = ok || item.key() == k;
      if (ok) continue;
      std::string list;
      for (const char* k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      throw Error(fmt::format("{}: {}: unknown key (known here: {})", where, child_path(item.key()), list));
    }
  }

  const json& array() const {
    if (!value.is_array()) fail("must be an array");
    return value;
  }
  std::string str() const {
    if (!value.is_string()) fail("must be a string");
    return value.get<std::string>();
  }
  double num() const {
    if (!value.is_number()) fail("must be a number");
    const double v = value.get<double>();
    if (!std::isfinite(v)) fail("must be finite");
    return v;
  }
  double positive() const {
    const double v = num();
    if (!(v > 0.0)) fail(fmt::format("must be > 0, got {}", v));
    return v;
  }
  double non_negative() const {
    const double v = num();
    if (v < 0.0) fail(fmt::format("must be >= 0, got {}", v));
    return v;
  }
  std::int64_t integer(std::int64_t lo, std::int64_t hi) const {
    if (!value.is_number_integer()) fail("must be an integer");
    const std::int64_t v = value.get<std::int64_t>();
    if (v < lo || v > hi) fail(fmt::format("must be in [{}, {}], got {}", lo, hi, v));
    return v;
  }
  std::vector<double> numbers() const {
    array();
    if (value.empty()) fail("must not be empty");
    std::vector<double> out;
    for (std::size_t i = 0; i < size(); ++i) out.push_back(at(i).num());
    return out;
  }
};

std::string resolve(const std::string& base_dir, const std::string& path) {
  std::filesystem::path p(path);
  if (p.is_absolute()) return path;
  return (std::filesystem::path(base_dir) / p).lexically_normal().string();
}

// Stage times of a lognormal with the given mean and coefficient of variation.
StageTiming lognormal_timing(double mean_ms, double cv) {
  const double sigma = std::sqrt(std::log1p(cv * cv));
  const double p50 = mean_ms / std::exp(0.5 * sigma * sigma);
  StageTiming t;
  t.mean = from_ms(mean_ms);
  t.p50 = from_ms(p50);
  t.p99 = from_ms(p50 * std::exp(2.326 * sigma));
  t.max = from_ms(p50 * std::exp(3.719 * sigma));
  return t;
}

std::vector<int> parse_batch_sizes(const Node& n) {
  n.array();
  if (n.size() == 0) n.fail("must not be empty");
  std::vector<int> sizes;
  for (std::size_t i = 0; i < n.size(); ++i) sizes.push_back(static_cast<int>(n.at(i).integer(1, 4096)));
  if (sizes.front() != 1) n.fail("must start at 1");
  for (std::size_t i = 1; i < sizes.size(); ++i)
    if (sizes[i] <= sizes[i - 1]) n.at(i).fail("batch sizes must be strictly increasing");
  return sizes;
}

Profile parse_table(const Node& n);

Profile parse_profile(const Node& n) {
  if (!n.value.is_object()) n.fail("must be an object");
  if (n.has("stage_ms")) {
    n.only({"stage_ms", "batch_scaling", "cv", "batch_sizes"});
    if (n.has("stages")) n.fail("give either 'stage_ms' (shorthand) or 'stages' (measured table), not both");
    const Node stage_ms = n.at("stage_ms");
    std::vector<double> means = stage_ms.numbers();
    for (std::size_t s = 0; s < means.size(); ++s)
      if (!(means[s] > 0.0)) stage_ms.at(s).fail(fmt::format("must be > 0, got {}", means[s]));
    const double scaling = n.has("batch_scaling") ? n.at("batch_scaling").non_negative() : 0.35;
    const double cv = n.has("cv") ? n.at("cv").non_negative() : 0.08;
    const std::vector<int> sizes = n.has("batch_sizes") ? parse_batch_sizes(n.at("batch_sizes")) : std::vector<int>{1, 2, 4, 8};
    std::vector<std::vector<StageTiming>> table(means.size());
    for (std::size_t s = 0; s < means.size(); ++s)
      for (int b : sizes) table[s].push_back(lognormal_timing(means[s] * (1.0 + scaling * (b - 1)), cv));
    return Profile(sizes, std::move(table), n.where + ": " + n.path);
  }
  if (!n.has("stages")) n.fail("missing field 'stage_ms' (shorthand) or 'stages' (measured table)");
  n.only({"batch_sizes", "stages", "concurrent"});
  return parse_table(n);
}

// Model::concurrent from a measured profile's "concurrent": [{"lanes": 2, "batch_sizes", "stages"}, ...]
// (lanes 2, 3, ... in order, each table with the alone table's stages). None: empty.
std::vector<Profile> parse_concurrent(const Node& n, const Profile& alone) {
  std::vector<Profile> tables;
  if (!n.has("concurrent")) return tables;
  const Node list = n.at("concurrent");
  list.array();
  for (std::size_t i = 0; i < list.size(); ++i) {
    const Node entry = list.at(i);
    if (!entry.value.is_object()) entry.fail("must be an object");
    entry.only({"lanes", "batch_sizes", "stages"});
    const Node lanes = entry.at("lanes");
    if (!lanes.value.is_number_integer() || lanes.value.get<std::int64_t>() != static_cast<std::int64_t>(i + 2))
      lanes.fail("must be 2, 3, ... in order");
    Profile table = parse_table(entry);
    if (table.stages() != alone.stages())
      entry.at("stages").fail(fmt::format("has {} stages, the profile {}", table.stages(), alone.stages()));
    tables.push_back(std::move(table));
  }
  return tables;
}

// A profile as a scenario model or a profile file gives it: the alone table and the concurrent ones.
ProfileTables parse_profile_tables(const Node& n) {
  ProfileTables t;
  t.profile = parse_profile(n);
  t.concurrent = parse_concurrent(n, t.profile);
  return t;
}

Profile parse_table(const Node& n) {
  const std::vector<int> sizes = parse_batch_sizes(n.at("batch_sizes"));
  const Node stages = n.at("stages");
  stages.array();
  if (stages.size() == 0) stages.fail("must not be empty");
  std::vector<std::vector<StageTiming>> table;
  for (std::size_t s = 0; s < stages.size(); ++s) {
    const Node row = stages.at(s);
    row.array();
    if (row.size() != sizes.size())
      row.fail(fmt::format("has {} entries, batch_sizes has {}", row.size(), sizes.size()));
    std::vector<StageTiming> timings;
    for (std::size_t i = 0; i < row.size(); ++i) {
      const Node cell = row.at(i);
      cell.only({"mean_ms", "p50_ms", "p99_ms", "max_ms"});
      StageTiming t;
      t.mean = from_ms(cell.at("mean_ms").positive());
      t.p50 = from_ms(cell.at("p50_ms").positive());
      t.p99 = from_ms(cell.at("p99_ms").positive());
      t.max = from_ms(cell.at("max_ms").positive());
      if (t.p99 < t.p50) cell.at("p99_ms").fail("must be >= p50_ms");
      if (t.max < t.p99) cell.at("max_ms").fail("must be >= p99_ms");
      timings.push_back(t);
    }
    table.push_back(std::move(timings));
  }
  return Profile(sizes, std::move(table), n.where + ": " + n.path);
}

struct ReplayParts {
  UtilityModel utility;
  ReplaySet calibration, test;
};

ReplayParts parse_replay(const Node& n, int stages, const std::string& base_dir) {
  if (!n.value.is_object()) n.fail("must be an object");
  n.only({"parametric", "calibration_samples", "test_samples", "seed", "test_seed", "calibration_csv", "test_csv", "bins",
          "bin_spacing"});
  const int bins = n.has("bins") ? static_cast<int>(n.at("bins").integer(1, 1000)) : 10;
  BinSpacing spacing = kDefaultBinSpacing;
  if (n.has("bin_spacing")) {
    const Node s = n.at("bin_spacing");
    if (s.str() == "equal_mass") spacing = BinSpacing::equal_mass;
    else if (s.str() == "equal_width") spacing = BinSpacing::equal_width;
    else s.fail("must be \"equal_width\" or \"equal_mass\"");
  }
  ReplaySet calibration, test;
  if (n.has("parametric")) {
    const Node p = n.at("parametric");
    p.only({"exit_accuracy", "classes", "noise", "sharpness"});
    ParametricReplay params;
    const Node acc = p.at("exit_accuracy");
    params.exit_accuracy = acc.numbers();
    for (std::size_t l = 0; l < params.exit_accuracy.size(); ++l) {
      const double a = params.exit_accuracy[l];
      if (!(a > 0.0 && a < 1.0)) acc.at(l).fail(fmt::format("must be in (0, 1), got {}", a));
    }
    if (static_cast<int>(params.exit_accuracy.size()) != stages)
      acc.fail(fmt::format("has {} exits but the profile has {} stages", params.exit_accuracy.size(), stages));
    if (p.has("classes")) params.classes = static_cast<int>(p.at("classes").integer(2, 1000000));
    if (p.has("noise")) params.noise = p.at("noise").non_negative();
    if (p.has("sharpness")) params.sharpness = p.at("sharpness").positive();
    const int cal_n = n.has("calibration_samples") ? static_cast<int>(n.at("calibration_samples").integer(1, 10000000)) : 5000;
    const int test_n = n.has("test_samples") ? static_cast<int>(n.at("test_samples").integer(1, 10000000)) : 5000;
    const auto seed = static_cast<std::uint64_t>(n.has("seed") ? n.at("seed").integer(0, std::numeric_limits<std::int64_t>::max()) : 1);
    const auto test_seed = static_cast<std::uint64_t>(n.has("test_seed") ? n.at("test_seed").integer(0, std::numeric_limits<std::int64_t>::max())
                                                                          : static_cast<std::int64_t>(seed + 1));
    // Calibrating on the very samples the jobs carry would flatter the utility model.
    if (test_seed == seed) n.at("test_seed").fail("must differ from seed");
    calibration = generate_replay(params, cal_n, seed);
    test = generate_replay(params, test_n, test_seed);
  } else if (n.has("calibration_csv") || n.has("test_csv")) {
    const Node cal = n.at("calibration_csv"), tst = n.at("test_csv");
    // A missing or bad CSV names the scenario file and the field that named it, then the CSV's own error.
    try {
      calibration = load_replay_csv(resolve(base_dir, cal.str()));
    } catch (const Error& e) {
      cal.fail(e.what());
    }
    try {
      test = load_replay_csv(resolve(base_dir, tst.str()));
    } catch (const Error& e) {
      tst.fail(e.what());
    }
    if (calibration.exits != stages)
      cal.fail(fmt::format("has {} exits but the profile has {} stages", calibration.exits, stages));
    if (test.exits != stages) tst.fail(fmt::format("has {} exits but the profile has {} stages", test.exits, stages));
  } else {
    n.fail("needs 'parametric' or 'calibration_csv' + 'test_csv'");
  }
  ReplayParts parts;
  parts.utility = UtilityModel::calibrate(calibration.exits, calibration.records, bins, true, spacing);
  parts.calibration = std::move(calibration);
  parts.test = std::move(test);
  return parts;
}

StreamSpec parse_stream(const Node& n, const Scenario& sc, const std::string& base_dir) {
  if (!n.value.is_object()) n.fail("must be an object");
  n.only({"name", "model", "arrival", "rate_hz", "jitter_ms", "on_ms", "off_ms", "trace", "deadline_ms", "weight"});
  StreamSpec s;
  const Node model = n.at("model");
  const std::string model_name = model.str();
  s.model = -1;
  for (std::size_t m = 0; m < sc.models.size(); ++m)
    if (sc.models[m].name == model_name) s.model = static_cast<ModelId>(m);
  if (s.model < 0) model.fail(fmt::format("unknown model '{}'", model_name));
  s.name = n.has("name") ? n.at("name").str() : model_name;
  const Node arrival = n.at("arrival");
  try {
    s.kind = parse_arrival_kind(arrival.str());
  } catch (const Error& e) {
    arrival.fail(e.what());
  }
  s.relative_deadline = from_ms(n.at("deadline_ms").positive());
  if (s.relative_deadline <= 0) n.at("deadline_ms").fail("must be at least 1 ns");
  if (n.has("weight")) s.weight = n.at("weight").positive();
  if (s.kind == ArrivalKind::trace) {
    s.trace_file = resolve(base_dir, n.at("trace").str());
    std::vector<Time> times;
    try {
      times = load_trace_csv(s.trace_file);
    } catch (const Error& e) {
      n.at("trace").fail(e.what());
    }
    if (n.has("rate_hz")) {
      s.rate_hz = n.at("rate_hz").positive();
    } else {
      // Mean rate over the run, for the load normalisation only.
      std::size_t inside = 0;
      for (Time t : times) inside += t < sc.duration ? 1 : 0;
      s.rate_hz = static_cast<double>(inside) / to_seconds(sc.duration);
    }
  } else {
    s.rate_hz = n.at("rate_hz").positive();
  }
  if (n.has("jitter_ms")) {
    if (s.kind != ArrivalKind::periodic) n.at("jitter_ms").fail("only periodic streams take a jitter");
    s.jitter = from_ms(n.at("jitter_ms").non_negative());
  }
  if (s.kind == ArrivalKind::bursty) {
    s.on = from_ms(n.at("on_ms").positive());
    s.off = from_ms(n.at("off_ms").non_negative());
    if (s.on <= 0) n.at("on_ms").fail("must be at least 1 ns");
  } else {
    if (n.has("on_ms")) n.at("on_ms").fail("only bursty streams take on_ms");
    if (n.has("off_ms")) n.at("off_ms").fail("only bursty streams take off_ms");
  }
  return s;
}

nlohmann::json read_json(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(fmt::format("{}: cannot open {} file", path, what));
  std::ostringstream text;
  text << in.rdbuf();
  try {
    return nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::parse_error& e) {
    // Keep nlohmann's position, drop its "[json.exception.parse_error.101] " prefix.
    std::string what_failed = e.what();
    if (auto pos = what_failed.find("] "); pos != std::string::npos) what_failed = what_failed.substr(pos + 2);
    throw Error(fmt::format("{}: malformed JSON: {}", path, what_failed));
  }
}

}  // namespace

Scenario parse_scenario(const nlohmann::json& doc, const std::string& where, const std::string& base_dir) {
  const Node top{doc, "", where};
  if (!doc.is_object()) top.fail("a scenario must be a JSON object");
  top.only({"name", "duration_s", "max_batch", "models", "streams"});
  Scenario sc;
  sc.name = top.at("name").str();
  sc.duration = from_seconds(top.at("duration_s").positive());
  if (sc.duration <= 0) top.at("duration_s").fail("must be at least 1 ns");
  if (top.has("max_batch")) sc.max_batch = static_cast<int>(top.at("max_batch").integer(1, 4096));

  const Node models = top.at("models");
  models.array();
  if (models.size() == 0) models.fail("must not be empty");
  for (std::size_t m = 0; m < models.size(); ++m) {
    const Node mn = models.at(m);
    if (!mn.value.is_object()) mn.fail("must be an object");
    mn.only({"name", "mandatory", "profile", "replay"});
    Model model;
    model.name = mn.at("name").str();
    for (const Model& other : sc.models)
      if (other.name == model.name) mn.at("name").fail(fmt::format("duplicate model name '{}'", model.name));
    const Node profile = mn.at("profile");
    ProfileTables tables =
        profile.value.is_string() ? load_profile_tables(resolve(base_dir, profile.str())) : parse_profile_tables(profile);
    model.profile = std::move(tables.profile);
    model.concurrent = std::move(tables.concurrent);
    if (mn.has("mandatory")) model.mandatory_depth = static_cast<int>(mn.at("mandatory").integer(1, model.profile.stages()));
    ReplayParts parts = parse_replay(mn.at("replay"), model.profile.stages(), base_dir);
    model.utility = std::move(parts.utility);
    sc.models.push_back(std::move(model));
    sc.test_sets.push_back(std::move(parts.test));
    sc.calibration_sets.push_back(std::move(parts.calibration));
  }

  const Node streams = top.at("streams");
  streams.array();
  if (streams.size() == 0) streams.fail("must not be empty");
  for (std::size_t i = 0; i < streams.size(); ++i) sc.streams.push_back(parse_stream(streams.at(i), sc, base_dir));
  return sc;
}

Scenario load_scenario(const std::string& path) {
  const nlohmann::json doc = read_json(path, "scenario");
  const std::string base = std::filesystem::path(path).parent_path().string();
  return parse_scenario(doc, path, base.empty() ? "." : base);
}

ProfileTables load_profile_tables(const std::string& path) {
  const nlohmann::json doc = read_json(path, "profile");
  return parse_profile_tables(Node{doc, "", path});
}

Profile load_profile(const std::string& path) { return load_profile_tables(path).profile; }

nlohmann::json profile_to_json(const Profile& profile, const std::vector<Profile>& concurrent) {
  nlohmann::json j = profile_to_json(profile);
  if (concurrent.empty()) return j;
  nlohmann::json list = nlohmann::json::array();
  for (std::size_t i = 0; i < concurrent.size(); ++i) {
    nlohmann::json table = profile_to_json(concurrent[i]);
    list.push_back({{"lanes", i + 2}, {"batch_sizes", std::move(table["batch_sizes"])}, {"stages", std::move(table["stages"])}});
  }
  j["concurrent"] = std::move(list);
  return j;
}

nlohmann::json profile_to_json(const Profile& profile) {
  nlohmann::json stages = nlohmann::json::array();
  for (const auto& row : profile.table()) {
    nlohmann::json cells = nlohmann::json::array();
    for (const StageTiming& t : row)
      cells.push_back({{"mean_ms", to_ms(t.mean)}, {"p50_ms", to_ms(t.p50)}, {"p99_ms", to_ms(t.p99)}, {"max_ms", to_ms(t.max)}});
    stages.push_back(std::move(cells));
  }
  return {{"batch_sizes", profile.batch_sizes()}, {"stages", std::move(stages)}};
}

double full_depth_utilization(const Scenario& scenario) {
  double u = 0.0;
  for (const StreamSpec& s : scenario.streams) {
    const Model& m = scenario.models[static_cast<std::size_t>(s.model)];
    Duration full = 0;
    for (int st = 0; st < m.stages(); ++st) full += m.profile.timing(st, 1).mean;
    u += mean_rate_hz(s) * to_seconds(full);
  }
  return u;
}

double rate_scale_for_load(const Scenario& scenario, double load) {
  if (!(load > 0.0) || !std::isfinite(load)) throw Error(fmt::format("load: must be > 0, got {}", load));
  const double u = full_depth_utilization(scenario);
  if (!(u > 0.0)) throw Error(fmt::format("scenario '{}': no offered work (full-depth utilization is 0)", scenario.name));
  return load / u;
}

}  // namespace imprecise::sim
