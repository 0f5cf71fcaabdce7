// Edge-camera corruptions of the vision pipeline: the seeded draw (determinism, the mix, the Python
// mirror), what each corruption does to a frame, error paths, and that split loading applies them.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "imprecise/data/idx.hpp"
#include "imprecise/data/pipeline.hpp"
#include "imprecise/data/vision.hpp"
#include "imprecise/data/vision_corruption.hpp"
#include "imprecise/error.hpp"
#include "support/expect_error.hpp"

using namespace imprecise;
using namespace imprecise::data;

namespace {

const std::string kFixtures = std::string(IMPRECISE_SOURCE_DIR) + "/tests/fixtures/data";
const std::string kVisionFixtures = kFixtures + "/vision";
constexpr std::size_t kSide = 28;

using Frame = std::vector<std::uint8_t>;

// Frame `index` of the committed 200 test images (raw, before any corruption).
Frame fixture_frame(std::size_t index) {
  const IdxImages images = read_idx_images(kVisionFixtures + "/t10k-images-idx3-ubyte.gz");
  const auto* p = images.pixels.data() + index * kSide * kSide;
  return Frame(p, p + kSide * kSide);
}

Frame corrupted(Frame frame, Corruption kind, int severity, std::uint64_t seed = 7) {
  corrupt_frame(frame, kSide, kSide, CorruptionDraw{kind, severity, seed});
  return frame;
}

double mean(const Frame& f) {
  double sum = 0.0;
  for (auto p : f) sum += p;
  return sum / static_cast<double>(f.size());
}

double stddev(const Frame& f) {
  const double m = mean(f);
  double sum = 0.0;
  for (auto p : f) sum += (p - m) * (p - m);
  return std::sqrt(sum / static_cast<double>(f.size()));
}

// Sum of squared differences between horizontal and vertical neighbours; with `inside_blocks`, only pairs
// within one 8x8 block (what JPEG quantisation smooths).
double gradient_energy(const Frame& f, bool inside_blocks = false) {
  double sum = 0.0;
  for (std::size_t r = 0; r < kSide; ++r)
    for (std::size_t c = 0; c < kSide; ++c) {
      const double v = f[r * kSide + c];
      if (c + 1 < kSide && (!inside_blocks || (c + 1) % 8 != 0)) sum += std::pow(v - f[r * kSide + c + 1], 2);
      if (r + 1 < kSide && (!inside_blocks || (r + 1) % 8 != 0)) sum += std::pow(v - f[(r + 1) * kSide + c], 2);
    }
  return sum;
}

double mean_abs_difference(const Frame& a, const Frame& b) {
  double sum = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) sum += std::abs(static_cast<double>(a[i]) - b[i]);
  return sum / static_cast<double>(a.size());
}

using test_support::expect_error;

const std::vector<Corruption> kAllKinds{Corruption::gaussian_noise, Corruption::shot_noise,  Corruption::motion_blur,
                                        Corruption::defocus_blur,   Corruption::low_light,   Corruption::low_contrast,
                                        Corruption::occlusion,      Corruption::blockiness};

}  // namespace

TEST(VisionCorruptionDraw, IsAPureFunctionOfSeedAndIndex) {
  const CorruptionMix mix;
  for (std::size_t i = 0; i < 50; ++i) {
    const CorruptionDraw a = draw_corruption(mix, 42, i), b = draw_corruption(mix, 42, i);
    EXPECT_EQ(a.kind, b.kind);
    EXPECT_EQ(a.severity, b.severity);
    EXPECT_EQ(a.seed, b.seed);
  }
  // The three splits' seeds are distinct and give different sequences.
  const std::uint64_t seeds[] = {vision_split_seed(Split::train), vision_split_seed(Split::calibration),
                                 vision_split_seed(Split::test)};
  EXPECT_NE(seeds[0], seeds[1]);
  EXPECT_NE(seeds[1], seeds[2]);
  EXPECT_NE(seeds[0], seeds[2]);
  for (int s = 0; s < 3; ++s) {
    int same = 0;
    for (std::size_t i = 0; i < 200; ++i)
      same += draw_corruption(mix, seeds[s], i).seed == draw_corruption(mix, seeds[(s + 1) % 3], i).seed;
    EXPECT_EQ(same, 0);
  }
}

