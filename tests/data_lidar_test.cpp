// The lidar pipeline: IPCL point-cloud files (reading, writing, every error path), the front end
// against numpy's independent result, the pipeline's loading and the committed model's accuracy.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "imprecise/data/evaluation.hpp"
#include "imprecise/data/lidar_front_end.hpp"
#include "imprecise/data/pipeline.hpp"
#include "imprecise/data/point_cloud.hpp"
#include "imprecise/error.hpp"
#include "imprecise/nn/multi_exit_model.hpp"
#include "imprecise/graph/npy.hpp"

namespace {

using imprecise::Error;
using namespace imprecise::data;

const std::string kFixtures = std::string(IMPRECISE_SOURCE_DIR) + "/tests/fixtures/data/lidar/";

// Builds IPCL bytes by hand, so the tests do not trust the writer they also check.
struct Bytes {
  std::string s;
  Bytes& u32(std::uint32_t v) {
    for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xffu));
    return *this;
  }
  Bytes& i32(std::int32_t v) { return u32(static_cast<std::uint32_t>(v)); }
  Bytes& f32(float v) {
    std::uint32_t u = 0;
    std::memcpy(&u, &v, 4);
    return u32(u);
  }
  Bytes& text(const std::string& t) {
    s += t;
    return *this;
  }
  // Header of version 1 with `fields`, `clouds` and the names "a,b".
  static Bytes header(std::uint32_t fields, std::uint32_t clouds) {
    Bytes b;
    b.text("IPCL").u32(1).u32(fields).u32(clouds).u32(3).text("a,b");
    return b;
  }
};

class LidarFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("imprecise_lidar_test_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& bytes) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return path;
  }
  // Expects read_point_clouds(bytes) to throw an Error whose message holds the file name and `what`.
  void expect_error(const std::string& bytes, const std::string& what) {
    const std::string path = write("bad.ipcl", bytes);
    try {
      read_point_clouds(path);
      ADD_FAILURE() << "no error, expected: " << what;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  }
  std::filesystem::path dir_;
};

