// Voice pipeline: index.csv + WAV clips -> log-mel -> LabeledSet, and its registry entry.
#include "imprecise/data/voice.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <fmt/core.h>

#include "imprecise/core/split.hpp"
#include "imprecise/data/pipelines.hpp"
#include "imprecise/error.hpp"

namespace imprecise::data {

namespace {

std::vector<std::string> split_csv_line(const std::string& line) {
  // The generator writes no quoted fields (no value contains a comma), so a plain split is exact.
  std::vector<std::string> fields = split(line, ',');
  if (!fields.empty() && !fields.back().empty() && fields.back().back() == '\r') fields.back().pop_back();
  return fields;
}

std::size_t column(const std::vector<std::string>& header, const std::string& name, const std::string& csv) {
  const auto it = std::find(header.begin(), header.end(), name);
  if (it == header.end()) throw Error(fmt::format("{}: header has no '{}' column", csv, name));
  return static_cast<std::size_t>(it - header.begin());
}

LabeledSet load_split(const LoadRequest& request) {
  const std::string root = request.data_dir.empty() ? data_root() : request.data_dir;
  const std::string dir = root + "/voice/" + to_string(request.split);
  if (!std::filesystem::is_regular_file(dir + "/index.csv"))
    throw Error(fmt::format("voice: {}/index.csv not found; generate the synthetic data set with "
                            "/usr/bin/python3 scripts/make_voice_data.py (or scripts/make_voice.sh)",
                            dir));
  return load_voice_split(dir, request.limit);
}

}  // namespace

const std::vector<std::string>& voice_labels() {
  // Speech Commands v2's 35 words: its ten keywords, then the 25 auxiliary words (scripts/make_voice_data.py).
  static const std::vector<std::string> labels{
      "yes",  "no",   "up",    "down",  "left",   "right",  "on",       "off",     "stop",   "go",    "bed",   "bird",
      "cat",  "dog",  "happy", "house", "marvin", "sheila", "tree",     "wow",     "zero",   "one",   "two",   "three",
      "four", "five", "six",   "seven", "eight",  "nine",   "backward", "forward", "follow", "learn", "visual"};
  return labels;
}

nn::Tensor voice_front_end(const WavAudio& audio, const std::string& name, LogMel& log_mel) {
  if (audio.sample_rate != log_mel.config().sample_rate)
    throw Error(fmt::format("{}: sample rate is {} Hz, the voice front end expects {} Hz", name, audio.sample_rate,
                            log_mel.config().sample_rate));
  return log_mel(audio.samples);
}

LabeledSet load_voice_split(const std::string& split_dir, std::size_t limit) {
  const std::string csv = split_dir + "/index.csv";
  std::ifstream in(csv);
  if (!in) throw Error(fmt::format("{}: cannot open", csv));
  std::string line;
  if (!std::getline(in, line)) throw Error(fmt::format("{}: empty file (no header)", csv));
  const std::vector<std::string> header = split_csv_line(line);
  const std::size_t path_col = column(header, "path", csv), label_col = column(header, "label", csv);

  struct Row {
    std::string path;
    int label;
  };
  std::vector<Row> rows;
  const auto& names = voice_labels();
  for (std::size_t number = 2; std::getline(in, line); ++number) {
    if (line.empty() || line == "\r") continue;
    if (limit > 0 && rows.size() == limit) break;
    const std::vector<std::string> fields = split_csv_line(line);
    if (fields.size() != header.size())
      throw Error(fmt::format("{}:{}: {} fields, the header has {}", csv, number, fields.size(), header.size()));
    const auto it = std::find(names.begin(), names.end(), fields[label_col]);
    if (it == names.end()) throw Error(fmt::format("{}:{}: unknown label '{}'", csv, number, fields[label_col]));
    rows.push_back({split_dir + "/" + fields[path_col], static_cast<int>(it - names.begin())});
  }
  if (rows.empty()) throw Error(fmt::format("{}: no clips listed", csv));

  LogMel log_mel(voice_log_mel_config());
  const auto bands = static_cast<std::int64_t>(log_mel.config().mel_bands);
  LabeledSet set;
  set.inputs = nn::Tensor(nn::Shape{static_cast<std::int64_t>(rows.size()), bands, log_mel.config().frames()});
  set.label_names = names;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const WavAudio audio = read_wav(rows[i].path, log_mel.config().sample_rate);
    log_mel.compute(audio.samples, set.inputs.sample(i));
    set.labels.push_back(rows[i].label);
  }
  return set;
}

Pipeline voice_pipeline() {
  return Pipeline{"voice",
                  "synthetic keyword spotting (espeak-ng: Speech Commands v2's 35 words, reverberant and noisy, "
                  "unseen test voices), log-mel 40x98, 1-D CNN with 4 exits",
                  "models/voice.onnx", load_split};
}

}  // namespace imprecise::data
