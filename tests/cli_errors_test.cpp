// Every bad input of the `imprecise` CLI: exit code 2 and exactly one stderr line
// "imprecise: error: ..." naming the file (or option) and the field. Also --version and --help (exit 0).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cli_fixture.hpp"
#include "imprecise/config.hpp"

namespace {

using namespace imprecise::testing;

const std::string kSource = IMPRECISE_SOURCE_DIR;

class CliErrors : public CliFixture {
 protected:
  /// Exit code 2, one stderr line "imprecise: error: ..." holding every needle, nothing on stdout.
  static void expect_input_error(const RunResult& r, const std::vector<std::string>& needles,
                                 const std::vector<std::string>& absent = {}) {
    CliFixture::expect_input_error(r, needles, absent);
    EXPECT_EQ(r.out, "");
  }

  /// A small valid scenario whose `streams[0]` or model entries a test can break.
  static std::string scenario(const std::string& replay = R"({"parametric": {"exit_accuracy": [0.7, 0.8]}})",
                              const std::string& stream_extra = "", const std::string& top_extra = "") {
    return R"({"name": "s", "duration_s": 1)" + top_extra + R"(,
      "models": [{"name": "m", "profile": {"stage_ms": [1, 2]}, "replay": )" + replay + R"(}],
      "streams": [{"model": "m", "arrival": "periodic", "rate_hz": 10, "deadline_ms": 50)" + stream_extra + "}]}";
  }

  static std::string plan_instance(const std::string& job_extra = "", const std::string& top_extra = "") {
    return R"({"now": 0)" + top_extra + R"(, "jobs": [{"deadline": 9, "cumulative_time": [1, 2], "reward": [1, 2])" +
           job_extra + "}]}";
  }

  /// A .npy file (format 1.0) with the given dtype descriptor, shape and raw data.
  fs::path write_npy(const std::string& name, const std::string& descr, const std::vector<int>& shape,
                     const std::string& data) {
    std::string dims;
    for (int d : shape) dims += std::to_string(d) + ", ";
    if (shape.size() > 1) dims.erase(dims.size() - 2);  // "(3, 28, 28)"; one axis keeps "(5,)"
    else if (!shape.empty()) dims.erase(dims.size() - 1);
    std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
    while ((10 + header.size() + 1) % 64 != 0) header += ' ';
    header += '\n';
    std::string bytes = "\x93NUMPY";
    bytes += '\x01';
    bytes += '\x00';
    bytes += static_cast<char>(header.size() & 0xff);
    bytes += static_cast<char>(header.size() >> 8);
    return write(name, bytes + header + data);
  }

};

TEST_F(CliErrors, VersionAndHelpExitZero) {
  const RunResult version = run("--version");
  EXPECT_EQ(version.status, 0) << version.err;
  EXPECT_EQ(version.out, std::string("imprecise ") + IMPRECISE_VERSION + "\n");
  EXPECT_EQ(run("--help").status, 0);
  EXPECT_EQ(run("plan --help").status, 0);
  EXPECT_EQ(run("simulate --help").status, 0);
}

TEST_F(CliErrors, UnknownOrMissingSubcommandIsNamedWithTheKnownOnes) {
  expect_input_error(run("frobnicate"), {"unknown subcommand 'frobnicate'", "known: ", "plan", "simulate", "sweep"});
  expect_input_error(run(""), {"a subcommand is required", "plan", "simulate", "sweep"});
}

TEST_F(CliErrors, ArgumentParsingErrorsExitTwoWithOneLine) {
  const fs::path instance = write("i.json", plan_instance());
  expect_input_error(run("plan --instance i.json --delta abc"), {"plan: ", "--delta", "abc"});
  expect_input_error(run("plan"), {"plan: ", "--instance"});
  expect_input_error(run("plan --instance i.json --no-such-option"), {"--no-such-option"});
  expect_input_error(run("simulate --scenario s.json --policy yao-dp --load fast"), {"simulate: ", "--load", "fast"});
  expect_input_error(run("simulate --scenario s.json --policy yao-dp --seed x1"), {"--seed", "x1"});
  expect_input_error(run("sweep --scenario s.json --policies yao-dp --loads 1 --seeds many --out o"), {"--seeds", "many"});
}

TEST_F(CliErrors, UnknownKeysInAPlanInstanceAreNamed) {
  write("i.json", plan_instance(R"(, "wieght": 2)"));
  expect_input_error(run("plan --instance i.json"), {"i.json: jobs[0].wieght: unknown key", "weight"});
  write("j.json", plan_instance("", R"(, "jobz": [])"));
  expect_input_error(run("plan --instance j.json"), {"j.json: jobz: unknown key", "jobs"});
}

