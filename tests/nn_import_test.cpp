// ONNX import and .npy error paths: missing, truncated and corrupt files, unsupported ops, bad shapes and sizes.
#include <gtest/gtest.h>

#include <cstddef>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "imprecise/error.hpp"
#include "imprecise/nn/multi_exit_model.hpp"
#include "imprecise/graph/npy.hpp"
#include "imprecise/graph/onnx_import.hpp"
#include "nn_fixtures.hpp"

namespace imprecise::nn {
namespace {

using testing::fixture;

std::vector<std::byte> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> bytes(chars.size());
  for (std::size_t i = 0; i < chars.size(); ++i) bytes[i] = static_cast<std::byte>(chars[i]);
  return bytes;
}

// Message of the Error that `load` throws; fails the test if it throws anything else or nothing.
template <typename F>
std::string error_of(F load) {
  try {
    load();
  } catch (const Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not an imprecise::Error: " << e.what();
    return {};
  }
  ADD_FAILURE() << "no Error thrown";
  return {};
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Loads bytes as a model; if that succeeds, runs it on zeros. Anything but success or Error fails.
void load_and_run_or_error(const std::vector<std::byte>& bytes, const std::string& where) {
  try {
    MultiExitModel model(parse_onnx(bytes, where), MultiExitModel::Options{});
    Shape shape = model.input_shape();
    shape[0] = 1;
    model.run(Tensor(shape));
  } catch (const Error& e) {
    EXPECT_TRUE(contains(e.what(), where)) << e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << where << ": not an imprecise::Error: " << e.what();
  }
}

TEST(OnnxImport, ReadsTheGraph) {
  const Graph graph = load_onnx(fixture("cnn3.onnx"));
  EXPECT_EQ(graph.opset, 13);
  EXPECT_EQ(graph.source, fixture("cnn3.onnx"));
  ASSERT_EQ(graph.inputs.size(), 1u);
  EXPECT_EQ(graph.inputs[0].name, "input");
  EXPECT_EQ(graph.inputs[0].shape, (Shape{-1, 3, 16, 16}));
  ASSERT_EQ(graph.outputs.size(), 3u);
  EXPECT_EQ(graph.outputs[2].name, "exit2");
  EXPECT_EQ(graph.metadata.at("imprecise.exit_names"), "early,middle,final");
  EXPECT_FALSE(graph.initializers.empty());
}

TEST(OnnxImport, MissingAndEmptyFiles) {
  EXPECT_TRUE(contains(error_of([] { load_onnx(fixture("no_such_model.onnx")); }), "no_such_model.onnx"));
  EXPECT_TRUE(contains(error_of([] { parse_onnx({}, "empty.onnx"); }), "empty.onnx"));
}

TEST(OnnxImport, TruncatedFilesNeverCrash) {
  const auto bytes = read_bytes(fixture("resnet_skip.onnx"));
  ASSERT_GT(bytes.size(), 1000u);
  int errors = 0;
  for (std::size_t cut = 1; cut < bytes.size(); cut += 37) {
    const std::vector<std::byte> part(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(cut));
    try {
      MultiExitModel model(parse_onnx(part, "cut.onnx"), MultiExitModel::Options{});
      model.run(Tensor(Shape{1, 3, 8, 8}));
    } catch (const Error& e) {
      EXPECT_TRUE(contains(e.what(), "cut.onnx")) << e.what();
      ++errors;
    }
  }
  EXPECT_GT(errors, 0);
  // A file cut in the middle of the weights is reported as truncated/corrupt.
  const std::vector<std::byte> half(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(bytes.size() / 2));
  EXPECT_TRUE(contains(error_of([&] { parse_onnx(half, "half.onnx"); }), "half.onnx"));
}

TEST(OnnxImport, CorruptBytesNeverCrash) {
  for (const std::string name : {"cnn3", "audio1d", "pointnet"}) {
    const auto bytes = read_bytes(fixture(name + ".onnx"));
    std::mt19937 rng(42);
    for (int trial = 0; trial < 150; ++trial) {
      auto copy = bytes;
      const int flips = 1 + trial % 4;
      for (int f = 0; f < flips; ++f) {
        std::uniform_int_distribution<std::size_t> at(0, copy.size() - 1);
        copy[at(rng)] = static_cast<std::byte>(rng() & 0xff);
      }
      load_and_run_or_error(copy, name + "-corrupt-" + std::to_string(trial));
    }
  }
}

TEST(OnnxImport, GarbageIsNotAModel) {
  std::vector<std::byte> garbage(300);
  std::mt19937 rng(7);
  for (auto& b : garbage) b = static_cast<std::byte>(rng() & 0xff);
  EXPECT_TRUE(contains(error_of([&] { parse_onnx(garbage, "garbage.onnx"); }), "garbage.onnx"));
}

TEST(OnnxImport, UnsupportedOperatorIsNamed) {
  const std::string message = error_of([] { MultiExitModel::load(fixture("bad_unsupported_op.onnx")); });
  EXPECT_TRUE(contains(message, "bad_unsupported_op.onnx")) << message;
  EXPECT_TRUE(contains(message, "'einsum'")) << message;
  EXPECT_TRUE(contains(message, "Einsum")) << message;
}

TEST(OnnxImport, InconsistentShapesNameTheNode) {
  const std::string message = error_of([] { MultiExitModel::load(fixture("bad_shapes.onnx")); });
  EXPECT_TRUE(contains(message, "bad_shapes.onnx")) << message;
  EXPECT_TRUE(contains(message, "node 'conv' (Conv)")) << message;
  EXPECT_TRUE(contains(message, "input channels")) << message;
}

TEST(OnnxImport, InitializerSizeMismatchNamesTheTensor) {
  const std::string message = error_of([] { load_onnx(fixture("bad_size.onnx")); });
  EXPECT_TRUE(contains(message, "bad_size.onnx")) << message;
  EXPECT_TRUE(contains(message, "tensor 'w'")) << message;
  EXPECT_TRUE(contains(message, "20 bytes")) << message;
}

// Found by tests/fuzz/onnx_loader_fuzz: a Pad whose pads sum past INT64_MAX was signed overflow (UB)
// in shape inference; it must be refused with an Error naming the file.
TEST(OnnxImport, FuzzPadOverflowIsRefused) {
  const std::string message = error_of([] { MultiExitModel::load(fixture("fuzz_pad_overflow.onnx")); });
  EXPECT_TRUE(contains(message, "fuzz_pad_overflow.onnx")) << message;
}

// Found by the loader fuzzer: BatchNormalization parameters stored as int64 were read as floats.
TEST(OnnxImport, FuzzBatchNormIntParametersAreRefused) {
  const std::string message = error_of([] { MultiExitModel::load(fixture("fuzz_batchnorm_int_params.onnx")); });
  EXPECT_TRUE(contains(message, "fuzz_batchnorm_int_params.onnx")) << message;
  EXPECT_TRUE(contains(message, "float32")) << message;
}

// Found by the loader fuzzer: a Reshape target whose product overflows int64.
TEST(OnnxImport, FuzzReshapeOverflowIsRefused) {
  const std::string message = error_of([] { MultiExitModel::load(fixture("fuzz_reshape_overflow.onnx")); });
  EXPECT_TRUE(contains(message, "fuzz_reshape_overflow.onnx")) << message;
}

TEST(OnnxImport, OldOpsetAndDanglingInputs) {
  EXPECT_TRUE(contains(error_of([] { load_onnx(fixture("bad_opset.onnx")); }), "opset 9"));
  const std::string message = error_of([] { MultiExitModel::load(fixture("bad_dangling.onnx")); });
  EXPECT_TRUE(contains(message, "relu_of_nothing")) << message;
  EXPECT_TRUE(contains(message, "'nowhere'")) << message;
}

TEST(Npy, ReadsFixturesAndRoundTrips) {
  const Tensor x = read_npy(fixture("op_conv2d.input.npy"));
  EXPECT_EQ(x.shape(), (Shape{8, 3, 9, 9}));
  const std::string path = ::testing::TempDir() + "imprecise_nn_roundtrip.npy";
  write_npy(path, x);
  const Tensor y = read_npy(path);
  EXPECT_EQ(y.shape(), x.shape());
  EXPECT_TRUE(std::equal(x.values().begin(), x.values().end(), y.values().begin()));
}

TEST(Npy, TruncatedAndMissingFiles) {
  EXPECT_TRUE(contains(error_of([] { read_npy(fixture("missing.npy")); }), "missing.npy"));
  const auto bytes = read_bytes(fixture("op_conv2d.input.npy"));
  const std::string path = ::testing::TempDir() + "imprecise_nn_truncated.npy";
  for (const std::size_t cut : {std::size_t{5}, std::size_t{60}, bytes.size() - 4}) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(cut));
    out.close();
    EXPECT_TRUE(contains(error_of([&] { read_npy(path); }), path));
  }
}

TEST(Tensor, ShapesAndBatches) {
  EXPECT_EQ(element_count(Shape{2, 3, 4}), 24u);
  EXPECT_EQ(to_string(Shape{-1, 3}), "[N, 3]");
  EXPECT_THROW(Tensor(Shape{2, 2}, std::vector<float>(3)), Error);
  Tensor t(Shape{4, 3});
  const auto capacity = t.capacity();
  t.set_batch(2);
  EXPECT_EQ(t.shape(), (Shape{2, 3}));
  EXPECT_EQ(t.size(), 6u);
  EXPECT_EQ(t.capacity(), capacity);  // shrinking the batch keeps the buffer
  EXPECT_EQ(t.sample_size(), 3u);
  EXPECT_THROW(t.reshape(Shape{7}), Error);
}

}  // namespace
}  // namespace imprecise::nn
