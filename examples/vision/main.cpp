// Vision example: one Fashion-MNIST image through the 4-exit ResNet (as read, no corruption), stage by stage — the answer
// (label, confidence) and the time of every exit, as a scheduler sees them.
//
//   imprecise_vision [IMAGES.idx[.gz] [INDEX [LABELS.idx[.gz]]]]
//
// Default: image 0 of the committed test subset tests/fixtures/data/vision/ (with its label).
// E.g. the official test set: imprecise_vision /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz 42
#include <cstdio>
#include <exception>
#include <string>

#include <fmt/core.h>

#include "imprecise/data/idx.hpp"
#include "imprecise/data/pipeline.hpp"
#include "imprecise/data/vision.hpp"
#include "imprecise/error.hpp"
#include "../common/run_every_exit.hpp"
#include "imprecise/nn/multi_exit_model.hpp"

namespace {

int run(int argc, char** argv) {
  using namespace imprecise;
  const std::string fixtures = data::source_path("tests/fixtures/data/vision/");
  const std::string images_path = argc > 1 ? argv[1] : fixtures + "t10k-images-idx3-ubyte.gz";
  std::size_t index = 0;
  if (argc > 2) {
    const std::string arg = argv[2];
    if (arg.empty() || arg.find_first_not_of("0123456789") != std::string::npos)
      throw Error(fmt::format("INDEX '{}' is not a non-negative integer", arg));
    index = std::stoul(arg);
  }
  const std::string labels_path = argc > 3 ? argv[3] : (argc > 1 ? "" : fixtures + "t10k-labels-idx1-ubyte");

  const data::IdxImages images = data::read_idx_images(images_path);
  if (index >= images.count)
    throw Error(fmt::format("{}: image {} requested, the file holds {}", images_path, index, images.count));
  const nn::Tensor input = data::vision_front_end(images, index, 1);  // [1, 1, 28, 28]
  int truth = -1;
  if (!labels_path.empty()) {
    const data::LabeledSet set = data::load_vision_files(images_path, labels_path, index, 1);
    truth = set.labels[0];
  }

  const std::string model_path = data::source_path(data::PipelineRegistry::get().at("vision").model);
  nn::MultiExitModel model = nn::MultiExitModel::load(model_path);
  fmt::print("{} image {}{}\n", images_path, index,
             truth >= 0 ? fmt::format(" (true label: {})", model.labels()[static_cast<std::size_t>(truth)]) : "");
  const nn::ExitResult last = examples::run_every_exit(model, input, truth);
  // With the default input the example checks itself: the final exit must get image 0 right.
  return argc > 1 || last.prediction == truth ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  imprecise::data::set_source_root(IMPRECISE_SOURCE_DIR);
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "imprecise_vision: %s\n", e.what());
    return 2;
  }
}
