// CliFixture: runs the built `imprecise` binary in a per-test temporary folder and captures exit code, stdout
// and stderr; shared by the CLI test programs (cli_test, cli_errors_test, cli_golden_test).
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace imprecise::testing {

namespace fs = std::filesystem;

struct RunResult {
  int status = -1;
  std::string out;
  std::string err;
};

/// `text` in single quotes for the shell.
inline std::string quote(const std::string& text) {
  std::string quoted = "'";
  for (const char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

inline std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

class CliFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string cli = IMPRECISE_CLI_PATH;
    if (cli.empty() || !fs::exists(cli)) GTEST_SKIP() << "CLI not built: '" << cli << "'";
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("imprecise_" + std::string(info->test_suite_name()) + "_" + std::to_string(getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }

  /// Writes `text` to `name` under the test's folder (sub-folders created).
  fs::path write(const std::string& name, const std::string& text) {
    const fs::path path = dir_ / name;
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  /// Runs the CLI with `args` (shell-quoted where needed) in `cwd` (default: the test's folder).
  RunResult run(const std::string& args, const fs::path& cwd = {}) {
    const fs::path err_path = dir_ / "stderr.txt";
    const std::string command = "cd " + quote((cwd.empty() ? dir_ : cwd).string()) + " && " +
                                quote(IMPRECISE_CLI_PATH) + " " + args + " 2>" + quote(err_path.string());
    RunResult result;
    FILE* pipe = popen(command.c_str(), "r");
    if (!pipe) return result;
    char buffer[4096];
    std::size_t n = 0;
    while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) result.out.append(buffer, n);
    const int status = pclose(pipe);
    result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    result.err = slurp(err_path);
    return result;
  }

  /// Exit code 2 and one stderr line "imprecise: error: ..." holding every needle and none of `absent`.
  static void expect_input_error(const RunResult& r, const std::vector<std::string>& needles,
                                 const std::vector<std::string>& absent = {}) {
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_EQ(r.err.rfind("imprecise: error: ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    for (const auto& needle : needles)
      EXPECT_NE(r.err.find(needle), std::string::npos) << "missing '" << needle << "' in: " << r.err;
    for (const auto& word : absent)
      EXPECT_EQ(r.err.find(word), std::string::npos) << "unexpected '" << word << "' in: " << r.err;
  }

  fs::path dir_;
};

}  // namespace imprecise::testing
