// Vision pipeline: IDX reading (plain and .gz), its error paths, the front end against numpy, the
// splits, and the committed model's accuracy on the committed 200-image test subset (corrupted as the
// test split is; the corruptions themselves: data_vision_corruption_test.cpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <unistd.h>
#include <zlib.h>

#include "imprecise/data/evaluation.hpp"
#include "imprecise/data/idx.hpp"
#include "imprecise/data/pipeline.hpp"
#include "imprecise/data/vision.hpp"
#include "imprecise/error.hpp"
#include "support/expect_error.hpp"
#include "imprecise/nn/multi_exit_model.hpp"
#include "imprecise/graph/npy.hpp"

namespace fs = std::filesystem;
using namespace imprecise;
using namespace imprecise::data;

namespace {

const std::string kFixtures = std::string(IMPRECISE_SOURCE_DIR) + "/tests/fixtures/data";
const std::string kVisionFixtures = kFixtures + "/vision";
const std::string kImagesGz = kVisionFixtures + "/t10k-images-idx3-ubyte.gz";
const std::string kLabelsPlain = kVisionFixtures + "/t10k-labels-idx1-ubyte";

using test_support::expect_error;

std::vector<std::uint8_t> gzip(const std::vector<std::uint8_t>& bytes) {
  z_stream s{};
  EXPECT_EQ(deflateInit2(&s, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::vector<std::uint8_t> out(deflateBound(&s, static_cast<uLong>(bytes.size())) + 64);
  s.next_in = const_cast<Bytef*>(bytes.data());
  s.avail_in = static_cast<uInt>(bytes.size());
  s.next_out = out.data();
  s.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&s, Z_FINISH), Z_STREAM_END);
  out.resize(s.total_out);
  deflateEnd(&s);
  return out;
}

// A fresh folder per test, removed afterwards.
class VisionFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / (std::string("imprecise_vision_") + info->name() + "_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::vector<std::uint8_t>& bytes) {
    const std::string path = (dir_ / name).string();
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return path;
  }
  static std::vector<std::uint8_t> images(std::size_t count, std::size_t side = 28) {
    IdxArray a{{static_cast<std::int64_t>(count), static_cast<std::int64_t>(side), static_cast<std::int64_t>(side)},
               std::vector<std::uint8_t>(count * side * side, 7)};
    return encode_idx(a);
  }
  static std::vector<std::uint8_t> labels(std::vector<std::uint8_t> values) {
    return encode_idx(IdxArray{{static_cast<std::int64_t>(values.size())}, values});
  }
  fs::path dir_;
};

}  // namespace

TEST(VisionIdx, ReadsTheCommittedSubset) {
  const IdxImages images = read_idx_images(kImagesGz);
  EXPECT_EQ(images.count, 200u);
  EXPECT_EQ(images.rows, 28u);
  EXPECT_EQ(images.cols, 28u);
  ASSERT_EQ(images.pixels.size(), 200u * 28 * 28);
  const std::vector<int> labels = read_idx_labels(kLabelsPlain, kVisionClasses);
  ASSERT_EQ(labels.size(), 200u);
  // The official test set starts with: ankle boot, pullover, trouser, trouser, shirt, ...
  EXPECT_EQ(std::vector<int>(labels.begin(), labels.begin() + 10), (std::vector<int>{9, 2, 1, 1, 6, 1, 4, 6, 5, 7}));
}

TEST(VisionIdx, CompressedAndPlainAgree) {
  const IdxImages gz = read_idx_images(kImagesGz);
  const IdxImages plain = read_idx_images(kVisionFixtures + "/first8-images-idx3-ubyte");
  ASSERT_EQ(plain.count, 8u);
  EXPECT_TRUE(std::equal(plain.pixels.begin(), plain.pixels.end(), gz.pixels.begin()));
}

TEST(VisionIdx, EncodeParseRoundTrip) {
  const IdxArray a{{2, 3}, {1, 2, 3, 4, 5, 6}};
  const auto bytes = encode_idx(a);
  ASSERT_EQ(bytes.size(), 4u + 8u + 6u);
  EXPECT_EQ(bytes[2], 0x08);
  EXPECT_EQ(bytes[3], 2);
  EXPECT_EQ(bytes[7], 2);   // big-endian 2
  EXPECT_EQ(bytes[11], 3);  // big-endian 3
  const IdxArray b = parse_idx(bytes, "round-trip");
  EXPECT_EQ(b.dims, a.dims);
  EXPECT_EQ(b.values, a.values);
  EXPECT_THROW(encode_idx(IdxArray{{2, 3}, {1, 2}}), Error);
}

