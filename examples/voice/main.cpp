// Voice example: one WAV clip through the log-mel front end and the multi-exit keyword spotter,
// stage by stage — the word, confidence and time of every exit, as a scheduler sees them.
//
//   imprecise_voice [CLIP.wav [MODEL.onnx]]
//
// CLIP.wav: mono or multi-channel, PCM 16-bit or float 32-bit, 16 kHz; centre-padded or cropped to 1 s.
// Default: tests/fixtures/data/voice/stop.wav, a synthetic (espeak-ng) "stop" by a test-split voice.
#include <chrono>
#include <cstdio>
#include <exception>
#include <string>

#include <fmt/core.h>

#include "imprecise/data/pipeline.hpp"
#include "imprecise/data/voice.hpp"
#include "../common/run_every_exit.hpp"
#include "imprecise/nn/multi_exit_model.hpp"

namespace {

int run(int argc, char** argv) {
  using namespace imprecise;
  const std::string clip = argc > 1 ? argv[1] : data::source_path("tests/fixtures/data/voice/stop.wav");
  const std::string model_path =
      argc > 2 ? argv[2] : data::source_path(data::PipelineRegistry::get().at("voice").model);

  const auto started = std::chrono::steady_clock::now();
  data::LogMel log_mel(data::voice_log_mel_config());
  const data::WavAudio audio = data::read_wav(clip);
  const nn::Tensor input = data::voice_front_end(audio, clip, log_mel);  // [1, 40, 98]
  const double front_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  nn::MultiExitModel model = nn::MultiExitModel::load(model_path);
  fmt::print("{}: {:.2f} s, {} channel(s) at {} Hz; read + log-mel {}x{} in {:.3f} ms\n", clip, audio.seconds(),
             audio.channels, audio.sample_rate, input.dim(1), input.dim(2), front_ms);

  const nn::ExitResult last = examples::run_every_exit(model, input);
  // With the default clip the example checks itself: the final exit must hear "stop".
  return argc > 1 || model.labels()[static_cast<std::size_t>(last.prediction)] == "stop" ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  imprecise::data::set_source_root(IMPRECISE_SOURCE_DIR);
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "imprecise_voice: %s\n", e.what());
    return 2;
  }
}
