// Edge-camera corruptions of 8-bit frames and the seeded draw of which one a frame gets.
#include "imprecise/data/vision_corruption.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>
#include <vector>

#include <fmt/core.h>

#include "imprecise/error.hpp"

namespace imprecise::data {

namespace {

// splitmix64: tiny, and the same numbers on every platform (std's distributions are not);
// scripts/make_vision_report.py mirrors draw_corruption() to group test frames by corruption.
struct Rng {
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  double normal() {  // Box-Muller
    const double u = 1.0 - uniform(), v = uniform();
    return std::sqrt(-2.0 * std::log(u)) * std::cos(2.0 * std::numbers::pi * v);
  }
  int poisson(double lambda) {  // Knuth; lambda <= 60 here, so exp(-lambda) stays a normal double
    const double limit = std::exp(-lambda);
    int k = 0;
    for (double p = uniform(); p > limit; p *= uniform()) ++k;
    return k;
  }
};

// Per severity 1..5 (index 0..4): the ImageNet-C parameters, milder at the top for 28x28 frames (a
// 28-pixel garment loses its class to noise and blur sooner than a 224-pixel scene).
constexpr std::array<double, 5> kNoiseSigma{0.05, 0.08, 0.12, 0.17, 0.24};
constexpr std::array<double, 5> kShotPhotons{60, 30, 16, 10, 6};
constexpr std::array<int, 5> kMotionLength{3, 4, 5, 7, 9};
constexpr std::array<double, 5> kDefocusRadius{1.0, 1.5, 2.0, 2.5, 3.0};
constexpr std::array<double, 5> kLowLightGain{0.5, 0.35, 0.25, 0.17, 0.12};
constexpr double kLowLightReadNoise = 0.01;
constexpr std::array<double, 5> kContrast{0.5, 0.4, 0.3, 0.2, 0.12};
constexpr std::array<int, 5> kOcclusionSide{5, 7, 9, 11, 13};
constexpr std::array<int, 5> kJpegQuality{25, 18, 15, 10, 7};
constexpr std::array<int, 64> kJpegLuminance{16, 11, 10, 16, 24,  40,  51,  61,  12, 12, 14, 19, 26,  58,  60,  55,
                                             14, 13, 16, 24, 40,  57,  69,  56,  14, 17, 22, 29, 51,  87,  80,  62,
                                             18, 22, 37, 56, 68,  109, 103, 77,  24, 35, 55, 64, 81,  104, 113, 92,
                                             49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99};

// A frame as floats in [0, 1].
struct Frame {
  std::size_t rows, cols;
  std::vector<double> v;
  double at(long r, long c) const {  // black outside, as Fashion-MNIST's background
    if (r < 0 || c < 0 || r >= static_cast<long>(rows) || c >= static_cast<long>(cols)) return 0.0;
    return v[static_cast<std::size_t>(r) * cols + static_cast<std::size_t>(c)];
  }
  double bilinear(double r, double c) const {
    const double r0 = std::floor(r), c0 = std::floor(c), fr = r - r0, fc = c - c0;
    const long ir = static_cast<long>(r0), ic = static_cast<long>(c0);
    return (1 - fr) * ((1 - fc) * at(ir, ic) + fc * at(ir, ic + 1)) + fr * ((1 - fc) * at(ir + 1, ic) + fc * at(ir + 1, ic + 1));
  }
};

void motion_blur(Frame& f, int length, Rng& rng) {
  const double angle = std::numbers::pi * rng.uniform();
  const double dr = std::sin(angle), dc = std::cos(angle);
  const Frame source = f;
  for (std::size_t r = 0; r < f.rows; ++r)
    for (std::size_t c = 0; c < f.cols; ++c) {
      double sum = 0.0;
      for (int t = 0; t < length; ++t) {
        const double s = t - (length - 1) / 2.0;
        sum += source.bilinear(static_cast<double>(r) + s * dr, static_cast<double>(c) + s * dc);
      }
      f.v[r * f.cols + c] = sum / length;
    }
}

void defocus_blur(Frame& f, double radius) {
  const long reach = static_cast<long>(std::floor(radius));
  const Frame source = f;
  for (std::size_t r = 0; r < f.rows; ++r)
    for (std::size_t c = 0; c < f.cols; ++c) {
      double sum = 0.0;
      int taps = 0;
      for (long dy = -reach; dy <= reach; ++dy)
        for (long dx = -reach; dx <= reach; ++dx)
          if (static_cast<double>(dy * dy + dx * dx) <= radius * radius) {
            sum += source.at(static_cast<long>(r) + dy, static_cast<long>(c) + dx);
            ++taps;
          }
      f.v[r * f.cols + c] = sum / taps;
    }
}

void low_contrast(Frame& f, double factor) {
  double mean = 0.0;
  for (double x : f.v) mean += x;
  mean /= static_cast<double>(f.v.size());
  for (double& x : f.v) x = (x - mean) * factor + mean;
}

void occlusion(Frame& f, int side, Rng& rng) {
  const int s = std::min<int>(side, static_cast<int>(std::min(f.rows, f.cols)));
  const auto top = static_cast<std::size_t>(rng.next() % (f.rows - static_cast<std::size_t>(s) + 1));
  const auto left = static_cast<std::size_t>(rng.next() % (f.cols - static_cast<std::size_t>(s) + 1));
  const double grey = rng.uniform();
  for (std::size_t r = top; r < top + static_cast<std::size_t>(s); ++r)
    for (std::size_t c = left; c < left + static_cast<std::size_t>(s); ++c) f.v[r * f.cols + c] = grey;
}

// JPEG's core: every 8x8 block (the frame padded by repeating its edge) through an orthonormal DCT,
// quantised with the luminance table at `quality` (IJG scaling), and back.
void blockiness(Frame& f, int quality) {
  const int scale = quality < 50 ? 5000 / quality : 200 - 2 * quality;
  std::array<double, 64> q{};
  for (int i = 0; i < 64; ++i) q[i] = std::clamp((kJpegLuminance[i] * scale + 50) / 100, 1, 255);
  std::array<double, 64> basis{};  // basis[u * 8 + x] = c(u) cos((2x + 1) u pi / 16)
  for (int u = 0; u < 8; ++u)
    for (int x = 0; x < 8; ++x)
      basis[u * 8 + x] = (u == 0 ? std::sqrt(1.0 / 8) : std::sqrt(2.0 / 8)) * std::cos((2 * x + 1) * u * std::numbers::pi / 16);
  const Frame source = f;
  for (std::size_t br = 0; br < f.rows; br += 8)
    for (std::size_t bc = 0; bc < f.cols; bc += 8) {
      std::array<double, 64> block{}, coef{};
      for (std::size_t y = 0; y < 8; ++y)
        for (std::size_t x = 0; x < 8; ++x) {
          const std::size_t r = std::min(br + y, f.rows - 1), c = std::min(bc + x, f.cols - 1);
          block[y * 8 + x] = source.v[r * f.cols + c] * 255.0 - 128.0;
        }
      for (int u = 0; u < 8; ++u)
        for (int v = 0; v < 8; ++v) {
          double sum = 0.0;
          for (int y = 0; y < 8; ++y)
            for (int x = 0; x < 8; ++x) sum += basis[u * 8 + y] * basis[v * 8 + x] * block[y * 8 + x];
          coef[u * 8 + v] = std::round(sum / q[u * 8 + v]) * q[u * 8 + v];
        }
      for (std::size_t y = 0; y < 8 && br + y < f.rows; ++y)
        for (std::size_t x = 0; x < 8 && bc + x < f.cols; ++x) {
          double sum = 0.0;
          for (int u = 0; u < 8; ++u)
            for (int v = 0; v < 8; ++v) sum += basis[u * 8 + y] * basis[v * 8 + x] * coef[u * 8 + v];
          f.v[(br + y) * f.cols + bc + x] = (sum + 128.0) / 255.0;
        }
    }
}

}  // namespace

const char* to_string(Corruption kind) {
  switch (kind) {
    case Corruption::none: return "clean";
    case Corruption::gaussian_noise: return "gaussian_noise";
    case Corruption::shot_noise: return "shot_noise";
    case Corruption::motion_blur: return "motion_blur";
    case Corruption::defocus_blur: return "defocus_blur";
    case Corruption::low_light: return "low_light";
    case Corruption::low_contrast: return "low_contrast";
    case Corruption::occlusion: return "occlusion";
    case Corruption::blockiness: return "blockiness";
  }
  return "?";
}

void CorruptionMix::validate() const {
  if (!(clean_fraction >= 0.0 && clean_fraction <= 1.0))
    throw Error(fmt::format("corruption mix: clean_fraction {} is not in [0, 1]", clean_fraction));
  if (min_severity < 1 || max_severity > kMaxSeverity || min_severity > max_severity)
    throw Error(fmt::format("corruption mix: severities [min_severity {}, max_severity {}] are not a range in [1, {}]",
                            min_severity, max_severity, kMaxSeverity));
}

CorruptionDraw draw_corruption(const CorruptionMix& mix, std::uint64_t split_seed, std::size_t index) {
  mix.validate();
  Rng rng{split_seed * 0xD1B54A32D192ED03ull + static_cast<std::uint64_t>(index)};
  const double u = rng.uniform();
  const auto kind = static_cast<Corruption>(1 + rng.next() % kCorruptionKinds);
  const int severity = mix.min_severity + static_cast<int>(rng.next() % static_cast<std::uint64_t>(mix.max_severity - mix.min_severity + 1));
  const std::uint64_t seed = rng.next();
  if (u < mix.clean_fraction) return CorruptionDraw{Corruption::none, 0, seed};
  return CorruptionDraw{kind, severity, seed};
}

void corrupt_frame(std::span<std::uint8_t> pixels, std::size_t rows, std::size_t cols, const CorruptionDraw& draw) {
  if (pixels.size() != rows * cols || rows == 0 || cols == 0)
    throw Error(fmt::format("corrupt_frame: {} pixels for a {}x{} frame", pixels.size(), rows, cols));
  if (draw.kind == Corruption::none) return;
  if (draw.severity < 1 || draw.severity > kMaxSeverity)
    throw Error(fmt::format("corrupt_frame: {} severity {} is not in [1, {}]", to_string(draw.kind), draw.severity,
                            kMaxSeverity));
  const auto s = static_cast<std::size_t>(draw.severity - 1);
  Frame f{rows, cols, std::vector<double>(pixels.size())};
  for (std::size_t i = 0; i < pixels.size(); ++i) f.v[i] = pixels[i] / 255.0;
  Rng rng{draw.seed};
  switch (draw.kind) {
    case Corruption::none: break;
    case Corruption::gaussian_noise:
      for (double& x : f.v) x += kNoiseSigma[s] * rng.normal();
      break;
    case Corruption::shot_noise:
      for (double& x : f.v) x = rng.poisson(x * kShotPhotons[s]) / kShotPhotons[s];
      break;
    case Corruption::motion_blur: motion_blur(f, kMotionLength[s], rng); break;
    case Corruption::defocus_blur: defocus_blur(f, kDefocusRadius[s]); break;
    case Corruption::low_light:
      for (double& x : f.v) x = x * kLowLightGain[s] + kLowLightReadNoise * rng.normal();
      break;
    case Corruption::low_contrast: low_contrast(f, kContrast[s]); break;
    case Corruption::occlusion: occlusion(f, kOcclusionSide[s], rng); break;
    case Corruption::blockiness: blockiness(f, kJpegQuality[s]); break;
  }
  for (std::size_t i = 0; i < pixels.size(); ++i)
    pixels[i] = static_cast<std::uint8_t>(std::lround(std::clamp(f.v[i], 0.0, 1.0) * 255.0));
}

void corrupt_frames(IdxImages& images, std::size_t begin, std::size_t count, std::uint64_t split_seed,
                    const CorruptionMix& mix) {
  const std::size_t pixels = images.rows * images.cols;
  if (begin > images.count || count > images.count - begin || images.pixels.size() != images.count * pixels)
    throw Error(fmt::format("corrupt_frames: frames [{}, {}) of {} ({} pixels of {}x{})", begin, begin + count,
                            images.count, images.pixels.size(), images.rows, images.cols));
  mix.validate();
  for (std::size_t i = 0; i < count; ++i)
    corrupt_frame(std::span<std::uint8_t>(images.pixels.data() + (begin + i) * pixels, pixels), images.rows,
                  images.cols, draw_corruption(mix, split_seed, i));
}

}  // namespace imprecise::data
