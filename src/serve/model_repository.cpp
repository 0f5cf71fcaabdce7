// Reading a model repository: DIR/<name>/config.json per model, and the network + description it names.
#include "imprecise/serve/model_repository.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "imprecise/data/calibration.hpp"
#include "imprecise/error.hpp"
#include "imprecise/nn/profiler.hpp"
#include "imprecise/sim/scenario.hpp"

namespace imprecise::serve {

namespace fs = std::filesystem;

namespace {

nlohmann::json read_json(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(fmt::format("{}: cannot open", file.string()));
  std::ostringstream text;
  text << in.rdbuf();
  try {
    return nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(fmt::format("{}: malformed JSON: {}", file.string(), e.what()));
  }
}

// One config key of a given kind, or its default when absent; a wrong type throws naming the key.
class ConfigReader {
 public:
  ConfigReader(const nlohmann::json& doc, const fs::path& file) : doc_(doc), file_(file.string()) {}

  fs::path path(const char* key, const fs::path& fallback) const {
    const auto* v = find(key);
    if (!v) return fallback;
    if (!v->is_string() || v->get<std::string>().empty()) fail(key, "must be a non-empty path string");
    return v->get<std::string>();
  }
  int integer(const char* key, int fallback, int lo, int hi) const {
    const auto* v = find(key);
    if (!v) return fallback;
    if (!v->is_number_integer() || v->get<std::int64_t>() < lo || v->get<std::int64_t>() > hi)
      fail(key, fmt::format("must be an integer in [{}, {}]", lo, hi));
    return static_cast<int>(v->get<std::int64_t>());
  }
  double number(const char* key, double fallback, double lo, double hi) const {
    const auto* v = find(key);
    if (!v) return fallback;
    if (!v->is_number() || !(v->get<double>() >= lo && v->get<double>() <= hi))
      fail(key, fmt::format("must be a number in [{}, {}]", lo, hi));
    return v->get<double>();
  }
  std::string string(const char* key, std::string fallback) const {
    const auto* v = find(key);
    if (!v) return fallback;
    if (!v->is_string() || v->get<std::string>().empty()) fail(key, "must be a non-empty string");
    return v->get<std::string>();
  }
  std::vector<std::string> strings(const char* key) const {
    std::vector<std::string> out;
    const auto* v = find(key);
    if (!v) return out;
    if (!v->is_array()) fail(key, "must be an array of strings");
    for (std::size_t i = 0; i < v->size(); ++i) {
      if (!(*v)[i].is_string()) fail(fmt::format("{}[{}]", key, i).c_str(), "must be a string");
      out.push_back((*v)[i].get<std::string>());
    }
    return out;
  }
  [[noreturn]] void fail(const char* key, const std::string& what) const {
    throw Error(fmt::format("{}: {}: {}", file_, key, what));
  }

 private:
  const nlohmann::json* find(const char* key) const {
    const auto it = doc_.find(key);
    return it == doc_.end() ? nullptr : &*it;
  }
  const nlohmann::json& doc_;
  std::string file_;
};

constexpr const char* kKeys[] = {"model", "profile", "calibration", "mandatory_depth", "max_batch",
                                 "default_deadline_ms", "labels", "version"};

}  // namespace

ModelConfig read_model_config(const fs::path& folder) {
  const fs::path file = folder / "config.json";
  const nlohmann::json doc = read_json(file);
  if (!doc.is_object()) throw Error(fmt::format("{}: (top level): must be an object", file.string()));
  for (const auto& item : doc.items())
    if (std::none_of(std::begin(kKeys), std::end(kKeys), [&](const char* k) { return item.key() == k; }))
      throw Error(fmt::format("{}: {}: unknown key (known: model, profile, calibration, mandatory_depth, max_batch, "
                              "default_deadline_ms, labels, version)",
                              file.string(), item.key()));
  const ConfigReader read(doc, file);
  ModelConfig c;
  c.name = folder.filename().string();
  c.folder = folder;
  c.model = folder / read.path("model", c.model);
  c.profile = folder / read.path("profile", c.profile);
  c.calibration = folder / read.path("calibration", c.calibration);
  c.mandatory_depth = read.integer("mandatory_depth", c.mandatory_depth, 1, 1000);
  c.max_batch = read.integer("max_batch", c.max_batch, 1, 1024);
  const double deadline_ms = read.number("default_deadline_ms", 100.0, 0.001, 3.6e6);
  c.default_deadline = std::chrono::microseconds(static_cast<std::int64_t>(deadline_ms * 1000.0));
  c.labels = read.strings("labels");
  c.version = read.string("version", c.version);
  return c;
}

std::vector<ModelConfig> read_repository(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw Error(fmt::format("{}: model repository: not a directory", dir.string()));
  std::vector<ModelConfig> models;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.is_directory() && fs::exists(entry.path() / "config.json")) models.push_back(read_model_config(entry.path()));
  if (models.empty())
    throw Error(fmt::format("{}: model repository: no model folder (each needs a config.json)", dir.string()));
  std::sort(models.begin(), models.end(), [](const ModelConfig& a, const ModelConfig& b) { return a.name < b.name; });
  return models;
}

runtime::ServedModel load_served_model(const ModelConfig& config, const std::string& backend) {
  const std::string where = fmt::format("model '{}'", config.name);
  if (!fs::exists(config.model)) throw Error(fmt::format("{}: {}: no such model file", where, config.model.string()));
  if (!fs::exists(config.profile))
    throw Error(fmt::format("{}: {}: no such profile (write one with `imprecise profile`)", where, config.profile.string()));
  sim::ProfileTables tables = sim::load_profile_tables(config.profile.string());  // with its concurrent tables
  Profile& profile = tables.profile;
  int profiled_batch = profile.max_batch();
  for (const Profile& t : tables.concurrent) profiled_batch = std::max(profiled_batch, t.max_batch());

  nn::MultiExitModel::Options options;
  if (!backend.empty()) options.backend = backend;
  options.compile.max_batch = std::max(config.max_batch, profiled_batch);  // the engine checks every profiled batch
  options.mandatory_depth = config.mandatory_depth;
  options.labels = config.labels;
  UtilityModel utility;
  const bool calibrated = fs::exists(config.calibration);
  if (calibrated) {
    data::Calibration calibration = data::load_calibration(config.calibration.string());
    options.temperatures.assign(calibration.temperatures.begin(), calibration.temperatures.end());
    utility = std::move(calibration.utility);
  }
  nn::MultiExitModel network = nn::MultiExitModel::load(config.model.string(), options);
  if (network.stages() != profile.stages())
    throw Error(fmt::format("{}: {}: the profile has {} stages, the network {}", where, config.profile.string(),
                            profile.stages(), network.stages()));
  if (calibrated && utility.exits() != network.stages())
    throw Error(fmt::format("{}: {}: the calibration has {} exits, the network {}", where, config.calibration.string(),
                            utility.exits(), network.stages()));
  Model description = calibrated ? nn::describe(network, std::move(profile), std::move(utility), config.name)
                                 : nn::describe(network, std::move(profile), {}, config.name);
  description.concurrent = std::move(tables.concurrent);  // what an engine with several lanes plans with
  return {std::move(network), std::move(description)};
}

}  // namespace imprecise::serve