TEST_F(CliErrors, UnknownKeysInAScenarioAreNamed) {
  write("s.json", scenario(R"({"parametric": {"exit_accuracy": [0.7, 0.8]}})", R"(, "wieght": 2)"));
  expect_input_error(run("simulate --scenario s.json --policy yao-dp"), {"s.json: streams[0].wieght: unknown key", "weight"});
  write("t.json", scenario(R"({"parametric": {"exit_accuracy": [0.7, 0.8], "noize": 0.3}})"));
  expect_input_error(run("simulate --scenario t.json --policy yao-dp"),
                     {"t.json: models[0].replay.parametric.noize: unknown key", "noise"});
  write("u.json", scenario(R"({"parametric": {"exit_accuracy": [0.7, 0.8]}})", "", R"(, "duration": 3)"));
  expect_input_error(run("simulate --scenario u.json --policy yao-dp"), {"u.json: duration: unknown key", "duration_s"});
  // The scenario is fine once the typo is gone.
  write("ok.json", scenario());
  EXPECT_EQ(run("simulate --scenario ok.json --policy yao-dp").status, 0);
}

TEST_F(CliErrors, AMissingReplayCsvNamesTheScenarioAndTheField) {
  write("sc/s.json", scenario(R"({"calibration_csv": "replay/cal.csv", "test_csv": "replay/test.csv"})"));
  expect_input_error(run("simulate --scenario sc/s.json --policy yao-dp"),
                     {"sc/s.json: models[0].replay.calibration_csv: ", "sc/replay/cal.csv", "cannot open"});
  write("sc/replay/cal.csv", "sample,conf_1,correct_1,conf_2,correct_2\n0,0.9,1,0.95,1\n1,0.5,0,0.7,1\n");
  expect_input_error(run("simulate --scenario sc/s.json --policy yao-dp"),
                     {"sc/s.json: models[0].replay.test_csv: ", "sc/replay/test.csv", "cannot open"});
}

#if IMPRECISE_HAS_NN
class CliNpyErrors : public CliErrors {
 protected:
  const std::string model_ = kSource + "/models/vision.onnx";  // input [N, 1, 28, 28]
};

TEST_F(CliNpyErrors, AShapeErrorNamesTheNpyAndTheShapeAsRead) {
  write_npy("x.npy", "<f4", {3, 28, 28}, std::string(3 * 28 * 28 * 4, '\0'));
  // [3, 28, 28] is neither a batch [N, 1, 28, 28] nor one sample [1, 28, 28]; the message must show what
  // the file holds, not a batch axis the user never gave ([1, 3, 28, 28]).
  expect_input_error(run("infer --model " + quote(model_) + " --input x.npy"),
                     {"x.npy: shape [3, 28, 28] read", "vision.onnx", "[N, 1, 28, 28]"}, {"[1, 3, 28, 28]"});
  write_npy("y.npy", "<f4", {2, 1, 28, 27}, std::string(2 * 28 * 27 * 4, '\0'));
  expect_input_error(run("infer --model " + quote(model_) + " --input y.npy"), {"y.npy: shape [2, 1, 28, 27] read"});
}

TEST_F(CliNpyErrors, DtypesFloat32AndFloat64AreAcceptedOthersNamed) {
  write_npy("i.npy", "<i4", {1, 1, 28, 28}, std::string(28 * 28 * 4, '\0'));
  expect_input_error(run("infer --model " + quote(model_) + " --input i.npy"), {"i.npy", "dtype '<i4'"});
  write_npy("f8.npy", "<f8", {1, 1, 28, 28}, std::string(28 * 28 * 8, '\0'));  // converted to float32
  const RunResult f8 = run("infer --model " + quote(model_) + " --input f8.npy --stages 1");
  EXPECT_EQ(f8.status, 0) << f8.err;
  write_npy("one.npy", "<f4", {1, 28, 28}, std::string(28 * 28 * 4, '\0'));  // one sample, no batch axis
  EXPECT_EQ(run("infer --model " + quote(model_) + " --input one.npy --stages 1").status, 0);
  write("bad.npy", "not numpy");
  expect_input_error(run("infer --model " + quote(model_) + " --input bad.npy"), {"bad.npy"});
  expect_input_error(run("infer --model " + quote(model_) + " --input none.npy"), {"none.npy"});
}

TEST_F(CliNpyErrors, ARelativeModelPathFromAnotherFolderIsNamed) {
  write_npy("one.npy", "<f4", {1, 28, 28}, std::string(28 * 28 * 4, '\0'));
  // "models/vision.onnx" is right from the source tree, wrong from here: a clear error, no abort.
  expect_input_error(run("infer --model models/vision.onnx --input one.npy"), {"models/vision.onnx"});
  EXPECT_EQ(run("infer --model models/vision.onnx --input " + quote((dir_ / "one.npy").string()) + " --stages 1",
                kSource)
                .status,
            0);
  expect_input_error(run("inspect models/vision.onnx"), {"models/vision.onnx"});
}
#endif

}  // namespace
