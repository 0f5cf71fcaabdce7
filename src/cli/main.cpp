// imprecise CLI entry point: subcommand dispatch, shared helpers, and the one place errors become exit codes.
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <exception>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "cli_common.hpp"
#include "imprecise/config.hpp"
#include "imprecise/error.hpp"
#include "imprecise/sched/policy.hpp"
#if IMPRECISE_HAS_NN
#include "imprecise/data/pipeline.hpp"
#include "nn_commands.hpp"
#endif
#if IMPRECISE_HAS_GRPC_SERVER
#include "loadgen_command.hpp"
#endif

namespace imprecise::cli {

nlohmann::json read_json_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot open file", path));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw InputError(fmt::format("{}: cannot read file", path));
  try {
    return nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::parse_error& e) {
    // nlohmann's message starts with "[json.exception.parse_error.101] "; keep only the useful part.
    std::string what = e.what();
    if (auto pos = what.find("] "); pos != std::string::npos) what = what.substr(pos + 2);
    throw InputError(fmt::format("{}: malformed JSON: {}", path, what));
  }
}

static std::string trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return {};
  const auto last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

std::vector<std::string> split_list(const std::string& text, const std::string& option) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (true) {
    const auto comma = text.find(',', start);
    const std::string item = trim(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (item.empty()) throw InputError(fmt::format("{}: empty item in list '{}'", option, text));
    items.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return items;
}

std::vector<double> parse_number_list(const std::string& text, const std::string& option) {
  std::vector<double> values;
  for (const auto& item : split_list(text, option)) {
    double value = 0.0;
    const auto* end = item.data() + item.size();
    const auto [ptr, ec] = std::from_chars(item.data(), end, value);
    if (ec != std::errc() || ptr != end || !std::isfinite(value))
      throw InputError(fmt::format("{}: '{}' is not a number", option, item));
    if (value <= 0.0) throw InputError(fmt::format("{}: '{}' must be > 0", option, item));
    values.push_back(value);
  }
  return values;
}

void check_policy_spec(const std::string& spec, const std::string& option) {
  const auto colon = spec.find(':');
  const std::string base = spec.substr(0, colon);
  for (const auto& name : policy_names()) {
    const auto name_colon = name.find(':');
    if (name.substr(0, name_colon) != base) continue;
    // A parameter is allowed only where the registry lists one ("edf-fixed:K"); its value is
    // checked by make_policy itself when the run starts.
    if (colon == std::string::npos || name_colon != std::string::npos) return;
  }
  std::string known;
  for (const auto& name : policy_names()) known += (known.empty() ? "" : ", ") + name;
  throw InputError(fmt::format("{}: unknown policy '{}' (known: {})", option, spec, known));
}

}  // namespace imprecise::cli

int main(int argc, char** argv) {
  using namespace imprecise::cli;
#if IMPRECISE_HAS_NN
  // The pipelines' models and data sets: $IMPRECISE_SOURCE_DIR, else the source tree this tool was built in.
  if (const char* dir = std::getenv("IMPRECISE_SOURCE_DIR"); dir == nullptr || *dir == '\0')
    imprecise::data::set_source_root(IMPRECISE_SOURCE_DIR);
#endif
  CLI::App app{"imprecise: real-time scheduling of anytime DNNs (plan one decision, simulate, sweep loads)",
               "imprecise"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("imprecise ") + IMPRECISE_VERSION);
  Action action;
  add_plan_command(app, action);
  add_simulate_command(app, action);
  add_sweep_command(app, action);
#if IMPRECISE_HAS_NN
  add_inspect_command(app, action);
  add_infer_command(app, action);
  add_features_command(app, action);
  add_eval_command(app, action);
  add_profile_command(app, action);
  add_serve_command(app, action);
#endif
#if IMPRECISE_HAS_GRPC_SERVER
  add_loadgen_command(app, action);  // the gRPC client's load generator
#endif

  const auto all = [](CLI::App*) { return true; };
  std::string known;
  for (const CLI::App* sub : app.get_subcommands(all)) known += (known.empty() ? "" : ", ") + sub->get_name();
  // A first word that is no option and no subcommand: name it, with the known ones (CLI11 alone
  // would only say that a subcommand is required).
  if (argc > 1 && argv[1][0] != '-') {
    const std::string word = argv[1];
    bool found = false;
    for (const CLI::App* sub : app.get_subcommands(all)) found = found || sub->get_name() == word;
    if (!found) {
      std::fprintf(stderr, "imprecise: error: unknown subcommand '%s' (known: %s)\n", word.c_str(), known.c_str());
      return kExitInput;
    }
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);  // --help: the usage on stdout, exit 0
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);  // --version: "imprecise X.Y.Z", exit 0
  } catch (const CLI::ParseError& e) {
    // Every other argument error is bad input: one line naming the subcommand and the option, exit 2.
    std::string what = e.what();
    for (auto pos = what.find('\n'); pos != std::string::npos; pos = what.find('\n')) what.replace(pos, 1, " ");
    std::string where;
    for (const CLI::App* sub : app.get_subcommands()) where = sub->get_name() + ": ";
    if (what == "A subcommand is required")
      what = fmt::format("a subcommand is required (known: {}; see --help)", known);
    std::fprintf(stderr, "imprecise: error: %s%s\n", where.c_str(), what.c_str());
    return kExitInput;
  }

  // Everything past parsing: a clear one-line message and an exit code, never an uncaught exception.
  try {
    return action ? action() : kExitOk;
  } catch (const InputError& e) {
    std::fprintf(stderr, "imprecise: error: %s\n", e.what());
    return kExitInput;
  } catch (const imprecise::Error& e) {
    // The library throws Error for setup problems (bad scenario, bad policy parameter): bad input.
    std::fprintf(stderr, "imprecise: error: %s\n", e.what());
    return kExitInput;
  } catch (const nlohmann::json::exception& e) {
    std::fprintf(stderr, "imprecise: error: JSON: %s\n", e.what());
    return kExitInput;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "imprecise: error: %s\n", e.what());
    return kExitRuntime;
  } catch (...) {
    std::fprintf(stderr, "imprecise: error: unknown failure\n");
    return kExitRuntime;
  }
}
