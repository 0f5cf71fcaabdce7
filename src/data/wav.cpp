// WAV decoding (RIFF/WAVE, PCM 16-bit or float 32-bit, mixed down to mono) and a 16-bit writer.
#include "imprecise/data/wav.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>

#include <fmt/core.h>

#include "imprecise/error.hpp"

namespace imprecise::data {

namespace {

constexpr std::uint16_t kFormatPcm = 1;
constexpr std::uint16_t kFormatFloat = 3;
constexpr std::uint16_t kFormatExtensible = 0xFFFE;

// WAV is little-endian whatever the host.
std::uint16_t le16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] | (p[1] << 8)); }
std::uint32_t le32(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
         (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}
bool tag_is(const std::uint8_t* p, const char* tag) { return std::memcmp(p, tag, 4) == 0; }

struct Format {
  std::uint16_t tag = 0;
  int channels = 0;
  int sample_rate = 0;
  int bits = 0;
  int block_align = 0;
};

Format parse_fmt(const std::uint8_t* p, std::size_t size, const std::string& name) {
  if (size < 16) throw Error(fmt::format("{}: fmt chunk is {} bytes, needs at least 16", name, size));
  Format f;
  f.tag = le16(p);
  f.channels = le16(p + 2);
  f.sample_rate = static_cast<int>(std::min<std::uint32_t>(le32(p + 4), 1u << 30));
  f.block_align = le16(p + 12);
  f.bits = le16(p + 14);
  if (f.tag == kFormatExtensible) {
    // The real format is the first two bytes of the sub-format GUID, after cbSize, valid bits, mask.
    if (size < 40) throw Error(fmt::format("{}: WAVE_FORMAT_EXTENSIBLE fmt chunk is {} bytes, needs 40", name, size));
    f.tag = le16(p + 24);
  }
  if (f.channels == 0) throw Error(fmt::format("{}: fmt chunk declares 0 channels", name));
  if (f.sample_rate == 0) throw Error(fmt::format("{}: fmt chunk declares a sample rate of 0 Hz", name));
  const bool pcm16 = f.tag == kFormatPcm && f.bits == 16;
  const bool float32 = f.tag == kFormatFloat && f.bits == 32;
  if (!pcm16 && !float32)
    throw Error(fmt::format("{}: unsupported WAV format (format tag {}, {} bits per sample); supported: PCM 16-bit, "
                            "IEEE float 32-bit",
                            name, f.tag, f.bits));
  if (f.block_align != f.channels * f.bits / 8)
    throw Error(fmt::format("{}: fmt chunk block align {} does not match {} channels x {} bits", name, f.block_align,
                            f.channels, f.bits));
  return f;
}

}  // namespace

WavAudio decode_wav(std::span<const std::uint8_t> bytes, const std::string& name) {
  if (bytes.size() < 12 || !tag_is(bytes.data(), "RIFF") || !tag_is(bytes.data() + 8, "WAVE"))
    throw Error(fmt::format("{}: not a WAV file (no RIFF/WAVE header)", name));
  Format format;
  bool have_fmt = false;
  const std::uint8_t* data = nullptr;
  std::size_t data_size = 0;
  std::size_t pos = 12;
  while (pos + 8 <= bytes.size()) {
    const std::uint8_t* chunk = bytes.data() + pos;
    const std::size_t size = le32(chunk + 4);
    if (size > bytes.size() - pos - 8) {
      throw Error(fmt::format("{}: truncated: chunk '{}' at byte {} declares {} bytes, {} remain", name,
                              std::string(reinterpret_cast<const char*>(chunk), 4), pos, size, bytes.size() - pos - 8));
    }
    if (tag_is(chunk, "fmt ")) {
      format = parse_fmt(chunk + 8, size, name);
      have_fmt = true;
    } else if (tag_is(chunk, "data")) {
      data = chunk + 8;
      data_size = size;
      break;  // anything after the samples is irrelevant
    }
    pos += 8 + size + (size & 1);  // chunks are padded to an even size
  }
  if (!have_fmt) throw Error(fmt::format("{}: no fmt chunk before the audio data", name));
  if (data == nullptr) throw Error(fmt::format("{}: truncated: no data chunk", name));
  const std::size_t frame_bytes = static_cast<std::size_t>(format.block_align);
  const std::size_t frames = data_size / frame_bytes;
  if (frames == 0) throw Error(fmt::format("{}: empty audio (data chunk holds {} bytes)", name, data_size));

  WavAudio audio;
  audio.sample_rate = format.sample_rate;
  audio.channels = format.channels;
  audio.samples.resize(frames);
  const float mix = 1.0f / static_cast<float>(format.channels);
  for (std::size_t i = 0; i < frames; ++i) {
    const std::uint8_t* frame = data + i * frame_bytes;
    float sum = 0.0f;
    for (int c = 0; c < format.channels; ++c) {
      if (format.tag == kFormatPcm) {
        sum += static_cast<float>(static_cast<std::int16_t>(le16(frame + 2 * c))) / 32768.0f;
      } else {
        const float value = std::bit_cast<float>(le32(frame + 4 * c));
        if (!std::isfinite(value))
          throw Error(fmt::format("{}: sample {} of channel {} is not finite", name, i, c));
        sum += value;
      }
    }
    audio.samples[i] = sum * mix;
  }
  return audio;
}

WavAudio read_wav(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(fmt::format("{}: cannot open", path));
  const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return decode_wav(bytes, path);
}

WavAudio read_wav(const std::string& path, int expected_rate) {
  WavAudio audio = read_wav(path);
  if (audio.sample_rate != expected_rate)
    throw Error(fmt::format("{}: sample rate is {} Hz, expected {} Hz (resample it first)", path, audio.sample_rate,
                            expected_rate));
  return audio;
}

void write_wav(const std::string& path, std::span<const float> samples, int sample_rate) {
  std::vector<std::uint8_t> out(44 + 2 * samples.size());
  auto put16 = [&](std::size_t at, std::uint32_t v) {
    out[at] = static_cast<std::uint8_t>(v & 0xFF);
    out[at + 1] = static_cast<std::uint8_t>((v >> 8) & 0xFF);
  };
  auto put32 = [&](std::size_t at, std::uint32_t v) {
    put16(at, v & 0xFFFF);
    put16(at + 2, v >> 16);
  };
  const auto data_bytes = static_cast<std::uint32_t>(2 * samples.size());
  std::memcpy(out.data(), "RIFF", 4);
  put32(4, 36 + data_bytes);
  std::memcpy(out.data() + 8, "WAVEfmt ", 8);
  put32(16, 16);
  put16(20, kFormatPcm);
  put16(22, 1);
  put32(24, static_cast<std::uint32_t>(sample_rate));
  put32(28, static_cast<std::uint32_t>(sample_rate) * 2);
  put16(32, 2);
  put16(34, 16);
  std::memcpy(out.data() + 36, "data", 4);
  put32(40, data_bytes);
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const float clipped = std::clamp(samples[i], -1.0f, 1.0f);
    const auto value = static_cast<std::int16_t>(std::lround(clipped * 32767.0f));
    put16(44 + 2 * i, static_cast<std::uint16_t>(value));
  }
  std::ofstream file(path, std::ios::binary);
  if (!file) throw Error(fmt::format("{}: cannot create", path));
  file.write(reinterpret_cast<const char*>(out.data()), static_cast<std::streamsize>(out.size()));
  if (!file) throw Error(fmt::format("{}: write failed", path));
}

}  // namespace imprecise::data
