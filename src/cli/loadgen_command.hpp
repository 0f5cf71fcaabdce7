// `imprecise loadgen`: the open-loop load generator for a KServe v2 gRPC server (built with gRPC).
#pragma once

#include "cli_common.hpp"

namespace imprecise::cli {

void add_loadgen_command(CLI::App& app, Action& action);

}  // namespace imprecise::cli
