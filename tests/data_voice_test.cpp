// Voice pipeline: WAV decoding and its errors, the log-mel front end against numpy, the pipeline's
// loader, and the committed model's accuracy on the committed clips (tests/fixtures/data/voice/).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <numbers>
#include <sstream>
#include <string>
#include <vector>

#include "imprecise/data/evaluation.hpp"
#include "imprecise/data/pipelines.hpp"
#include "imprecise/data/voice.hpp"
#include "imprecise/error.hpp"
#include "imprecise/nn/multi_exit_model.hpp"
#include "imprecise/graph/npy.hpp"

namespace imprecise::data {
namespace {

const std::string kFixtures = std::string(IMPRECISE_SOURCE_DIR) + "/tests/fixtures/data";
const std::string kStopWav = kFixtures + "/voice/stop.wav";

// A scratch folder per test, removed afterwards.
class VoiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("imprecise_voice_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string write(const std::string& name, const std::vector<std::uint8_t>& bytes) const {
    std::ofstream out(path(name), std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return path(name);
  }
  std::filesystem::path dir_;
};

// Builds WAV bytes chunk by chunk (little-endian), so every header field can be set wrong on purpose.
struct WavBytes {
  std::vector<std::uint8_t> bytes;
  void tag(const char* t) { bytes.insert(bytes.end(), t, t + 4); }
  void u16(std::uint32_t v) {
    bytes.push_back(static_cast<std::uint8_t>(v & 0xFF));
    bytes.push_back(static_cast<std::uint8_t>((v >> 8) & 0xFF));
  }
  void u32(std::uint32_t v) {
    u16(v & 0xFFFF);
    u16(v >> 16);
  }
  void f32(float v) {
    std::uint32_t u;
    std::memcpy(&u, &v, 4);
    u32(u);
  }
  void riff() {
    tag("RIFF");
    u32(0);  // RIFF size: ignored by readers that walk chunks, as ours does
    tag("WAVE");
  }
  void fmt(std::uint32_t format, std::uint32_t channels, std::uint32_t rate, std::uint32_t bits) {
    tag("fmt ");
    u32(16);
    u16(format);
    u16(channels);
    u32(rate);
    u32(rate * channels * bits / 8);
    u16(channels * bits / 8);
    u16(bits);
  }
};

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST_F(VoiceTest, Pcm16RoundTrip) {
  std::vector<float> samples{0.0f, 0.5f, -0.5f, 1.0f, -1.0f, 0.25f, 2.0f /* clipped */};
  write_wav(path("a.wav"), samples, 16000);
  const WavAudio audio = read_wav(path("a.wav"), 16000);
  EXPECT_EQ(audio.sample_rate, 16000);
  EXPECT_EQ(audio.channels, 1);
  ASSERT_EQ(audio.samples.size(), samples.size());
  for (std::size_t i = 0; i + 1 < samples.size(); ++i) EXPECT_NEAR(audio.samples[i], samples[i], 1.0 / 32767);
  EXPECT_NEAR(audio.samples.back(), 1.0, 1.0 / 32767);
}

TEST_F(VoiceTest, StereoFloatIsMixedDownAndUnknownChunksSkipped) {
  WavBytes w;
  w.riff();
  w.tag("LIST");  // an odd-sized chunk before fmt: skipped, with its pad byte
  w.u32(3);
  w.bytes.insert(w.bytes.end(), {'a', 'b', 'c', 0});
  w.fmt(3, 2, 8000, 32);
  w.tag("data");
  w.u32(16);
  for (float v : {0.5f, -0.5f, 1.0f, 0.0f}) w.f32(v);
  const WavAudio audio = read_wav(write("f.wav", w.bytes));
  EXPECT_EQ(audio.sample_rate, 8000);
  EXPECT_EQ(audio.channels, 2);
  ASSERT_EQ(audio.samples.size(), 2u);
  EXPECT_FLOAT_EQ(audio.samples[0], 0.0f);
  EXPECT_FLOAT_EQ(audio.samples[1], 0.5f);
}

TEST_F(VoiceTest, ExtensiblePcm16) {
  WavBytes w;
  w.riff();
  w.tag("fmt ");
  w.u32(40);
  w.u16(0xFFFE);
  w.u16(1);
  w.u32(16000);
  w.u32(32000);
  w.u16(2);
  w.u16(16);
  w.u16(22);  // cbSize
  w.u16(16);  // valid bits
  w.u32(4);   // channel mask
  w.u16(1);   // sub-format GUID starts with the PCM tag
  w.bytes.insert(w.bytes.end(), 14, 0);
  w.tag("data");
  w.u32(4);
  w.u16(16384);
  w.u16(static_cast<std::uint16_t>(-16384));
  const WavAudio audio = decode_wav(w.bytes);
  ASSERT_EQ(audio.samples.size(), 2u);
  EXPECT_FLOAT_EQ(audio.samples[0], 0.5f);
  EXPECT_FLOAT_EQ(audio.samples[1], -0.5f);
}

TEST_F(VoiceTest, WavErrorsNameTheFileAndTheProblem) {
  const std::string not_riff = write("text.wav", {'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd', '!', '!'});
  EXPECT_NE(error_of([&] { read_wav(not_riff); }).find("text.wav: not a WAV file"), std::string::npos);
  EXPECT_NE(error_of([&] { read_wav(write("tiny.wav", {'R', 'I'})); }).find("not a WAV file"), std::string::npos);
  EXPECT_NE(error_of([&] { read_wav(path("missing.wav")); }).find("missing.wav: cannot open"), std::string::npos);

  // A real file cut in the middle of its samples.
  std::ifstream in(kStopWav, std::ios::binary);
  std::vector<std::uint8_t> stop((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(stop.size(), 1000u);
  stop.resize(stop.size() / 2);
  EXPECT_NE(error_of([&] { read_wav(write("cut.wav", stop)); }).find("cut.wav: truncated"), std::string::npos);
  stop.resize(30);  // inside the fmt chunk
  EXPECT_NE(error_of([&] { read_wav(write("cut2.wav", stop)); }).find("truncated"), std::string::npos);

  WavBytes u8;
  u8.riff();
  u8.fmt(1, 1, 16000, 8);
  u8.tag("data");
  u8.u32(2);
  u8.u16(0x8080);
  EXPECT_NE(error_of([&] { read_wav(write("u8.wav", u8.bytes)); }).find("u8.wav: unsupported WAV format"),
            std::string::npos);
  WavBytes adpcm;
  adpcm.riff();
  adpcm.fmt(2, 1, 16000, 16);
  adpcm.tag("data");
  adpcm.u32(2);
  adpcm.u16(0);
  EXPECT_NE(error_of([&] { decode_wav(adpcm.bytes, "adpcm.wav"); }).find("format tag 2"), std::string::npos);

  WavBytes empty;
  empty.riff();
  empty.fmt(1, 1, 16000, 16);
  empty.tag("data");
  empty.u32(0);
  EXPECT_NE(error_of([&] { read_wav(write("empty.wav", empty.bytes)); }).find("empty.wav: empty audio"),
            std::string::npos);

  WavBytes no_fmt;
  no_fmt.riff();
  no_fmt.tag("data");
  no_fmt.u32(2);
  no_fmt.u16(0);
  EXPECT_NE(error_of([&] { decode_wav(no_fmt.bytes, "nofmt"); }).find("no fmt chunk"), std::string::npos);

  WavBytes nan;
  nan.riff();
  nan.fmt(3, 1, 16000, 32);
  nan.tag("data");
  nan.u32(4);
  nan.f32(std::nanf(""));
  EXPECT_NE(error_of([&] { decode_wav(nan.bytes, "nan"); }).find("not finite"), std::string::npos);

  write_wav(path("8k.wav"), std::vector<float>(100, 0.1f), 8000);
  EXPECT_NE(error_of([&] { read_wav(path("8k.wav"), 16000); }).find("8k.wav: sample rate is 8000 Hz"),
            std::string::npos);
}

// The C++ front end against scripts/make_voice_fixtures.py's float64 numpy implementation on the
// committed clip. The C++ side computes the FFT and mel sums in float32: on these features (unit
// scale after normalisation) the two agree to 3e-6 (kissfft); 1e-4 leaves room for other FFT backends.
TEST_F(VoiceTest, LogMelMatchesNumpyOnFixture) {
  LogMel log_mel;
  const nn::Tensor got = voice_front_end(read_wav(kStopWav), kStopWav, log_mel);
  const nn::Tensor want = nn::read_npy(kFixtures + "/voice/stop.logmel.npy");
  ASSERT_EQ(got.shape(), (nn::Shape{1, 40, 98}));
  ASSERT_EQ(want.size(), got.size());
  double worst = 0.0;
  for (std::size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::abs(double(got[i]) - double(want[i])));
  EXPECT_LT(worst, 1e-4);
  RecordProperty("max_abs_difference", std::to_string(worst));
}

TEST_F(VoiceTest, LogMelProperties) {
  LogMel log_mel;
  const LogMelConfig& c = log_mel.config();
  EXPECT_EQ(c.frames(), 98);
  EXPECT_EQ(log_mel.output_size(), 40u * 98u);

  // Digital silence: every value is the floor ln(eps), normalised.
  const nn::Tensor zero = log_mel(std::vector<float>(16000, 0.0f));
  const float floor = (std::log(c.eps) - c.mean) / c.std;
  for (float v : zero.values()) EXPECT_FLOAT_EQ(v, floor);

  // A 1 kHz tone: the loudest band is the one whose triangle peaks nearest 1 kHz, in every frame.
  std::vector<float> tone(16000);
  for (std::size_t n = 0; n < tone.size(); ++n)
    tone[n] = 0.5f * static_cast<float>(std::sin(2.0 * std::numbers::pi * 1000.0 * static_cast<double>(n) / 16000.0));
  const nn::Tensor t = log_mel(tone);
  const std::vector<float> bank = mel_filterbank(c);
  const int bin = 1000 * 512 / 16000;  // exactly bin 32
  int expected = 0;
  for (int m = 1; m < 40; ++m)
    if (bank[static_cast<std::size_t>(m * 257 + bin)] > bank[static_cast<std::size_t>(expected * 257 + bin)]) expected = m;
  for (int frame : {0, 50, 97}) {
    int best = 0;
    for (int m = 1; m < 40; ++m)
      if (t[static_cast<std::size_t>(m * 98 + frame)] > t[static_cast<std::size_t>(best * 98 + frame)]) best = m;
    EXPECT_EQ(best, expected) << "frame " << frame;
  }

  // Pad / crop keep the clip centred: a half-second tone sits in the middle frames only.
  const nn::Tensor half = log_mel(std::span<const float>(tone).subspan(0, 8000));
  EXPECT_FLOAT_EQ(half[static_cast<std::size_t>(expected * 98 + 0)], floor);
  EXPECT_GT(half[static_cast<std::size_t>(expected * 98 + 49)], 1.0f);
  std::vector<float> longer(32000, 0.0f);
  std::copy(tone.begin(), tone.end(), longer.begin() + 8000);
  const nn::Tensor cropped = log_mel(longer);
  for (std::size_t i = 0; i < cropped.size(); ++i) ASSERT_FLOAT_EQ(cropped[i], t[i]);

  EXPECT_THROW(log_mel(std::vector<float>{}), Error);
  std::vector<float> small(10);
  EXPECT_THROW(log_mel.compute(tone, small), Error);
}

TEST_F(VoiceTest, LogMelConfigIsValidated) {
  auto bad = [](auto change) {
    LogMelConfig c;
    change(c);
    return error_of([&] { LogMel m(c); });
  };
  EXPECT_NE(bad([](LogMelConfig& c) { c.fft_size = 256; }).find("fft_size"), std::string::npos);
  EXPECT_NE(bad([](LogMelConfig& c) { c.f_max = 9000.0f; }).find("Nyquist"), std::string::npos);
  EXPECT_NE(bad([](LogMelConfig& c) { c.hop = 0; }).find("hop"), std::string::npos);
  EXPECT_NE(bad([](LogMelConfig& c) { c.std = 0.0f; }).find("std"), std::string::npos);
  EXPECT_NE(bad([](LogMelConfig& c) { c.clip_samples = 100; }).find("clip_samples"), std::string::npos);
}

TEST_F(VoiceTest, PipelineLoadsCommittedSubset) {
  const Pipeline& voice = PipelineRegistry::get().at("voice");
  EXPECT_EQ(voice.model, "models/voice.onnx");
  const LabeledSet set = voice.load({Split::test, 0, kFixtures});
  ASSERT_EQ(voice_labels().size(), 35u);  // Speech Commands v2's 35 words
  ASSERT_EQ(set.size(), 35u);
  EXPECT_EQ(set.inputs.shape(), (nn::Shape{35, 40, 98}));
  EXPECT_EQ(set.label_names, voice_labels());
  std::vector<int> per_class(35, 0);
  for (int label : set.labels) ++per_class[static_cast<std::size_t>(label)];
  for (int n : per_class) EXPECT_EQ(n, 1);
  const LabeledSet few = voice.load({Split::test, 5, kFixtures});
  ASSERT_EQ(few.size(), 5u);
  for (std::size_t i = 0; i < few.inputs.size(); ++i) ASSERT_EQ(few.inputs[i], set.inputs[i]);
}

// The committed clips are a fair sample of scripts/make_voice_data.py's recipe (the first clip per class
// in the shuffled index): they must include what makes the task hard, so the accuracy floors below are
// measured on mixed difficulty, not on clean close-talk clips only.
TEST_F(VoiceTest, CommittedSubsetSpansTheRecipe) {
  std::ifstream in(kFixtures + "/voice/test/index.csv");
  std::string line;
  auto next_line = [&] {  // Python's csv module ends rows with \r\n
    const bool ok = static_cast<bool>(std::getline(in, line));
    if (ok && !line.empty() && line.back() == '\r') line.pop_back();
    return ok;
  };
  ASSERT_TRUE(next_line());
  EXPECT_EQ(line, "path,label,word,voice,speed,pitch,noise,snr_db,rt60_s,distance_m,level_dbfs,shift_ms");
  int rows = 0, below_0db = 0, reverberant = 0, far = 0, english = 0;
  while (next_line()) {
    std::vector<std::string> f;
    std::stringstream fields(line);
    for (std::string field; std::getline(fields, field, ',');) f.push_back(field);
    ASSERT_EQ(f.size(), 12u) << line;
    EXPECT_EQ(f[1], f[2]) << line;  // every class is its own word: no "unknown" bucket
    const double snr = std::stod(f[7]), rt60 = std::stod(f[8]), distance = std::stod(f[9]);
    EXPECT_GE(snr, -5.0) << line;
    EXPECT_LE(snr, 35.0) << line;
    EXPECT_LE(rt60, 1.0) << line;
    EXPECT_LE(distance, 4.0) << line;
    ++rows;
    below_0db += snr < 0.0;
    reverberant += rt60 > 0.0;
    far += distance > 2.0;
    english += f[3].rfind("en", 0) == 0;
  }
  EXPECT_EQ(rows, 35);
  EXPECT_GE(below_0db, 2);     // 15 % of clips are at -5..0 dB SNR
  EXPECT_GE(reverberant, 10);  // 70 % are in a room
  EXPECT_GE(far, 2);
  EXPECT_GE(english, 5);  // half English accents, half other languages
  EXPECT_LE(english, 30);
}

TEST_F(VoiceTest, PipelineErrorsNameTheScriptOrTheLine) {
  const Pipeline& voice = PipelineRegistry::get().at("voice");
  EXPECT_NE(error_of([&] { voice.load({Split::train, 0, path("nowhere")}); }).find("scripts/make_voice_data.py"),
            std::string::npos);
  std::filesystem::create_directories(path("voice/test"));
  write_wav(path("voice/test/a.wav"), std::vector<float>(16000, 0.0f), 16000);
  write_wav(path("voice/test/b.wav"), std::vector<float>(16000, 0.0f), 22050);
  auto index = [&](const std::string& text) { std::ofstream(path("voice/test/index.csv")) << text; };
  const LoadRequest request{Split::test, 0, dir_.string()};
  index("path,label\na.wav,yes\na.wav,maybe\n");
  EXPECT_NE(error_of([&] { voice.load(request); }).find("index.csv:3: unknown label 'maybe'"), std::string::npos);
  index("path,label\na.wav,yes,extra\n");
  EXPECT_NE(error_of([&] { voice.load(request); }).find("index.csv:2: 3 fields"), std::string::npos);
  index("file,label\na.wav,yes\n");
  EXPECT_NE(error_of([&] { voice.load(request); }).find("no 'path' column"), std::string::npos);
  index("path,label\n");
  EXPECT_NE(error_of([&] { voice.load(request); }).find("no clips"), std::string::npos);
  index("path,label\nb.wav,yes\n");
  EXPECT_NE(error_of([&] { voice.load(request); }).find("b.wav: sample rate is 22050 Hz"), std::string::npos);
  index("path,label\nc.wav,yes\n");
  EXPECT_NE(error_of([&] { voice.load(request); }).find("c.wav: cannot open"), std::string::npos);
  index("path,label\na.wav,silence\n");  // the 12-class set's "silence" and "unknown" are gone
  EXPECT_NE(error_of([&] { voice.load(request); }).find("index.csv:2: unknown label 'silence'"), std::string::npos);
  index("path,snr_db,label\na.wav,-3.5,visual\na.wav,20,tree\na.wav,20,three\n");  // extra columns are ignored
  EXPECT_EQ(voice.load(request).labels, (std::vector<int>{34, 18, 23}));
}

// The committed model on the committed clips (1 per class, test voices the model never heard, mixed
// difficulty: see CommittedSubsetSpansTheRecipe). On these 35 clips it gets 25 / 29 / 30 / 30 right at
// exits 1-4 (0.714 / 0.857); on the full test split the accuracies in docs/pipelines/voice.md. The
// floors leave room for a retrained model, but a broken front end or model (chance: 1/35) falls far below.
TEST_F(VoiceTest, CommittedModelIsAccurateOnCommittedClips) {
  const Pipeline& voice = PipelineRegistry::get().at("voice");
  nn::MultiExitModel model = nn::MultiExitModel::load(source_path(voice.model));
  ASSERT_EQ(model.stages(), 4);
  EXPECT_EQ(model.labels(), voice_labels());
  EXPECT_EQ(model.mandatory_depth(), 1);
  const Evaluation evaluation = evaluate(model, voice.load({Split::test, 0, kFixtures}));
  ASSERT_EQ(evaluation.exits.size(), 4u);
  EXPECT_GE(evaluation.exits[0].accuracy, 0.55);
  EXPECT_GE(evaluation.exits[3].accuracy, 0.75);
  EXPECT_GT(evaluation.exits[3].accuracy, evaluation.exits[0].accuracy);  // exit 1 is the weak one
}

}  // namespace
}  // namespace imprecise::data
