// `imprecise profile --pipeline P`: what the scheduler needs from a trained model — stage times per batch
// size, per-exit temperatures, utility tables R(l | k, c) and the replay sets of the held-out splits.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "imprecise/data/calibration.hpp"
#include "imprecise/data/evaluation.hpp"
#include "imprecise/data/pipeline.hpp"
#include "imprecise/nn/multi_exit_model.hpp"
#include "imprecise/nn/profiler.hpp"
#include "imprecise/sim/replay.hpp"
#include "imprecise/sim/scenario.hpp"
#include "nn_commands.hpp"

namespace imprecise::cli {

namespace {

struct ProfileOptions {
  std::string pipeline;
  std::string model;
  std::string backend = nn::default_backend();
  std::string out_dir;
  std::string data_dir;
  std::string batches = "1,2,4,8,16,32";
  int repetitions = 50;
  int warmup = 5;
  int evict_mb = 0;  // MB written between stage runs, so that each starts on cold caches (0: warm)
  std::size_t calibration_limit = 0;
  std::size_t test_limit = 0;
  int bins = 10;
  bool equal_width = false;
  bool no_temperature = false;
  bool skip_timing = false;
  int concurrency = 1;            // also time the stages with 2..N replicas running at once
  bool concurrency_only = false;  // only those tables, merged into the existing profile file
};

void write_json(const std::string& path, const nlohmann::json& json) {
  std::ofstream out(path);
  out << json.dump(1) << '\n';
  if (!out) throw InputError(fmt::format("{}: cannot write", path));
}

std::vector<int> classes_of(const nn::MultiExitModel& model) {
  std::vector<int> classes;
  for (int k = 0; k < model.stages(); ++k) classes.push_back(static_cast<int>(model.classes(k)));
  return classes;
}

nlohmann::json exit_table(const data::Evaluation& e, const std::vector<double>& predicted) {
  nlohmann::json exits = nlohmann::json::array();
  for (std::size_t k = 0; k < e.exits.size(); ++k)
    exits.push_back({{"accuracy", e.exits[k].accuracy}, {"predicted_accuracy", predicted[k]}, {"ece", e.exits[k].ece}});
  return exits;
}

/// Model::concurrent: the stage tables at 2..max_lanes lanes (none when max_lanes is 1).
std::vector<Profile> concurrent_tables(const nn::MultiExitModel& model, const nn::ProfilerConfig& config,
                                       const nn::Tensor* inputs, int max_lanes,
                                       const std::function<void(const std::string&)>& step) {
  std::vector<Profile> tables;
  for (int lanes = 2; lanes <= max_lanes; ++lanes) {
    step(fmt::format("{}: timing at {} lanes ({} replicas at once, a barrier per stage run)", model.graph().source,
                     lanes, lanes));
    tables.push_back(nn::profile_stages_concurrent(model, lanes, config, inputs));
  }
  return tables;
}

/// --concurrency-only: the concurrent tables measured anew and put into the existing profile file, whose
/// alone table stays as it is (other results rest on it).
void merge_concurrent(const std::string& path, const std::vector<Profile>& tables) {
  std::ifstream in(path);
  if (!in) throw InputError(fmt::format("{}: no profile to add concurrency tables to (run without --concurrency-only)", path));
  nlohmann::json doc = nlohmann::json::parse(in);
  const Profile alone = sim::load_profile(path);  // a valid profile, or an Error naming the file and field
  for (const Profile& t : tables)
    if (t.stages() != alone.stages())
      throw InputError(fmt::format("{}: has {} stages, the model {}", path, alone.stages(), t.stages()));
  // Only "concurrent" is replaced: the rest of the document is written back as it was read.
  doc["concurrent"] = sim::profile_to_json(alone, tables).at("concurrent");
  write_json(path, doc);
}

void run_profile(const ProfileOptions& o) {
  // Progress on stderr: one line per step (each takes seconds to a minute on a 2-core machine).
  const auto started = std::chrono::steady_clock::now();
  const auto step = [&](const std::string& what) {
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::fprintf(stderr, "profile: %5.1f s: %s\n", s, what.c_str());
    std::fflush(stderr);
  };
  const data::Pipeline& pipeline = data::PipelineRegistry::get().at(o.pipeline);
  const std::string model_path = o.model.empty() ? data::source_path(pipeline.model) : o.model;
  const std::string out_dir = o.out_dir.empty() ? std::filesystem::path(model_path).parent_path().string() : o.out_dir;
  std::filesystem::create_directories(out_dir);
  const std::string stem = (std::filesystem::path(out_dir) / pipeline.name).string();

  std::vector<int> batches;
  for (double b : parse_number_list(o.batches, "--batches")) {
    if (b != static_cast<double>(static_cast<int>(b)) || b > 1024)
      throw InputError(fmt::format("--batches: '{}' is not a batch size in [1, 1024]", b));
    batches.push_back(static_cast<int>(b));
  }
  nn::MultiExitModel::Options model_options;
  model_options.backend = o.backend;
  model_options.compile.max_batch = *std::max_element(batches.begin(), batches.end());
  nn::ProfilerConfig timing;
  timing.batch_sizes = batches;
  timing.repetitions = o.repetitions;
  timing.warmup = o.warmup;
  timing.evict_bytes = static_cast<std::size_t>(o.evict_mb) << 20;
  if (o.concurrency_only) {
    if (o.concurrency < 2) throw InputError("--concurrency-only needs --concurrency 2 or more");
    const data::LabeledSet calibration_set = pipeline.load({data::Split::calibration, o.calibration_limit, o.data_dir});
    const nn::MultiExitModel model = nn::MultiExitModel::load(model_path, model_options);
    const std::vector<Profile> tables = concurrent_tables(model, timing, &calibration_set.inputs, o.concurrency, step);
    merge_concurrent(stem + ".profile.json", tables);
    step(fmt::format("done: {} concurrency tables into {}.profile.json", tables.size(), stem));
    return;
  }

  // 1. Calibration split: temperatures, utility tables, the calibration replay set.
  const data::LabeledSet calibration_set = pipeline.load({data::Split::calibration, o.calibration_limit, o.data_dir});
  nn::MultiExitModel raw = nn::MultiExitModel::load(model_path, model_options);
  data::EvaluationOptions eval_options;
  eval_options.batch = std::min(32, raw.max_batch());
  eval_options.keep_logits = !o.no_temperature;
  step(fmt::format("{}: evaluating the calibration split ({} samples)", pipeline.name, calibration_set.labels.size()));
  const data::Evaluation on_calibration = data::evaluate(raw, calibration_set, eval_options);
  step("fitting temperatures and utility tables");
  data::CalibrationOptions calibration_options;
  calibration_options.temperature_scaling = !o.no_temperature;
  calibration_options.bins = o.bins;
  if (o.equal_width) calibration_options.spacing = BinSpacing::equal_width;
  const data::Calibration calibration =
      data::calibrate(on_calibration, classes_of(raw), calibration_set.labels, calibration_options);
  write_json(stem + ".calibration.json", data::to_json(calibration));
  sim::save_replay_csv(calibration.replay, stem + ".replay_cal.csv");

  // 2. Test split, served with the fitted temperatures: the replay set jobs draw from, and the check
  //    that the tables' predicted accuracy R(l) matches what the test split shows.
  for (double t : calibration.temperatures) model_options.temperatures.push_back(static_cast<float>(t));
  nn::MultiExitModel model = nn::MultiExitModel::load(model_path, model_options);
  const data::LabeledSet test_set = pipeline.load({data::Split::test, o.test_limit, o.data_dir});
  eval_options.keep_logits = false;
  step(fmt::format("{}: evaluating the test split ({} samples)", pipeline.name, test_set.labels.size()));
  const data::Evaluation on_test = data::evaluate(model, test_set, eval_options);
  sim::save_replay_csv(sim::ReplaySet{model.stages(), on_test.records}, stem + ".replay_test.csv");
  std::vector<double> predicted;
  for (int l = 1; l <= model.stages(); ++l) predicted.push_back(calibration.utility.prior(l));

  nlohmann::json report = {{"pipeline", pipeline.name},
                           {"model", model_path},
                           {"backend", model.backend()},
                           {"calibration_samples", on_calibration.samples},
                           {"test_samples", on_test.samples},
                           {"temperatures", calibration.temperatures},
                           {"ece_calibration_raw", calibration.ece_raw},
                           {"ece_calibration", calibration.ece},
                           {"test", exit_table(on_test, predicted)},
                           {"files", {stem + ".calibration.json", stem + ".replay_cal.csv", stem + ".replay_test.csv"}}};

  // 3. Stage times per batch size (last: the machine is warm, and nothing else of ours runs).
  if (!o.skip_timing) {
    step(fmt::format("{}: timing {} stages at {} batch sizes ({} runs each)", pipeline.name, model.stages(),
                     batches.size(), o.repetitions));
    const Profile profile = nn::profile_stages(model, timing, &calibration_set.inputs);  // samples cycled
    const std::vector<Profile> concurrent =
        concurrent_tables(model, timing, &calibration_set.inputs, o.concurrency, step);
    write_json(stem + ".profile.json", sim::profile_to_json(profile, concurrent));
    report["files"].push_back(stem + ".profile.json");
    nlohmann::json stages = nlohmann::json::array();
    for (int s = 0; s < profile.stages(); ++s) stages.push_back(to_ms(profile.timing(s, 1).mean));
    report["stage_ms_batch1"] = stages;
  }
  step("done");
  std::puts(report.dump(2).c_str());
}

}  // namespace

void add_profile_command(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand(
      "profile", "Profile a pipeline's model: stage times, temperatures, utility tables, replay sets (files + JSON)");
  auto options = std::make_shared<ProfileOptions>();
  cmd->add_option("--pipeline", options->pipeline, "vision, voice or lidar")->required();
  cmd->add_option("--model", options->model, "ONNX model (default: the pipeline's, under models/)");
  cmd->add_option("--backend", options->backend, "cpu, onednn or cuda (falls back to cpu without a GPU); default: the fastest cpu backend built in")->capture_default_str();
  cmd->add_option("--out-dir", options->out_dir, "where <pipeline>.{profile,calibration}.json and replay CSVs go (default: the model's folder)");
  cmd->add_option("--data-dir", options->data_dir, "where the generated data lives (default: $IMPRECISE_DATA_DIR or data/)");
  cmd->add_option("--batches", options->batches, "batch sizes to time (the largest is the compiled max batch)")->capture_default_str();
  cmd->add_option("--repetitions", options->repetitions, "timed runs per batch size")->capture_default_str()->check(CLI::Range(1, 100000));
  cmd->add_option("--warmup", options->warmup, "untimed runs per batch size")->capture_default_str()->check(CLI::Range(0, 100000));
  cmd->add_option("--evict-mb", options->evict_mb,
                  "before every stage run, write this many MB of other memory so that the stage starts on cold "
                  "caches, as a lane serving several models finds it (0: back to back, warm)")
      ->capture_default_str()
      ->check(CLI::Range(0, 4096));
  cmd->add_option("--calibration-limit", options->calibration_limit, "at most N calibration samples (0: all)");
  cmd->add_option("--test-limit", options->test_limit, "at most N test samples (0: all)");
  cmd->add_option("--bins", options->bins, "confidence bins of the utility tables")->capture_default_str()->check(CLI::Range(1, 1000));
  cmd->add_flag("--equal-width-bins", options->equal_width,
                "cut confidence into equal widths instead of equal mass per exit (the default)");
  cmd->add_flag("--no-temperature", options->no_temperature, "do not fit per-exit temperatures");
  cmd->add_flag("--skip-timing", options->skip_timing, "calibrate only, keep the stage-time profile as it is");
  cmd->add_option("--concurrency", options->concurrency,
                  "also time the stages while c = 2..N replicas run at once (one thread each, started together): "
                  "the profile's \"concurrent\" tables, what an engine with N lanes plans with")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->add_flag("--concurrency-only", options->concurrency_only,
                "only time the concurrent tables and put them into the existing <pipeline>.profile.json, leaving "
                "its single-lane table and every other file as they are");
  cmd->callback([&action, options] {
    action = [options] {
      run_profile(*options);
      return kExitOk;
    };
  });
}

}  // namespace imprecise::cli