TEST(VisionCorruptionDraw, FollowsTheMix) {
  const CorruptionMix mix;  // 50 % clean, severities 1..5
  std::map<Corruption, int> kinds;
  std::map<int, int> severities;
  const int n = 8000;
  for (int i = 0; i < n; ++i) {
    const CorruptionDraw d = draw_corruption(mix, 3, static_cast<std::size_t>(i));
    ++kinds[d.kind];
    ++severities[d.severity];
    if (d.kind == Corruption::none) {
      EXPECT_EQ(d.severity, 0);
    }
  }
  EXPECT_NEAR(kinds[Corruption::none] / double(n), 0.5, 0.02);
  for (Corruption k : kAllKinds) EXPECT_NEAR(kinds[k] / double(n), 0.5 / 8, 0.015) << to_string(k);
  for (int s = 1; s <= 5; ++s) EXPECT_NEAR(severities[s] / double(n), 0.5 / 5, 0.015) << "severity " << s;
  // All clean, none clean, one severity only.
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(draw_corruption(CorruptionMix{1.0, 1, 5}, 3, static_cast<std::size_t>(i)).kind, Corruption::none);
    const CorruptionDraw d = draw_corruption(CorruptionMix{0.0, 4, 4}, 3, static_cast<std::size_t>(i));
    EXPECT_NE(d.kind, Corruption::none);
    EXPECT_EQ(d.severity, 4);
  }
}

TEST(VisionCorruptionDraw, BadMixNamesTheField) {
  expect_error([] { draw_corruption(CorruptionMix{1.5, 1, 5}, 0, 0); }, {"clean_fraction", "1.5"});
  expect_error([] { draw_corruption(CorruptionMix{-0.1, 1, 5}, 0, 0); }, {"clean_fraction"});
  expect_error([] { draw_corruption(CorruptionMix{0.5, 0, 5}, 0, 0); }, {"min_severity 0"});
  expect_error([] { draw_corruption(CorruptionMix{0.5, 1, 6}, 0, 0); }, {"max_severity 6"});
  expect_error([] { draw_corruption(CorruptionMix{0.5, 4, 2}, 0, 0); }, {"min_severity 4", "max_severity 2"});
}

// scripts/make_vision_report.py groups test frames by corruption with a Python copy of the draw;
// test_draws.csv is its output for the first 200 test frames (`--draws-csv 200`).
TEST(VisionCorruptionDraw, MatchesThePythonMirror) {
  std::ifstream in(kVisionFixtures + "/test_draws.csv");
  ASSERT_TRUE(in) << kVisionFixtures << "/test_draws.csv";
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "index,kind,severity");
  std::size_t rows = 0;
  while (std::getline(in, line)) {
    std::stringstream row(line);
    std::string index, kind, severity;
    std::getline(row, index, ',');
    std::getline(row, kind, ',');
    std::getline(row, severity, ',');
    const CorruptionDraw d = draw_corruption(vision_corruption_mix(), vision_split_seed(Split::test), std::stoul(index));
    EXPECT_EQ(kind, to_string(d.kind)) << "frame " << index;
    EXPECT_EQ(std::stoi(severity), d.severity) << "frame " << index;
    ++rows;
  }
  EXPECT_EQ(rows, 200u);
}

TEST(VisionCorruption, CleanLeavesTheFrameAndEveryKindChangesIt) {
  const Frame original = fixture_frame(0);
  EXPECT_EQ(corrupted(original, Corruption::none, 0), original);
  for (Corruption kind : kAllKinds) {
    for (int s = 1; s <= 5; ++s) {
      const Frame f = corrupted(original, kind, s);
      EXPECT_NE(f, original) << to_string(kind) << " " << s;
      EXPECT_EQ(f, corrupted(original, kind, s)) << to_string(kind) << ": same seed, same frame";
    }
  }
  // The random ones depend on the draw's seed.
  for (Corruption kind : {Corruption::gaussian_noise, Corruption::shot_noise, Corruption::motion_blur,
                          Corruption::low_light, Corruption::occlusion})
    EXPECT_NE(corrupted(original, kind, 3, 1), corrupted(original, kind, 3, 2)) << to_string(kind);
}

