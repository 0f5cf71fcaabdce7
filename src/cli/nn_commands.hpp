// The CLI subcommands that need the inference engine (imprecise::nn) and the pipelines (imprecise::data).
#pragma once

#include "cli_common.hpp"

namespace imprecise::cli {

void add_inspect_command(CLI::App& app, Action& action);
void add_infer_command(CLI::App& app, Action& action);
void add_features_command(CLI::App& app, Action& action);
void add_eval_command(CLI::App& app, Action& action);
void add_profile_command(CLI::App& app, Action& action);
void add_serve_command(CLI::App& app, Action& action);  // the inference service (imprecise::serve)

}  // namespace imprecise::cli