TEST_F(LidarFiles, ReadsHandWrittenFile) {
  Bytes b = Bytes::header(3, 2);
  b.i32(1).u32(2).f32(1.f).f32(2.f).f32(3.f).f32(4.f).f32(5.f).f32(6.f);
  b.i32(-1).u32(1).f32(-1.5f).f32(0.f).f32(7.25f);
  const PointCloudSet set = read_point_clouds(write("ok.ipcl", b.s));
  ASSERT_EQ(set.clouds.size(), 2u);
  EXPECT_EQ(set.names, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(set.clouds[0].label, 1);
  ASSERT_EQ(set.clouds[0].points(), 2u);
  EXPECT_EQ(set.clouds[0].y(1), 5.f);
  EXPECT_EQ(set.clouds[1].label, -1);
  EXPECT_EQ(set.clouds[1].z(0), 7.25f);
  EXPECT_EQ(read_point_cloud(write("ok2.ipcl", b.s), 1).x(0), -1.5f);
  EXPECT_THROW(read_point_cloud(write("ok3.ipcl", b.s), 2), Error);
}

TEST_F(LidarFiles, WriterRoundTripsWithIntensity) {
  PointCloudSet set;
  set.fields = 4;
  set.names = {"car", "tree"};
  set.clouds.push_back({4, 0, {1.f, 2.f, 3.f, 0.5f, -4.f, 5.f, -6.f, 0.25f}});
  set.clouds.push_back({4, 1, {0.f, 0.f, 0.f, 1.f}});
  const std::string path = (dir_ / "rt.ipcl").string();
  write_point_clouds(path, set);
  const PointCloudSet back = read_point_clouds(path);
  EXPECT_EQ(back.fields, 4);
  EXPECT_EQ(back.names, set.names);
  ASSERT_EQ(back.clouds.size(), 2u);
  EXPECT_EQ(back.clouds[0].values, set.clouds[0].values);
  EXPECT_EQ(back.clouds[1].label, 1);
  EXPECT_EQ(back.clouds[0].z(1), -6.f);  // the accessors skip the intensity column

  PointCloudSet ragged = set;
  ragged.clouds[1].values.pop_back();
  EXPECT_THROW(write_point_clouds(path, ragged), Error);
  PointCloudSet bad_label = set;
  bad_label.clouds[0].label = 2;
  EXPECT_THROW(write_point_clouds(path, bad_label), Error);
  EXPECT_THROW(write_point_clouds(path, PointCloudSet{}), Error);
}

TEST_F(LidarFiles, EveryFaultIsAClearError) {
  const auto one_point = [](Bytes b) { return b.i32(0).u32(1).f32(1.f).f32(2.f).f32(3.f).s; };
  expect_error("", "truncated");
  expect_error("IPC", "truncated");
  expect_error(Bytes{}.text("PCL1").u32(1).u32(3).u32(1).u32(0).s, "bad magic");
  expect_error(Bytes{}.text("IPCL").u32(2).u32(3).u32(1).u32(0).s, "version 2");
  expect_error(one_point(Bytes::header(5, 1)), "fields = 5");
  expect_error(Bytes::header(3, 0).s, "no point cloud");
  expect_error(Bytes{}.text("IPCL").u32(1).u32(3).u32(1).u32(100).text("a,b").s, "the class names");
  expect_error(one_point(Bytes::header(3, 4000000000u)), "corrupt header");
  expect_error(Bytes::header(3, 1).i32(0).u32(0).s + std::string(12, '\0'), "cloud 0 is empty");
  expect_error(Bytes::header(3, 1).i32(0).u32(2).f32(1.f).f32(2.f).f32(3.f).s, "cloud 0's 2 points");
  expect_error(Bytes::header(3, 1).i32(0).u32(1000000).f32(1.f).f32(2.f).f32(3.f).s, "truncated");
  expect_error(one_point(Bytes::header(3, 1)) + "x", "unexpected bytes");
  expect_error(one_point(Bytes::header(3, 2)), "truncated");
  expect_error(Bytes::header(3, 1).i32(0).u32(1).f32(1.f).f32(std::nanf("")).f32(3.f).s, "non-finite");
  expect_error(Bytes::header(3, 1).i32(0).u32(2).f32(1.f).f32(2.f).f32(3.f).f32(1.f).f32(2.f)
                   .f32(std::numeric_limits<float>::infinity()).s,
               "cloud 0 point 1 has a non-finite");
  expect_error(Bytes::header(3, 1).i32(2).u32(1).f32(1.f).f32(2.f).f32(3.f).s, "label 2 outside");
  expect_error(Bytes::header(3, 1).i32(-2).u32(1).f32(1.f).f32(2.f).f32(3.f).s, "label -2 outside");
  EXPECT_THROW(read_point_clouds((dir_ / "missing.ipcl").string()), Error);
}

TEST(LidarFrontEnd, CentresRotatesAndResamples) {
  // Two points straight ahead: centroid (11, 0), no rotation; N = 4 takes points 0, 0, 1, 1.
  PointCloud ahead{3, 0, {10.f, 0.f, -1.8f, 12.f, 0.f, -0.8f}};
  LidarFrontEndConfig config;
  config.points = 4;
  std::vector<float> out(12);
  lidar_front_end(ahead, out, config);
  const std::vector<float> expected{-1, -1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1};
  for (std::size_t i = 0; i < out.size(); ++i) EXPECT_NEAR(out[i], expected[i], 1e-6f) << i;
  // The same object on the left (+y) is rotated onto +x: the input does not depend on the bearing.
  PointCloud left{3, 0, {0.f, 10.f, -1.8f, 0.f, 12.f, -0.8f}};
  lidar_front_end(left, out, config);
  for (std::size_t i = 0; i < out.size(); ++i) EXPECT_NEAR(out[i], expected[i], 1e-6f) << i;
  // Without the rotation, x and y stay as they were around the centroid.
  config.canonical_azimuth = false;
  lidar_front_end(left, out, config);
  EXPECT_NEAR(out[0], 0.f, 1e-6f);
  EXPECT_NEAR(out[4], -1.f, 1e-6f);
  // Errors: empty cloud, wrong output size, no points asked for.
  EXPECT_THROW(lidar_front_end(PointCloud{}, out, config), Error);
  std::vector<float> small(11);
  EXPECT_THROW(lidar_front_end(ahead, small, config), Error);
  config.points = 0;
  EXPECT_THROW(lidar_front_end(ahead, out, config), Error);
}

TEST(LidarFrontEnd, MatchesNumpyOnCommittedClouds) {
  const PointCloudSet set = read_point_clouds(kFixtures + "test.ipcl");
  const imprecise::nn::Tensor expected = imprecise::nn::read_npy(kFixtures + "frontend_expected.npy");
  ASSERT_EQ(expected.shape(), (imprecise::nn::Shape{8, 3, 256}));
  for (std::size_t c = 0; c < 8; ++c) {
    const imprecise::nn::Tensor got = lidar_front_end(set.clouds[c]);
    ASSERT_EQ(got.shape(), (imprecise::nn::Shape{1, 3, 256}));
    const auto want = expected.sample(c);
    for (std::size_t i = 0; i < want.size(); ++i) ASSERT_NEAR(got[i], want[i], 2e-5f) << "cloud " << c << " value " << i;
  }
}

TEST(LidarPipeline, LoadsTheCommittedSubset) {
  const Pipeline& lidar = PipelineRegistry::get().at("lidar");
  const std::string fixtures_root = std::string(IMPRECISE_SOURCE_DIR) + "/tests/fixtures/data";
  const LabeledSet set = lidar.load({Split::test, 0, fixtures_root});
  ASSERT_EQ(set.size(), 120u);
  EXPECT_EQ(set.inputs.shape(), (imprecise::nn::Shape{120, 3, 256}));
  EXPECT_EQ(set.label_names, lidar_classes());
  ASSERT_EQ(lidar_classes().size(), 12u);  // scripts/make_lidar_data.py's CLASSES, in that order
  // Scene i has class i mod 12 (balanced, interleaved): 10 scenes of each class in the subset.
  for (std::size_t i = 0; i < set.size(); ++i) EXPECT_EQ(set.labels[i], static_cast<int>(i % 12)) << i;
  EXPECT_EQ(lidar.load({Split::test, 16, fixtures_root}).inputs.dim(0), 16);
  // A split that was not generated names the script that generates it.
  try {
    lidar.load({Split::train, 0, fixtures_root});
    ADD_FAILURE() << "no error for a missing split";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("scripts/make_lidar_data.py"), std::string::npos) << e.what();
  }
}

