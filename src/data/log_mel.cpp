// Log-mel front end (periodic Hann, Eigen FFT power spectrum, HTK mel filterbank, fixed normalisation).
#include "imprecise/data/log_mel.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include <fmt/core.h>
#include <unsupported/Eigen/FFT>

#include "imprecise/error.hpp"

namespace imprecise::data {

struct LogMel::Fft {
  Eigen::FFT<float> fft;
};

namespace {

double hz_to_mel(double hz) { return 2595.0 * std::log10(1.0 + hz / 700.0); }
double mel_to_hz(double mel) { return 700.0 * (std::pow(10.0, mel / 2595.0) - 1.0); }

}  // namespace

void validate(const LogMelConfig& c) {
  auto fail = [](const std::string& what) { throw Error("LogMelConfig: " + what); };
  if (c.sample_rate <= 0) fail(fmt::format("sample_rate {} must be positive", c.sample_rate));
  if (c.window <= 0 || c.hop <= 0 || c.mel_bands <= 0)
    fail(fmt::format("window {}, hop {} and mel_bands {} must be positive", c.window, c.hop, c.mel_bands));
  if (c.fft_size < c.window) fail(fmt::format("fft_size {} is smaller than window {}", c.fft_size, c.window));
  if (c.clip_samples < c.window) fail(fmt::format("clip_samples {} is shorter than window {}", c.clip_samples, c.window));
  if (!(c.f_min >= 0.0f && c.f_min < c.f_max)) fail(fmt::format("f_min {} must be in [0, f_max {})", c.f_min, c.f_max));
  if (c.f_max > 0.5f * static_cast<float>(c.sample_rate))
    fail(fmt::format("f_max {} is above the Nyquist frequency {}", c.f_max, c.sample_rate / 2));
  if (!(c.eps > 0.0f)) fail(fmt::format("eps {} must be positive", c.eps));
  if (!(c.std > 0.0f)) fail(fmt::format("std {} must be positive", c.std));
}

std::vector<float> mel_filterbank(const LogMelConfig& c) {
  validate(c);
  const int bins = c.fft_size / 2 + 1;
  const double mel_lo = hz_to_mel(c.f_min), mel_hi = hz_to_mel(c.f_max);
  std::vector<double> edges(static_cast<std::size_t>(c.mel_bands) + 2);
  for (std::size_t i = 0; i < edges.size(); ++i)
    edges[i] = mel_to_hz(mel_lo + (mel_hi - mel_lo) * static_cast<double>(i) / static_cast<double>(c.mel_bands + 1));
  std::vector<float> bank(static_cast<std::size_t>(c.mel_bands) * static_cast<std::size_t>(bins), 0.0f);
  for (int m = 0; m < c.mel_bands; ++m) {
    const auto mi = static_cast<std::size_t>(m);
    const double lo = edges[mi], centre = edges[mi + 1], hi = edges[mi + 2];
    for (int k = 0; k < bins; ++k) {
      const double hz = static_cast<double>(k) * c.sample_rate / c.fft_size;
      const double w = std::max(0.0, std::min((hz - lo) / (centre - lo), (hi - hz) / (hi - centre)));
      bank[mi * static_cast<std::size_t>(bins) + static_cast<std::size_t>(k)] = static_cast<float>(w);
    }
  }
  return bank;
}

LogMel::LogMel(const LogMelConfig& config) : config_(config), fft_(std::make_unique<Fft>()) {
  validate(config_);
  hann_.resize(static_cast<std::size_t>(config_.window));
  for (std::size_t n = 0; n < hann_.size(); ++n)  // periodic Hann, as torch.hann_window / scipy's fftbins=True
    hann_[n] = static_cast<float>(0.5 - 0.5 * std::cos(2.0 * std::numbers::pi * static_cast<double>(n) /
                                                       static_cast<double>(config_.window)));
  filterbank_ = mel_filterbank(config_);
  const int bins = config_.fft_size / 2 + 1;
  // Each triangle covers a few bins: remember where, so a band sums only those.
  for (int m = 0; m < config_.mel_bands; ++m) {
    int first = bins, last = -1;
    for (int k = 0; k < bins; ++k) {
      if (filterbank_[static_cast<std::size_t>(m * bins + k)] > 0.0f) {
        first = std::min(first, k);
        last = k;
      }
    }
    band_first_.push_back(first);
    band_last_.push_back(last);  // a band narrower than a bin stays empty: its energy is 0, its log is ln(eps)
  }
  clip_.resize(static_cast<std::size_t>(config_.clip_samples));
  frame_.resize(static_cast<std::size_t>(config_.fft_size));
  power_.resize(static_cast<std::size_t>(bins));
  fft_->fft.SetFlag(Eigen::FFT<float>::HalfSpectrum);
}

LogMel::LogMel(LogMel&&) noexcept = default;
LogMel& LogMel::operator=(LogMel&&) noexcept = default;
LogMel::~LogMel() = default;

std::size_t LogMel::output_size() const {
  return static_cast<std::size_t>(config_.mel_bands) * static_cast<std::size_t>(config_.frames());
}

void LogMel::compute(std::span<const float> audio, std::span<float> out) {
  if (audio.empty()) throw Error("log-mel: empty audio");
  if (out.size() != output_size())
    throw Error(fmt::format("log-mel: output holds {} values, needs {} ({} bands x {} frames)", out.size(),
                            output_size(), config_.mel_bands, config_.frames()));
  // Centre the clip: crop the middle of a longer one, pad a shorter one with zeros on both sides.
  std::fill(clip_.begin(), clip_.end(), 0.0f);
  const std::size_t n = clip_.size();
  if (audio.size() >= n) {
    const std::size_t skip = (audio.size() - n) / 2;
    std::copy_n(audio.begin() + static_cast<std::ptrdiff_t>(skip), n, clip_.begin());
  } else {
    std::copy(audio.begin(), audio.end(), clip_.begin() + static_cast<std::ptrdiff_t>((n - audio.size()) / 2));
  }
  const int frames = config_.frames(), bins = config_.fft_size / 2 + 1;
  const auto window = static_cast<std::size_t>(config_.window);
  for (int t = 0; t < frames; ++t) {
    const std::size_t start = static_cast<std::size_t>(t) * static_cast<std::size_t>(config_.hop);
    for (std::size_t i = 0; i < window; ++i) frame_[i] = clip_[start + i] * hann_[i];
    std::fill(frame_.begin() + static_cast<std::ptrdiff_t>(window), frame_.end(), 0.0f);
    fft_->fft.fwd(spectrum_, frame_);
    for (int k = 0; k < bins; ++k) power_[static_cast<std::size_t>(k)] = std::norm(spectrum_[static_cast<std::size_t>(k)]);
    for (int m = 0; m < config_.mel_bands; ++m) {
      const float* weights = filterbank_.data() + static_cast<std::size_t>(m * bins);
      float energy = 0.0f;
      for (int k = band_first_[static_cast<std::size_t>(m)]; k <= band_last_[static_cast<std::size_t>(m)]; ++k)
        energy += weights[k] * power_[static_cast<std::size_t>(k)];
      out[static_cast<std::size_t>(m * frames + t)] = (std::log(energy + config_.eps) - config_.mean) / config_.std;
    }
  }
}

nn::Tensor LogMel::operator()(std::span<const float> audio) {
  nn::Tensor features(nn::Shape{1, config_.mel_bands, config_.frames()});
  compute(audio, features.values());
  return features;
}

}  // namespace imprecise::data