TEST(VisionCorruption, NoiseAddsHighFrequenciesGrowingWithSeverity) {
  const Frame original = fixture_frame(1);
  for (Corruption kind : {Corruption::gaussian_noise, Corruption::shot_noise}) {
    const Frame mild = corrupted(original, kind, 1), strong = corrupted(original, kind, 5);
    EXPECT_GT(gradient_energy(strong), gradient_energy(original)) << to_string(kind);
    EXPECT_GT(mean_abs_difference(strong, original), mean_abs_difference(mild, original)) << to_string(kind);
  }
  // Photon noise of a black pixel is zero photons: the background stays black.
  const Frame shot = corrupted(original, Corruption::shot_noise, 5);
  for (std::size_t i = 0; i < original.size(); ++i)
    if (original[i] == 0) {
      ASSERT_EQ(shot[i], 0) << "pixel " << i;
    }
}

TEST(VisionCorruption, BlurRemovesHighFrequencies) {
  const Frame original = fixture_frame(2);
  for (Corruption kind : {Corruption::motion_blur, Corruption::defocus_blur}) {
    const Frame mild = corrupted(original, kind, 1), strong = corrupted(original, kind, 5);
    EXPECT_LT(gradient_energy(mild), gradient_energy(original)) << to_string(kind);
    EXPECT_LT(gradient_energy(strong), gradient_energy(mild)) << to_string(kind);
    EXPECT_NEAR(mean(mild), mean(original), 0.1 * mean(original)) << to_string(kind) << " keeps the brightness";
  }
}

TEST(VisionCorruption, LowLightDimsAndLowContrastFlattens) {
  const Frame original = fixture_frame(3);
  const Frame dim = corrupted(original, Corruption::low_light, 5);  // gain 0.12, read noise 0.01
  EXPECT_LT(mean(dim), 0.12 * mean(original) + 3.0);
  EXPECT_LE(*std::max_element(dim.begin(), dim.end()), static_cast<int>(0.12 * 255 + 12));
  EXPECT_LT(mean(corrupted(original, Corruption::low_light, 5)), mean(corrupted(original, Corruption::low_light, 1)));
  const Frame flat = corrupted(original, Corruption::low_contrast, 5), flatter = corrupted(original, Corruption::low_contrast, 1);
  EXPECT_NEAR(stddev(flat), 0.12 * stddev(original), 1.0);
  EXPECT_NEAR(stddev(flatter), 0.5 * stddev(original), 1.0);
  EXPECT_NEAR(mean(flat), mean(original), 1.0);  // contrast around the mean: the mean stays
}

TEST(VisionCorruption, OcclusionPaintsOneSquare) {
  const Frame original = fixture_frame(4);
  const int sides[] = {5, 7, 9, 11, 13};
  for (int s = 1; s <= 5; ++s) {
    const Frame f = corrupted(original, Corruption::occlusion, s, 100 + s);
    // The changed pixels lie in one square of the severity's side, filled with one grey.
    std::size_t top = kSide, left = kSide, bottom = 0, right = 0;
    for (std::size_t r = 0; r < kSide; ++r)
      for (std::size_t c = 0; c < kSide; ++c)
        if (f[r * kSide + c] != original[r * kSide + c]) {
          top = std::min(top, r), left = std::min(left, c), bottom = std::max(bottom, r), right = std::max(right, c);
        }
    ASSERT_LE(top, bottom) << "severity " << s << ": nothing changed";
    EXPECT_LE(bottom - top + 1, static_cast<std::size_t>(sides[s - 1]));
    EXPECT_LE(right - left + 1, static_cast<std::size_t>(sides[s - 1]));
    const std::uint8_t grey = f[top * kSide + left];
    for (std::size_t r = top; r <= bottom; ++r)
      for (std::size_t c = left; c <= right; ++c) ASSERT_EQ(f[r * kSide + c], grey) << "severity " << s;
  }
}