TEST(VisionFrontEnd, MatchesNumpy) {
  const IdxImages images = read_idx_images(kVisionFixtures + "/first8-images-idx3-ubyte");
  const nn::Tensor got = vision_front_end(images, 0, 8);
  const nn::Tensor want = nn::read_npy(kVisionFixtures + "/first8_front_end.npy");
  ASSERT_EQ(got.shape(), (nn::Shape{8, 1, 28, 28}));
  ASSERT_EQ(want.shape(), got.shape());
  for (std::size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], 1e-6f) << "element " << i;
  // Known values by hand: black (0) and white (255) pixels.
  const IdxImages bw{1, 1, 2, {0, 255}};
  const nn::Tensor t = vision_front_end(bw, 0, 1);
  EXPECT_NEAR(t[0], -0.2860f / 0.3530f, 1e-6f);
  EXPECT_NEAR(t[1], (1.0f - 0.2860f) / 0.3530f, 1e-6f);
  // A range: images 3..5 are samples 0..2.
  const nn::Tensor part = vision_front_end(images, 3, 3);
  ASSERT_EQ(part.shape(), (nn::Shape{3, 1, 28, 28}));
  for (std::size_t i = 0; i < part.size(); ++i) ASSERT_EQ(part[i], got[3 * 784 + i]);
  EXPECT_THROW(vision_front_end(images, 6, 3), Error);
  EXPECT_THROW(vision_front_end(images, 9, 0), Error);
}

TEST(VisionFrontEnd, LoadsFilesWithLabels) {
  const LabeledSet set = load_vision_files(kImagesGz, kLabelsPlain, 4, 3);
  ASSERT_EQ(set.size(), 3u);
  EXPECT_EQ(set.inputs.shape(), (nn::Shape{3, 1, 28, 28}));
  EXPECT_EQ(set.labels, (std::vector<int>{6, 1, 4}));
  EXPECT_EQ(set.label_names, vision_labels());
  EXPECT_EQ(set.label_names[9], "Ankle boot");
  const nn::Tensor want = nn::read_npy(kVisionFixtures + "/first8_front_end.npy");
  for (std::size_t i = 0; i < set.inputs.size(); ++i) ASSERT_NEAR(set.inputs[i], want[4 * 784 + i], 1e-6f);
  const nn::Tensor labels = nn::read_npy(kVisionFixtures + "/first8_labels.npy");
  EXPECT_EQ(set.labels[0], static_cast<int>(labels[4]));
  EXPECT_EQ(load_vision_files(kImagesGz, kLabelsPlain).size(), 200u);
  EXPECT_THROW(load_vision_files(kImagesGz, kLabelsPlain, 199, 2), Error);
}

TEST(VisionPipeline, RegisteredAndLoadsTheFixtureSubset) {
  const Pipeline& p = PipelineRegistry::get().at("vision");
  EXPECT_EQ(p.model, "models/vision.onnx");
  // data_dir/vision/ holds the test files of the committed subset; frames come corrupted as drawn
  // (tests/data_vision_corruption_test.cpp), labels as recorded.
  const LabeledSet set = p.load({Split::test, 0, kFixtures});
  ASSERT_EQ(set.size(), 200u);
  EXPECT_EQ(set.inputs.shape(), (nn::Shape{200, 1, 28, 28}));
  EXPECT_EQ(set.labels[0], 9);
  EXPECT_EQ(set.labels, load_vision_files(kImagesGz, kLabelsPlain).labels);
  EXPECT_EQ(p.load({Split::test, 50, kFixtures}).size(), 50u);
  // No training files there: the error names them and how to get them.
  expect_error([&] { p.load({Split::train, 0, kFixtures}); },
               {"train-images-idx3-ubyte", kVisionFixtures, "dataset-fashion-mnist"});
}

