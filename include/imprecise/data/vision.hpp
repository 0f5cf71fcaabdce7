// Vision pipeline: Fashion-MNIST (IDX files, 28x28 grayscale) as an edge camera sees it (a seeded mix
// of clean and corrupted frames, vision_corruption.hpp) and its front end, uint8 pixels -> normalised
// float tensors [N, 1, 28, 28], the input of models/vision.onnx.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "imprecise/data/idx.hpp"
#include "imprecise/data/pipeline.hpp"
#include "imprecise/data/vision_corruption.hpp"
#include "imprecise/graph/tensor.hpp"

namespace imprecise::data {

inline constexpr std::size_t kVisionSide = 28;     ///< Fashion-MNIST images are 28x28
inline constexpr int kVisionClasses = 10;
/// Mean and standard deviation of pixel / 255 over the Fashion-MNIST training images, fixed here
/// (not recomputed per split) so that training and serving normalise identically.
inline constexpr float kVisionMean = 0.2860f;
inline constexpr float kVisionStd = 0.3530f;
/// Images 55,000.. of the training file are the calibration split, the rest the train split.
inline constexpr std::size_t kVisionCalibrationSize = 5000;
/// Where Debian's dataset-fashion-mnist installs the official files.
inline constexpr const char* kVisionSystemDir = "/usr/share/datasets/fashion-mnist";

/// The ten class names in label order ("T-shirt/top", "Trouser", ... "Ankle boot").
const std::vector<std::string>& vision_labels();

/// The front end: images [begin, begin + count) as a tensor [count, 1, rows, cols] with
/// value = (pixel / 255 - kVisionMean) / kVisionStd. Throws Error when the range is outside the set.
nn::Tensor vision_front_end(const IdxImages& images, std::size_t begin, std::size_t count);

/// An images file + a labels file (plain or .gz) through the front end: items [begin, begin + count)
/// (count 0: all from begin). Throws Error naming the file when either is invalid, the images are not
/// 28x28, or the two files hold different numbers of items.
LabeledSet load_vision_files(const std::string& images_path, const std::string& labels_path, std::size_t begin = 0,
                             std::size_t count = 0);

/// The seed of a split's corruption draws (vision_corruption.hpp): distinct per split, so train,
/// calibration and test frames get independent corruptions; frame i of a split gets draw i.
std::uint64_t vision_split_seed(Split split);
/// The mix every split is loaded with (CorruptionMix's defaults: 50 % clean, severities 1..5).
const CorruptionMix& vision_corruption_mix();

/// The folders searched for a split's files, in order: <data_dir>/vision when `data_dir` is given;
/// else <data_root()>/vision, then kVisionSystemDir.
std::vector<std::string> vision_search_dirs(const std::string& data_dir);

}  // namespace imprecise::data
