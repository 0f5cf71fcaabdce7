// Edge-camera corruptions of Fashion-MNIST frames: sensor noise, blur, low light / contrast, occlusion and
// JPEG-like blockiness, each at 5 severities (after the -C benchmarks, scaled to 28x28). The vision
// pipeline applies a seeded mix of them when it loads a split, so every command sees the same frames.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "imprecise/data/idx.hpp"

namespace imprecise::data {

enum class Corruption : std::uint8_t {
  none,
  gaussian_noise,  ///< additive read noise, sigma 0.05 .. 0.24 (of full scale)
  shot_noise,      ///< Poisson photon noise, 60 .. 6 photons at full scale
  motion_blur,     ///< line kernel of 3 .. 9 px at a random angle
  defocus_blur,    ///< disk kernel of radius 1 .. 3 px
  low_light,       ///< gain 0.5 .. 0.12, then read noise and 8-bit quantisation
  low_contrast,    ///< contrast around the frame's mean scaled by 0.5 .. 0.12
  occlusion,       ///< a square of 5 .. 13 px filled with one random grey
  blockiness,      ///< 8x8 block DCT quantised with the JPEG luminance table, quality 25 .. 7
};
inline constexpr int kCorruptionKinds = 8;  ///< the kinds after `none`
inline constexpr int kMaxSeverity = 5;

/// "clean", "gaussian_noise", ... (the enum's names).
const char* to_string(Corruption kind);

/// The mix a split is drawn from: a frame stays clean with probability clean_fraction, else gets one
/// corruption kind (uniform over the 8) at a severity uniform in [min_severity, max_severity].
struct CorruptionMix {
  double clean_fraction = 0.5;
  int min_severity = 1;
  int max_severity = 5;
  /// Throws Error naming the field when it is out of range.
  void validate() const;
};

/// What happens to one frame; `seed` drives the corruption's own randomness (noise, angle, position).
struct CorruptionDraw {
  Corruption kind = Corruption::none;
  int severity = 0;  ///< 1..5; 0 for none
  std::uint64_t seed = 0;
};

/// The draw for frame `index` of a split with seed `split_seed`: a pure function of the three arguments.
CorruptionDraw draw_corruption(const CorruptionMix& mix, std::uint64_t split_seed, std::size_t index);

/// Applies `draw` to one rows x cols 8-bit frame in place (computed in [0, 1], rounded back to 8 bits).
/// Throws Error when the span does not hold rows x cols pixels or the severity is outside 1..5.
void corrupt_frame(std::span<std::uint8_t> pixels, std::size_t rows, std::size_t cols, const CorruptionDraw& draw);

/// Frames [begin, begin + count) of `images`, frame begin + i drawn as index i of the split.
void corrupt_frames(IdxImages& images, std::size_t begin, std::size_t count, std::uint64_t split_seed,
                    const CorruptionMix& mix);

}  // namespace imprecise::data
