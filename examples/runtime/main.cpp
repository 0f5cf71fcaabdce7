// Runtime example: the shipped vision model, with its shipped stage-time profile and calibration,
// served under deadlines by imprecise::runtime::Engine; eight Fashion-MNIST test images in, one
// outcome each out. Link imprecise::runtime and imprecise::data (docs/runtime.md quotes this file).
//
//   imprecise_runtime_example [MODELS_DIR [IMAGES.idx[.gz] LABELS.idx[.gz]]]
//
// MODELS_DIR holds vision.onnx, vision.profile.json and vision.calibration.json (default: models/ of
// this source tree); the images default to the committed test subset tests/fixtures/data/vision/, e.g.
// the official test set: /usr/share/datasets/fashion-mnist/t10k-{images-idx3,labels-idx1}-ubyte.gz
// [runtime-example]
#include <chrono>
#include <cstdio>
#include <exception>
#include <future>
#include <string>
#include <vector>

#include "imprecise/data/calibration.hpp"  // data::load_calibration
#include "imprecise/data/vision.hpp"       // data::load_vision_files, the vision front end
#include "imprecise/nn/profiler.hpp"       // nn::describe
#include "imprecise/runtime/engine.hpp"
#include "imprecise/sim/scenario.hpp"      // sim::load_profile

using namespace imprecise;
using namespace std::chrono_literals;

int main(int argc, char** argv) try {
  data::set_source_root(IMPRECISE_SOURCE_DIR);  // the defaults below live in this source tree
  const std::string dir = argc > 1 ? argv[1] : data::source_path("models");
  const std::string fixtures = data::source_path("tests/fixtures/data/vision/");
  const std::string images = argc > 3 ? argv[2] : fixtures + "t10k-images-idx3-ubyte.gz";
  const std::string labels = argc > 3 ? argv[3] : fixtures + "t10k-labels-idx1-ubyte";

  // 1. The scheduler's view of the model: the stage times measured by `imprecise profile` and the
  //    calibration it fitted (per-exit temperatures and the utility tables R(l | k, c)).
  Profile profile = sim::load_profile(dir + "/vision.profile.json");
  const data::Calibration calibration = data::load_calibration(dir + "/vision.calibration.json");

  // 2. The network, compiled for every batch size the profile lists, with the same temperatures.
  nn::MultiExitModel::Options options;
  options.temperatures.assign(calibration.temperatures.begin(), calibration.temperatures.end());
  options.compile.max_batch = profile.max_batch();
  nn::MultiExitModel net = nn::MultiExitModel::load(dir + "/vision.onnx", options);
  Model description = nn::describe(net, std::move(profile), calibration.utility, "vision");
  std::vector<runtime::ServedModel> models;
  models.push_back({std::move(net), std::move(description)});

  // 3. The engine, driving the same policy objects as the simulator.
  runtime::EngineConfig config;
  config.policy = "yao-dp";
  runtime::Engine engine(std::move(models), config);

  // 4. Eight test images through the vision front end: a tensor [8, 1, 28, 28] of
  //    (pixel / 255 - 0.2860) / 0.3530; each job carries one image [1, 1, 28, 28].
  const data::LabeledSet set = data::load_vision_files(images, labels, 0, 8);
  std::vector<std::future<Outcome>> futures;
  for (std::size_t i = 0; i < set.labels.size(); ++i) {
    const auto pixels = set.inputs.sample(i);
    nn::Tensor image({1, 1, 28, 28}, std::vector<float>(pixels.begin(), pixels.end()));
    futures.push_back(engine.submit(/*model=*/0, image, /*within=*/100ms));
  }

  // 5. Exactly one outcome per job.
  for (std::size_t i = 0; i < futures.size(); ++i) {
    const Outcome o = futures[i].get();
    const std::string truth = set.label_names[static_cast<std::size_t>(set.labels[i])];
    if (o.status == OutcomeStatus::completed)
      std::printf("image %zu (%s): %s from exit %d, confidence %.2f, %.0f us before the deadline\n", i,
                  truth.c_str(), set.label_names[static_cast<std::size_t>(o.prediction)].c_str(), o.exit,
                  o.confidence, to_us(o.slack()));
    else
      std::printf("image %zu (%s): %s: %s\n", i, truth.c_str(), to_string(o.status), o.message.c_str());
  }
  engine.stop(runtime::StopMode::drain);
  return 0;
} catch (const std::exception& e) {  // e.g. a relative MODELS_DIR given from another folder
  std::fprintf(stderr, "imprecise_runtime_example: error: %s\n", e.what());
  return 2;
}
// [runtime-example]