TEST_F(VisionFiles, MissingDataSaysWhatToInstall) {
  const Pipeline& p = PipelineRegistry::get().at("vision");
  expect_error([&] { p.load({Split::test, 0, dir_.string()}); },
               {"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", (dir_ / "vision").string(), "dataset-fashion-mnist"});
  write("vision/t10k-images-idx3-ubyte", images(3));
  expect_error([&] { p.load({Split::test, 0, dir_.string()}); }, {"t10k-images-idx3-ubyte", "no t10k-labels-idx1-ubyte"});
  // A training file too small to hold the 5,000 calibration images.
  write("vision/train-images-idx3-ubyte", images(3));
  write("vision/train-labels-idx1-ubyte", labels({0, 1, 2}));
  expect_error([&] { p.load({Split::calibration, 0, dir_.string()}); }, {"train-images-idx3-ubyte", "5000"});
  expect_error([] { read_idx(kVisionFixtures + "/no-such-file"); }, {"no-such-file", "cannot open"});
}

TEST_F(VisionFiles, CorruptHeadersAndSizes) {
  auto good = images(2);
  auto wrong_magic = good;
  wrong_magic[0] = 0x1f;
  wrong_magic[1] = 0x00;
  const std::string magic_path = write("magic", wrong_magic);
  expect_error([&] { read_idx_images(magic_path); }, {magic_path, "wrong magic"});

  auto float_type = good;
  float_type[2] = 0x0D;
  const std::string type_path = write("float", float_type);
  expect_error([&] { read_idx_images(type_path); }, {type_path, "0x0d", "float"});

  auto truncated = good;
  truncated.resize(truncated.size() - 100);
  const std::string truncated_path = write("truncated", truncated);
  expect_error([&] { read_idx_images(truncated_path); }, {truncated_path, "truncated IDX data", "1568"});

  auto extra = good;
  extra.push_back(0);
  const std::string extra_path = write("extra", extra);
  expect_error([&] { read_idx_images(extra_path); }, {extra_path, "size mismatch", "1 extra"});

  const std::string header_path = write("header", std::vector<std::uint8_t>(good.begin(), good.begin() + 9));
  expect_error([&] { read_idx_images(header_path); }, {header_path, "truncated IDX header"});

  const std::string empty_path = write("empty", {});
  expect_error([&] { read_idx_images(empty_path); }, {empty_path, "not an IDX file"});

  const std::string rank0_path = write("rank0", {0, 0, 8, 0});
  expect_error([&] { read_idx(rank0_path); }, {rank0_path, "0 dimensions"});

  const std::string labels_path = write("labels", labels({0, 1}));
  expect_error([&] { read_idx_images(labels_path); }, {labels_path, "3 dimensions"});
  expect_error([&] { read_idx_labels(magic_path, 10); }, {magic_path});
  const std::string images_path = write("images", good);
  expect_error([&] { read_idx_labels(images_path, 10); }, {images_path, "1 dimension"});
}

TEST_F(VisionFiles, BadLabelsCountsAndSizes) {
  const std::string images_path = write("images", images(3));
  const std::string bad_label = write("bad_label", labels({0, 10, 2}));
  expect_error([&] { read_idx_labels(bad_label, 10); }, {bad_label, "label 10 of item 1"});
  expect_error([&] { load_vision_files(images_path, bad_label); }, {bad_label, "label 10"});

  const std::string two_labels = write("two_labels", labels({0, 1}));
  expect_error([&] { load_vision_files(images_path, two_labels); }, {images_path, "3 images", two_labels, "2 labels"});

  const std::string small = write("small", images(3, 20));
  const std::string three = write("three", labels({0, 1, 2}));
  expect_error([&] { load_vision_files(small, three); }, {small, "20x20", "28x28"});
  EXPECT_EQ(load_vision_files(images_path, three).size(), 3u);
}

TEST_F(VisionFiles, CorruptGzip) {
  const auto plain = images(4);
  const auto packed = gzip(plain);
  const std::string ok = write("ok.gz", packed);
  EXPECT_EQ(read_idx_images(ok).count, 4u);
  // Two gzip members back to back read as one stream (as `cat a.gz b.gz` makes); here the second
  // member only adds bytes, so the size check catches it.
  auto twice = packed;
  twice.insert(twice.end(), packed.begin(), packed.end());
  const std::string twice_path = write("twice.gz", twice);
  expect_error([&] { read_idx_images(twice_path); }, {twice_path, "size mismatch"});

  const std::string cut = write("cut.gz", std::vector<std::uint8_t>(packed.begin(), packed.begin() + packed.size() / 2));
  expect_error([&] { read_idx_images(cut); }, {cut, "truncated gzip"});

  auto flipped = packed;
  for (std::size_t i = 12; i < flipped.size() - 8; ++i) flipped[i] = static_cast<std::uint8_t>(flipped[i] ^ 0xA5);
  const std::string corrupt = write("corrupt.gz", flipped);
  expect_error([&] { read_idx_images(corrupt); }, {corrupt});

  auto bad_crc = packed;
  bad_crc[bad_crc.size() - 6] = static_cast<std::uint8_t>(bad_crc[bad_crc.size() - 6] ^ 0xFF);  // in the CRC32 trailer
  const std::string crc = write("crc.gz", bad_crc);
  expect_error([&] { read_idx_images(crc); }, {crc, "corrupt gzip"});
}

