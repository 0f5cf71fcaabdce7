// Lidar example: one object's point cloud through the 4-exit point network, stage by stage — the
// answer (class, confidence) and the time of every exit, as a scheduler sees them.
//
//   imprecise_lidar [CLOUDS.ipcl [INDEX]]
//
// Default: tests/fixtures/data/lidar/sample.ipcl (one labelled synthetic scan of a pedestrian).
// E.g. a held-out scene: imprecise_lidar data/lidar/test.ipcl 42 (after scripts/make_lidar_data.py)
#include <cstdio>
#include <exception>
#include <string>

#include <fmt/core.h>

#include "imprecise/data/lidar_front_end.hpp"
#include "imprecise/data/pipeline.hpp"
#include "imprecise/data/point_cloud.hpp"
#include "imprecise/error.hpp"
#include "../common/run_every_exit.hpp"
#include "imprecise/nn/multi_exit_model.hpp"

namespace {

int run(int argc, char** argv) {
  using namespace imprecise;
  const std::string path = argc > 1 ? argv[1] : data::source_path("tests/fixtures/data/lidar/sample.ipcl");
  const std::size_t index = argc > 2 ? std::stoul(argv[2]) : 0;

  const data::PointCloud cloud = data::read_point_cloud(path, index);
  const nn::Tensor input = data::lidar_front_end(cloud);  // [1, 3, 256]
  const int truth = cloud.label;

  const std::string model_path = data::source_path(data::PipelineRegistry::get().at("lidar").model);
  nn::MultiExitModel model = nn::MultiExitModel::load(model_path);
  fmt::print("{} cloud {}: {} points{}\n", path, index, cloud.points(),
             truth >= 0 ? fmt::format(" (true class: {})", data::lidar_classes()[static_cast<std::size_t>(truth)]) : "");
  const nn::ExitResult last = examples::run_every_exit(model, input, truth);
  // With the default input the example checks itself: the final exit must classify the fixture right.
  return argc > 1 || last.prediction == truth ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  imprecise::data::set_source_root(IMPRECISE_SOURCE_DIR);
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "imprecise_lidar: %s\n", e.what());
    return 2;
  }
}
