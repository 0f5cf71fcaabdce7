// Scenario: models sharing one device, the samples their jobs carry, and the streams that release them.
//
// Scenario JSON (all times in ms unless the name says otherwise; paths relative to the scenario file):
//
//   {
//     "name": "edge_multi_model",
//     "duration_s": 60,                  // > 0: arrivals are generated over [0, duration)
//     "max_batch": 8,                    // optional (default 8): largest batch a dispatch may carry
//     "models": [
//       { "name": "vision",
//         "mandatory": 1,                // optional (default 1): in [1, stages]
//         "profile": <profile>,
//         "replay": <replay> },
//       ...
//     ],
//     "streams": [
//       { "name": "camera",              // optional (default: the model's name)
//         "model": "vision",             // a model's name
//         "arrival": "periodic",         // poisson | periodic | bursty | trace
//         "rate_hz": 30,                 // > 0 (not for trace); bursty: the rate during a burst
//         "jitter_ms": 2,                // optional, periodic only (default 0)
//         "on_ms": 200, "off_ms": 800,   // bursty only: burst length and gap (> 0)
//         "trace": "traces/cam.csv",     // trace only: CSV of arrival times, column "time_ms"
//         "deadline_ms": 60,             // > 0: relative deadline
//         "weight": 1.0 },               // optional (default 1), > 0
//       ...
//     ]
//   }
//
// <profile> is a measured table, inline or as the path of a JSON file holding it
// ("profile": "../models/vision.profile.json", relative to the scenario file),
//     { "batch_sizes": [1, 2, 4, 8],
//       "stages": [ [ {"mean_ms":..,"p50_ms":..,"p99_ms":..,"max_ms":..}, ... one per batch size ],
//                   ... one per stage ],
//       "concurrent": [ {"lanes": 2, "batch_sizes": [...], "stages": [...]}, ... ] }  // optional
// where "concurrent" holds the same tables measured while c = 2, 3, ... lanes ran at once (in order,
// `imprecise profile --concurrency N`), read into Model::concurrent;
// or a shorthand that synthesizes one (lognormal stage times):
//     { "stage_ms": [2.0, 3.0, 3.0, 4.0],  // batch-1 mean per stage
//       "batch_scaling": 0.35,            // optional (default 0.35): C(b) = C(1) * (1 + s * (b - 1))
//       "cv": 0.08,                       // optional (default 0.08): sigma = sqrt(ln(1 + cv^2)),
//                                         //   p50 = mean / exp(sigma^2/2), p99 = p50 * exp(2.326 sigma),
//                                         //   max = p50 * exp(3.719 sigma)
//       "batch_sizes": [1, 2, 4, 8] }     // optional (default [1, 2, 4, 8])
//
// <replay> gives the utility tables (calibration set) and the jobs' content (test set), either
// generated (sim/replay.hpp, ParametricReplay):
//     { "parametric": {"exit_accuracy": [.78, .86, .90, .92], "classes": 10, "noise": 0.35, "sharpness": 6.0},
//       "calibration_samples": 5000,      // optional (default 5000)
//       "test_samples": 5000,             // optional (default 5000)
//       "seed": 7,                        // optional (default 1): calibration set seed;
//       "test_seed": 8,                   //   optional (default seed + 1): must differ from seed
//       "bins": 10,                       // optional (default 10): confidence bins of the tables
//       "bin_spacing": "equal_width" }    // optional: or "equal_mass" (quantiles per exit)
// or measured (sim/replay.hpp, load_replay_csv):
//     { "calibration_csv": "replay/vision_cal.csv", "test_csv": "replay/vision_test.csv", "bins": 10 }
// The number of exits must equal the profile's number of stages.
//
// Every error is an imprecise::Error with a one-line message naming the file and the JSON path,
// e.g. "scenarios/x.json: streams[1].deadline_ms: must be > 0".
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "imprecise/core/model.hpp"
#include "imprecise/sim/replay.hpp"
#include "imprecise/sim/workload.hpp"
#include "imprecise/core/time.hpp"

namespace imprecise::sim {

struct Scenario {
  std::string name;
  std::vector<Model> models;
  std::vector<ReplaySet> test_sets;  ///< per model: the samples its jobs draw their content from
  std::vector<ReplaySet> calibration_sets;  ///< per model: the samples its utility tables were fitted on
  std::vector<StreamSpec> streams;
  Duration duration = 0;
  int max_batch = 8;
};

/// Reads and parses a scenario file (relative paths inside resolve against its directory).
Scenario load_scenario(const std::string& path);
/// `where` names the source in error messages; relative paths resolve against `base_dir`.
Scenario parse_scenario(const nlohmann::json& json, const std::string& where,
                        const std::string& base_dir = ".");

/// A model's timing tables: alone, and per concurrency (Model::profile and Model::concurrent).
struct ProfileTables {
  Profile profile;
  std::vector<Profile> concurrent;  ///< concurrent[c - 2]: measured while c lanes ran at once
};

/// A measured profile table (the `<profile>` object above) from its own JSON file — what
/// `imprecise profile` writes; a scenario's "profile" may also be such a file's path.
Profile load_profile(const std::string& path);
/// The same file's alone table and its "concurrent" tables (see <profile> above).
ProfileTables load_profile_tables(const std::string& path);
nlohmann::json profile_to_json(const Profile& profile);
/// With "concurrent": [{"lanes": c, "batch_sizes", "stages"}, ...] for c = 2, 3, ... (none when empty).
nlohmann::json profile_to_json(const Profile& profile, const std::vector<Profile>& concurrent);

/// Fraction of the device that running every job to full depth, one at a time (batch 1, mean
/// stage times), would take at the scenario's nominal rates: sum over streams of
/// mean_rate_hz x full-depth batch-1 mean time.
double full_depth_utilization(const Scenario& scenario);
/// Rate multiplier that makes full_depth_utilization equal `load` (the CLI's --load).
double rate_scale_for_load(const Scenario& scenario, double load);

}  // namespace imprecise::sim