// The official files from Debian's dataset-fashion-mnist, when installed: split sizes and boundaries.
TEST(VisionPipeline, OfficialSplits) {
  const std::string train_images = std::string(kVisionSystemDir) + "/train-images-idx3-ubyte.gz";
  if (!fs::exists(train_images)) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  const Pipeline& p = PipelineRegistry::get().at("vision");
  const fs::path empty = fs::temp_directory_path() / ("imprecise_vision_nodata_" + std::to_string(::getpid()));
  fs::create_directories(empty);
  ::setenv("IMPRECISE_DATA_DIR", empty.c_str(), 1);  // data_root()/vision is empty: Debian's folder is used
  const LabeledSet test = p.load({Split::test, 0, ""});
  EXPECT_EQ(test.size(), 10000u);
  // The committed subset loaded as a test split: the same 200 frames with the same corruptions.
  const LabeledSet subset = p.load({Split::test, 0, kFixtures});
  for (std::size_t i = 0; i < subset.inputs.size(); ++i) ASSERT_EQ(test.inputs[i], subset.inputs[i]);
  IdxImages all = read_idx_images(train_images);
  ASSERT_EQ(all.count, 60000u);
  const LabeledSet train = p.load({Split::train, 2, ""});
  const LabeledSet calibration = p.load({Split::calibration, 0, ""});
  EXPECT_EQ(calibration.size(), 5000u);
  // Train = frames 0.. under the train seed, calibration = frames 55,000.. under the calibration seed.
  corrupt_frames(all, 0, 2, vision_split_seed(Split::train), vision_corruption_mix());
  corrupt_frames(all, 55000, 2, vision_split_seed(Split::calibration), vision_corruption_mix());
  const nn::Tensor first_train = vision_front_end(all, 0, 2), first_calibration = vision_front_end(all, 55000, 2);
  for (std::size_t i = 0; i < first_train.size(); ++i) {
    ASSERT_EQ(train.inputs[i], first_train[i]);
    ASSERT_EQ(calibration.inputs[i], first_calibration[i]);
  }
  ::unsetenv("IMPRECISE_DATA_DIR");
  fs::remove_all(empty);
}

// The committed model, run by our engine on the committed 200 (corrupted) test frames: every exit above
// its floor, the first exit clearly weaker than the last (the gap the scheduler works with), and exit 1's
// confidence informative about its correctness.
TEST(VisionModel, AccuracyOnTheCommittedSubset) {
  const Pipeline& p = PipelineRegistry::get().at("vision");
  nn::MultiExitModel model = nn::MultiExitModel::load(source_path(p.model));
  ASSERT_EQ(model.stages(), 4);
  EXPECT_EQ(model.mandatory_depth(), 1);
  EXPECT_EQ(model.labels(), vision_labels());
  EXPECT_EQ(model.input_shape(), (nn::Shape{-1, 1, 28, 28}));
  const LabeledSet set = p.load({Split::test, 0, kFixtures});
  const Evaluation e = evaluate(model, set);
  ASSERT_EQ(e.exits.size(), 4u);
  const double floors[] = {0.62, 0.82, 0.84, 0.84};  // measured: 0.705, 0.875, 0.905, 0.890
  for (std::size_t k = 0; k < 4; ++k) EXPECT_GE(e.exits[k].accuracy, floors[k]) << "exit " << k + 1;
  EXPECT_LE(e.exits[0].accuracy, 0.80) << "exit 1 should stay a cheap, weak exit";
  EXPECT_GE(e.exits[3].accuracy - e.exits[0].accuracy, 0.10);
  EXPECT_GE(e.exits[0].auroc, 0.70);  // measured: 0.799
}
