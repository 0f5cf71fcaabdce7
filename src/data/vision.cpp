// Vision pipeline: Fashion-MNIST files -> front end -> LabeledSet, and its registry entry.
#include "imprecise/data/vision.hpp"

#include <algorithm>
#include <filesystem>
#include <utility>

#include <fmt/core.h>

#include "imprecise/data/pipelines.hpp"
#include "imprecise/error.hpp"

namespace imprecise::data {

namespace {

struct VisionFiles {
  IdxImages images;
  std::vector<int> labels;
};

VisionFiles read_pair(const std::string& images_path, const std::string& labels_path) {
  VisionFiles files{read_idx_images(images_path), read_idx_labels(labels_path, kVisionClasses)};
  if (files.images.rows != kVisionSide || files.images.cols != kVisionSide)
    throw Error(fmt::format("{}: images are {}x{}, the vision pipeline expects {}x{} (Fashion-MNIST)", images_path,
                            files.images.rows, files.images.cols, kVisionSide, kVisionSide));
  if (files.images.count != files.labels.size())
    throw Error(fmt::format("{} holds {} images but {} holds {} labels", images_path, files.images.count, labels_path,
                            files.labels.size()));
  return files;
}

LabeledSet make_set(const VisionFiles& files, std::size_t begin, std::size_t count) {
  LabeledSet set;
  set.inputs = vision_front_end(files.images, begin, count);
  set.labels.assign(files.labels.begin() + static_cast<std::ptrdiff_t>(begin),
                    files.labels.begin() + static_cast<std::ptrdiff_t>(begin + count));
  set.label_names = vision_labels();
  return set;
}

// The first of `base`, `base`.gz present in `dir`; empty when neither is.
std::string find_file(const std::string& dir, const std::string& base) {
  for (const std::string& name : {base, base + ".gz"}) {
    const std::string path = dir + "/" + name;
    if (std::filesystem::is_regular_file(path)) return path;
  }
  return {};
}

LabeledSet load_split(const LoadRequest& request) {
  const std::string stem = request.split == Split::test ? "t10k" : "train";
  const std::string images_base = stem + "-images-idx3-ubyte", labels_base = stem + "-labels-idx1-ubyte";
  const std::vector<std::string> dirs = vision_search_dirs(request.data_dir);
  for (const std::string& dir : dirs) {
    const std::string images_path = find_file(dir, images_base), labels_path = find_file(dir, labels_base);
    if (images_path.empty() && labels_path.empty()) continue;
    if (images_path.empty() || labels_path.empty())
      throw Error(fmt::format("vision: {} has {} but no {}[.gz]", dir, images_path.empty() ? labels_path : images_path,
                              images_path.empty() ? images_base : labels_base));
    VisionFiles files = read_pair(images_path, labels_path);
    std::size_t begin = 0, count = files.images.count;
    if (request.split != Split::test) {
      // train = all but the last kVisionCalibrationSize images of the training file; calibration = those.
      if (files.images.count <= kVisionCalibrationSize)
        throw Error(fmt::format("{}: {} images; the train/calibration split needs more than {}", images_path,
                                files.images.count, kVisionCalibrationSize));
      const std::size_t train = files.images.count - kVisionCalibrationSize;
      begin = request.split == Split::train ? 0 : train;
      count = request.split == Split::train ? train : kVisionCalibrationSize;
    }
    if (request.limit > 0) count = std::min(count, request.limit);
    // The edge camera's conditions: frame i of the split gets draw i of the split's seed.
    corrupt_frames(files.images, begin, count, vision_split_seed(request.split), vision_corruption_mix());
    return make_set(files, begin, count);
  }
  std::string searched;
  for (const auto& dir : dirs) searched += (searched.empty() ? "" : ", ") + dir;
  throw Error(fmt::format(
      "vision: Fashion-MNIST {} files ({}[.gz], {}[.gz]) not found in {}; install Debian's dataset-fashion-mnist "
      "(scripts/install-deps.sh) or copy the official files into <data dir>/vision/ (see scripts/make_vision.sh)",
      to_string(request.split), images_base, labels_base, searched));
}

}  // namespace

const std::vector<std::string>& vision_labels() {
  static const std::vector<std::string> labels{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                               "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  return labels;
}

nn::Tensor vision_front_end(const IdxImages& images, std::size_t begin, std::size_t count) {
  if (begin > images.count || count > images.count - begin)
    throw Error(fmt::format("vision front end: images [{}, {}) outside the {} images", begin, begin + count, images.count));
  const std::size_t pixels = images.rows * images.cols;
  if (images.pixels.size() != images.count * pixels)
    throw Error(fmt::format("vision front end: {} pixels for {} images of {}x{}", images.pixels.size(), images.count,
                            images.rows, images.cols));
  nn::Tensor out(nn::Shape{static_cast<std::int64_t>(count), 1, static_cast<std::int64_t>(images.rows),
                           static_cast<std::int64_t>(images.cols)});
  const auto* in = images.pixels.data() + begin * pixels;
  // Same arithmetic order as the fixture script's numpy: (p / 255 - mean) / std in float32.
  for (std::size_t i = 0; i < count * pixels; ++i)
    out[i] = (static_cast<float>(in[i]) / 255.0f - kVisionMean) / kVisionStd;
  return out;
}

LabeledSet load_vision_files(const std::string& images_path, const std::string& labels_path, std::size_t begin,
                             std::size_t count) {
  const VisionFiles files = read_pair(images_path, labels_path);
  if (begin > files.images.count)
    throw Error(fmt::format("{}: item {} requested, the file holds {}", images_path, begin, files.images.count));
  if (count == 0) count = files.images.count - begin;
  if (count > files.images.count - begin)
    throw Error(fmt::format("{}: items [{}, {}) requested, the file holds {}", images_path, begin, begin + count,
                            files.images.count));
  return make_set(files, begin, count);
}

std::uint64_t vision_split_seed(Split split) {
  switch (split) {
    case Split::train: return 0x7261696eull;        // "rain"
    case Split::calibration: return 0x63616c69ull;  // "cali"
    case Split::test: return 0x74657374ull;         // "test"
  }
  throw Error("vision_split_seed: unknown split");
}

const CorruptionMix& vision_corruption_mix() {
  static const CorruptionMix mix{};
  return mix;
}

std::vector<std::string> vision_search_dirs(const std::string& data_dir) {
  if (!data_dir.empty()) return {data_dir + "/vision"};
  return {data_root() + "/vision", kVisionSystemDir};
}

Pipeline vision_pipeline() {
  return Pipeline{"vision", "Fashion-MNIST (official 60k/10k split, 28x28 grayscale) under seeded edge-camera corruptions, "
                  "anytime ResNet with 4 exits",
                  "models/vision.onnx", load_split};
}

}  // namespace imprecise::data
