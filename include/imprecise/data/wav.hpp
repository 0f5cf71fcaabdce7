// WAV decoding: RIFF/WAVE files with PCM 16-bit or IEEE float 32-bit samples, mixed down to mono floats.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace imprecise::data {

/// Decoded audio: mono samples in [-1, 1] (PCM 16-bit / 32768; float samples as stored).
struct WavAudio {
  int sample_rate = 0;
  int channels = 0;  ///< channels in the file; `samples` is their mean
  std::vector<float> samples;
  double seconds() const { return sample_rate > 0 ? static_cast<double>(samples.size()) / sample_rate : 0.0; }
};

/// Decodes a RIFF/WAVE file held in memory. Accepts format tag 1 (PCM, 16-bit), 3 (IEEE float, 32-bit)
/// and 0xFFFE (WAVE_FORMAT_EXTENSIBLE with either sub-format), any number of channels (averaged), and
/// skips chunks it does not need (LIST, fact, ...). Throws Error prefixed by `name` when the bytes are
/// not RIFF/WAVE, a chunk is truncated, the fmt or data chunk is missing, the format is unsupported
/// (8/24-bit PCM, ADPCM, ...) or the audio is empty.
WavAudio decode_wav(std::span<const std::uint8_t> bytes, const std::string& name = "<memory>");

/// Reads and decodes `path`; errors name the file.
WavAudio read_wav(const std::string& path);

/// Like read_wav, and throws Error naming the file unless its sample rate is `expected_rate`.
WavAudio read_wav(const std::string& path, int expected_rate);

/// Writes mono 16-bit PCM (samples clipped to [-1, 1]); for tests and tools.
void write_wav(const std::string& path, std::span<const float> samples, int sample_rate);

}  // namespace imprecise::data