TEST(VisionCorruption, BlockinessSmoothsInsideEightByEightBlocks) {
  // A noisy frame has energy at every frequency; JPEG-like quantisation keeps the low ones per block.
  Frame noisy = corrupted(fixture_frame(5), Corruption::gaussian_noise, 5);
  const Frame mild = corrupted(noisy, Corruption::blockiness, 1), strong = corrupted(noisy, Corruption::blockiness, 5);
  EXPECT_LT(gradient_energy(mild, true), 0.8 * gradient_energy(noisy, true));
  EXPECT_LT(gradient_energy(strong, true), gradient_energy(mild, true));
  // A uniform 8x8-aligned frame is one DC coefficient per block: unchanged up to rounding.
  const Frame grey(kSide * kSide, 128);
  for (auto p : corrupted(grey, Corruption::blockiness, 5)) ASSERT_NEAR(p, 128, 1);
}

TEST(VisionCorruption, BadFramesAndSeveritiesNameTheProblem) {
  Frame f(kSide * kSide, 0);
  expect_error([&] { corrupt_frame(std::span<std::uint8_t>(f.data(), 10), kSide, kSide, {Corruption::occlusion, 1, 0}); },
               {"10 pixels", "28x28"});
  expect_error([&] { corrupt_frame(f, kSide, kSide, {Corruption::low_light, 0, 0}); }, {"low_light", "severity 0"});
  expect_error([&] { corrupt_frame(f, kSide, kSide, {Corruption::blockiness, 6, 0}); }, {"blockiness", "severity 6"});
  IdxImages images{2, kSide, kSide, Frame(2 * kSide * kSide, 0)};
  expect_error([&] { corrupt_frames(images, 1, 2, 0, CorruptionMix{}); }, {"frames [1, 3) of 2"});
}

TEST(VisionCorruption, SplitLoadingAppliesTheDraws) {
  // The pipeline's test split (the committed 200 frames) = raw frames + the test seed's draws, front end after.
  const Pipeline& p = PipelineRegistry::get().at("vision");
  const LabeledSet set = p.load({Split::test, 0, kFixtures});
  IdxImages raw = read_idx_images(kVisionFixtures + "/t10k-images-idx3-ubyte.gz");
  const IdxImages clean = raw;
  corrupt_frames(raw, 0, raw.count, vision_split_seed(Split::test), vision_corruption_mix());
  const nn::Tensor want = vision_front_end(raw, 0, raw.count);
  ASSERT_EQ(set.inputs.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) ASSERT_EQ(set.inputs[i], want[i]) << "value " << i;
  // A prefix (limit) is the same frames; every value is finite and within the front end's range.
  const LabeledSet first = p.load({Split::test, 20, kFixtures});
  for (std::size_t i = 0; i < first.inputs.size(); ++i) ASSERT_EQ(first.inputs[i], set.inputs[i]);
  const float lo = -kVisionMean / kVisionStd, hi = (1.0f - kVisionMean) / kVisionStd;
  for (std::size_t i = 0; i < set.inputs.size(); ++i) {
    ASSERT_TRUE(std::isfinite(set.inputs[i]));
    ASSERT_GE(set.inputs[i], lo - 1e-6f);
    ASSERT_LE(set.inputs[i], hi + 1e-6f);
  }
  // About half of the frames stay exactly as recorded; the others change.
  std::size_t unchanged = 0;
  for (std::size_t i = 0; i < raw.count; ++i)
    unchanged += std::equal(raw.pixels.begin() + static_cast<std::ptrdiff_t>(i * 784),
                            raw.pixels.begin() + static_cast<std::ptrdiff_t>((i + 1) * 784),
                            clean.pixels.begin() + static_cast<std::ptrdiff_t>(i * 784));
  EXPECT_GT(unchanged, 70u);
  EXPECT_LT(unchanged, 130u);
  // The same raw frames under another split's seed come out different.
  IdxImages as_train = clean;
  corrupt_frames(as_train, 0, as_train.count, vision_split_seed(Split::train), vision_corruption_mix());
  EXPECT_NE(as_train.pixels, raw.pixels);
}
