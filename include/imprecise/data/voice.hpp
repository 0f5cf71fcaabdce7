// Voice pipeline: synthetic keyword spotting (espeak-ng clips, WAV) through the log-mel front end ->
// tensors [N, 40, 98], the input of models/voice.onnx.
#pragma once

#include <string>
#include <vector>

#include "imprecise/data/log_mel.hpp"
#include "imprecise/data/pipeline.hpp"
#include "imprecise/data/wav.hpp"
#include "imprecise/graph/tensor.hpp"

namespace imprecise::data {

/// The 35 classes in label order: Speech Commands v2's ten keywords (yes, no, up, down, left, right, on, off,
/// stop, go), then its 25 auxiliary words (bed, bird, ... visual), as scripts/make_voice_data.py lists them.
const std::vector<std::string>& voice_labels();

/// The front end of the voice pipeline: LogMelConfig's defaults.
inline LogMelConfig voice_log_mel_config() { return LogMelConfig{}; }

/// One decoded clip through the front end: [1, 40, 98]. Throws Error naming `name` when the
/// sample rate is not the front end's.
nn::Tensor voice_front_end(const WavAudio& audio, const std::string& name, LogMel& log_mel);

/// A split folder written by scripts/make_voice_data.py: <split_dir>/index.csv (columns include
/// `path`, relative to split_dir, and `label`, one of voice_labels()) and the WAV files it names.
/// The first `limit` rows (0: all). Throws Error naming the CSV line or the WAV file at fault.
LabeledSet load_voice_split(const std::string& split_dir, std::size_t limit = 0);

}  // namespace imprecise::data
