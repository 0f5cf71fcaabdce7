// `imprecise inspect` and `imprecise infer` end to end: JSON shape, agreement with the PyTorch reference, exit codes;
// `imprecise profile`'s argument checks.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <string>
#include <sys/wait.h>

#include <nlohmann/json.hpp>

#include "imprecise/graph/npy.hpp"
#include "nn_fixtures.hpp"

namespace imprecise::nn {
namespace {

struct CliRun {
  int status = -1;
  std::string out;
};

/// Runs the CLI; `out` is its stdout, with its stderr after it when `with_stderr`.
CliRun run_cli(const std::string& args, bool with_stderr = false) {
  CliRun r;
  FILE* pipe = popen((std::string(IMPRECISE_CLI_PATH) + " " + args + (with_stderr ? " 2>&1" : " 2>/dev/null")).c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buffer{};
  while (const std::size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe)) r.out.append(buffer.data(), n);
  const int status = pclose(pipe);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

class NnCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string(IMPRECISE_CLI_PATH).empty()) GTEST_SKIP() << "the CLI is not built";
  }
};

TEST_F(NnCli, InferRunsABatchAndMatchesTheReference) {
  const Tensor input = read_npy(testing::fixture("cnn3.input.npy"));
  const std::string path = ::testing::TempDir() + "imprecise_nn_cli_input.npy";
  write_npy(path, testing::slice(input, 2, 4));  // samples 2..5
  const CliRun r = run_cli("infer --model " + testing::fixture("cnn3.onnx") + " --input " + path + " --stages 2");
  ASSERT_EQ(r.status, 0) << r.out;
  const auto json = nlohmann::json::parse(r.out);
  EXPECT_EQ(json.at("backend"), default_backend());  // the fastest cpu backend built in
  ASSERT_EQ(json.at("exits").size(), 2u);
  for (int k = 0; k < 2; ++k) {
    const auto want = read_npy(testing::fixture("cnn3.exit" + std::to_string(k) + ".npy"));
    const auto& exit = json.at("exits")[static_cast<std::size_t>(k)];
    ASSERT_EQ(exit.at("logits").size(), 4u);
    ASSERT_EQ(exit.at("prediction").size(), 4u);
    ASSERT_EQ(exit.at("confidence").size(), 4u);
    for (std::size_t i = 0; i < 4; ++i) {
      const auto logits = exit.at("logits")[i].template get<std::vector<float>>();
      EXPECT_TRUE(testing::close(logits, want.sample(2 + i))) << "exit " << k << " sample " << i;
      const auto best = std::max_element(logits.begin(), logits.end()) - logits.begin();
      EXPECT_EQ(exit.at("prediction")[i].template get<int>(), best);
    }
  }
  EXPECT_EQ(json.at("exits")[0].at("name"), "early");

  // One sample may come without the batch axis.
  write_npy(path, Tensor(Shape(input.shape().begin() + 1, input.shape().end()),
                         std::vector<float>(input.sample(5).begin(), input.sample(5).end())));
  const CliRun single = run_cli("infer --model " + testing::fixture("cnn3.onnx") + " --input " + path);
  ASSERT_EQ(single.status, 0) << single.out;
  const auto one = nlohmann::json::parse(single.out);
  ASSERT_EQ(one.at("exits").size(), 3u);
  const auto want = read_npy(testing::fixture("cnn3.exit2.npy"));
  EXPECT_TRUE(testing::close(one.at("exits")[2].at("logits")[0].template get<std::vector<float>>(), want.sample(5)));
}

TEST_F(NnCli, InspectListsStagesAndBadInputExitsWith2) {
  const CliRun r = run_cli("inspect " + testing::fixture("cnn3.onnx"));
  ASSERT_EQ(r.status, 0);
  const auto json = nlohmann::json::parse(r.out);
  EXPECT_EQ(json.at("stages").size(), 3u);
  EXPECT_EQ(json.at("mandatory_depth"), 1);
  EXPECT_EQ(run_cli("inspect " + testing::fixture("bad_unsupported_op.onnx")).status, 2);
  EXPECT_EQ(run_cli("infer --model " + testing::fixture("cnn3.onnx") + " --input " +
                    testing::fixture("audio1d.input.npy")).status, 2);
}

TEST_F(NnCli, ProfileRefusesAnEvictionOutOfRangeNamingTheFlag) {
  for (const char* mb : {"5000", "-1", "lots"}) {
    const CliRun r = run_cli(std::string("profile --pipeline lidar --evict-mb ") + mb, true);
    EXPECT_EQ(r.status, 2) << mb << ": " << r.out;
    EXPECT_NE(r.out.find("--evict-mb"), std::string::npos) << mb << ": " << r.out;
  }
}

}  // namespace
}  // namespace imprecise::nn