TEST_F(LidarFiles, PipelineRejectsAnotherClassList) {
  // An IPCL test split written with the old 8-class list (or any other) is an error naming the file and
  // both lists, not a silent mislabelling.
  PointCloudSet old;
  old.names = {"car", "van", "truck", "pedestrian", "cyclist", "pole", "tree", "sign"};
  old.clouds.push_back({3, 0, {10.f, 0.f, -1.f}});
  std::filesystem::create_directories(dir_ / "lidar");
  const std::string path = (dir_ / "lidar" / "test.ipcl").string();
  write_point_clouds(path, old);
  try {
    PipelineRegistry::get().at("lidar").load({Split::test, 0, dir_.string()});
    ADD_FAILURE() << "no error for a file with another class list";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(path), std::string::npos) << what;
    EXPECT_NE(what.find("class names 'car,van,truck,"), std::string::npos) << what;
    EXPECT_NE(what.find("traffic_light"), std::string::npos) << what;
  }
}

TEST(LidarPipeline, CommittedModelIsAccurateOnTheCommittedSubset) {
  const Pipeline& lidar = PipelineRegistry::get().at("lidar");
  const LabeledSet set = lidar.load({Split::test, 0, std::string(IMPRECISE_SOURCE_DIR) + "/tests/fixtures/data"});
  imprecise::nn::MultiExitModel model = imprecise::nn::MultiExitModel::load(source_path(lidar.model));
  ASSERT_EQ(model.stages(), 4);
  EXPECT_EQ(model.labels(), lidar_classes());
  const Evaluation eval = evaluate(model, set);
  ASSERT_EQ(eval.exits.size(), 4u);
  // Floors below what the model scores on this subset (0.833 / 0.950 / 0.925 / 0.925) and on the full
  // held-out split (0.769 / 0.930 / 0.933 / 0.936, docs/pipelines/lidar.md), far above chance (1/12).
  // The first exit is the weak one by design: the last must beat it clearly (by 0.092 here).
  EXPECT_GE(eval.exits[0].accuracy, 0.65);
  EXPECT_GE(eval.exits[1].accuracy, 0.85);
  EXPECT_GE(eval.exits[3].accuracy, 0.88);
  EXPECT_GE(eval.exits[3].accuracy, eval.exits[0].accuracy + 0.05);
}

}  // namespace
