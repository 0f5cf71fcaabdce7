// Log-mel front end: a mono 16 kHz clip -> normalised log mel-band energies [bands, frames] (Eigen FFT).
#pragma once

#include <complex>
#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include "imprecise/graph/tensor.hpp"

namespace imprecise::data {

/// Defaults: the voice pipeline's front end (what models/voice.onnx was trained on). Per frame:
/// periodic Hann window of `window` samples, zero-padded to `fft_size`, power spectrum |X|^2
/// (unscaled), `mel_bands` triangular filters on the HTK mel scale (mel = 2595 log10(1 + f / 700)),
/// edges equally spaced in mel from f_min to f_max, unit peak (no area normalisation). Then
/// value = (ln(mel energy + eps) - mean) / std with FIXED mean and std (measured once on the voice
/// training split, written here), so no statistic ever depends on the split being processed.
struct LogMelConfig {
  int sample_rate = 16000;    ///< Hz; inputs at another rate are rejected by the callers that know the rate
  int clip_samples = 16000;   ///< every clip is centre-padded (zeros) or centre-cropped to this (1 s)
  int window = 400;           ///< 25 ms
  int hop = 160;              ///< 10 ms
  int fft_size = 512;         ///< >= window
  int mel_bands = 40;
  float f_min = 20.0f;        ///< Hz
  float f_max = 8000.0f;      ///< Hz, <= sample_rate / 2
  float eps = 1e-6f;          ///< floor inside the log: the log of an all-zero frame is finite
  float mean = -6.1f;         ///< fixed normalisation: subtracted from ln(mel + eps) ...
  float std = 4.4f;           ///< ... then divided by this

  /// Frames per clip, no padding at the ends: 1 + (clip_samples - window) / hop (98 by default).
  int frames() const { return 1 + (clip_samples - window) / hop; }
};

/// Throws Error naming the field when `config` is inconsistent (non-positive sizes, window > fft_size,
/// window > clip_samples, f_min >= f_max, f_max above Nyquist, std <= 0).
void validate(const LogMelConfig& config);

/// The triangular mel filterbank, row-major [mel_bands, fft_size / 2 + 1].
std::vector<float> mel_filterbank(const LogMelConfig& config);

/// Computes log-mel features. Owns its FFT plan and scratch buffers: reuse one per thread.
class LogMel {
 public:
  explicit LogMel(const LogMelConfig& config = {});
  LogMel(LogMel&&) noexcept;
  LogMel& operator=(LogMel&&) noexcept;
  ~LogMel();

  const LogMelConfig& config() const { return config_; }
  /// Values per clip: mel_bands * frames.
  std::size_t output_size() const;

  /// Writes one clip's features, band-major ([band][frame]), into `out` (output_size() values).
  /// `audio` of any non-zero length is centre-padded / cropped to clip_samples first.
  void compute(std::span<const float> audio, std::span<float> out);
  /// The same as a tensor [1, mel_bands, frames].
  nn::Tensor operator()(std::span<const float> audio);

 private:
  struct Fft;
  LogMelConfig config_;
  std::vector<float> hann_;
  std::vector<float> filterbank_;          // [bands, bins]
  std::vector<int> band_first_, band_last_;  // non-zero bin range per band, inclusive
  std::vector<float> clip_, frame_, power_;
  std::vector<std::complex<float>> spectrum_;
  std::unique_ptr<Fft> fft_;
};

}  // namespace imprecise::data
