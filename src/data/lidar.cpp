// The lidar pipeline: synthetic spinning-LIDAR object scans (IPCL files) through the point-cloud front end.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>

#include <fmt/format.h>

#include "imprecise/data/lidar_front_end.hpp"
#include "imprecise/data/pipelines.hpp"
#include "imprecise/error.hpp"

namespace imprecise::data {

const std::vector<std::string>& lidar_classes() {
  static const std::vector<std::string> classes{"car",  "suv",           "van",  "truck", "pedestrian", "child",
                                                "cyclist", "pole", "traffic_light", "sign", "tree",  "bush"};
  return classes;
}

void lidar_front_end(const PointCloud& cloud, std::span<float> out, const LidarFrontEndConfig& config) {
  if (config.points < 1) throw Error(fmt::format("lidar front end: points = {} (must be >= 1)", config.points));
  const auto n = static_cast<std::size_t>(config.points);
  if (out.size() != 3 * n)
    throw Error(fmt::format("lidar front end: output holds {} floats, expected 3 x {}", out.size(), n));
  const std::size_t p = cloud.points();
  if (p == 0 || cloud.fields < 3) throw Error("lidar front end: empty point cloud");
  // Centroid over every point, in double so large clouds far away lose nothing.
  double cx = 0.0, cy = 0.0;
  for (std::size_t i = 0; i < p; ++i) {
    cx += cloud.x(i);
    cy += cloud.y(i);
  }
  cx /= static_cast<double>(p);
  cy /= static_cast<double>(p);
  const double phi = config.canonical_azimuth ? std::atan2(cy, cx) : 0.0;
  const double c = std::cos(phi), s = std::sin(phi);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t j = static_cast<std::size_t>((std::uint64_t{i} * p) / n);
    const double dx = cloud.x(j) - cx, dy = cloud.y(j) - cy;
    out[i] = static_cast<float>(c * dx + s * dy);
    out[n + i] = static_cast<float>(-s * dx + c * dy);
    out[2 * n + i] = cloud.z(j) + config.sensor_height;
  }
}

nn::Tensor lidar_front_end(const PointCloud& cloud, const LidarFrontEndConfig& config) {
  nn::Tensor t(nn::Shape{1, 3, config.points < 1 ? 1 : config.points});
  lidar_front_end(cloud, t.values(), config);
  return t;
}

namespace {

LabeledSet load_lidar(const LoadRequest& request) {
  const std::string root = request.data_dir.empty() ? data_root() : request.data_dir;
  const std::string path = root + "/lidar/" + to_string(request.split) + ".ipcl";
  if (!std::filesystem::exists(path))
    throw Error(fmt::format("lidar: {} not found; generate the data with /usr/bin/python3 scripts/make_lidar_data.py "
                            "(or scripts/make_lidar.sh for the whole pipeline)",
                            path));
  const PointCloudSet file = read_point_clouds(path);
  if (file.names != lidar_classes())
    throw Error(fmt::format("{}: class names '{}' differ from the lidar pipeline's '{}'", path,
                            fmt::join(file.names, ","), fmt::join(lidar_classes(), ",")));
  const std::size_t count =
      request.limit == 0 ? file.clouds.size() : std::min(request.limit, file.clouds.size());
  const LidarFrontEndConfig config;
  LabeledSet set;
  set.label_names = lidar_classes();
  set.inputs = nn::Tensor(nn::Shape{static_cast<std::int64_t>(count), 3, config.points});
  set.labels.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const PointCloud& cloud = file.clouds[i];
    if (cloud.label < 0) throw Error(fmt::format("{}: cloud {} has no label", path, i));
    lidar_front_end(cloud, set.inputs.sample(i), config);
    set.labels.push_back(cloud.label);
  }
  return set;
}

}  // namespace

Pipeline lidar_pipeline() {
  return {"lidar",
          "synthetic 16/32-beam spinning-LIDAR scans of single objects (12 classes, 4..75 m), scan-order point "
          "network (4 exits)",
          "models/lidar.onnx", load_lidar};
}

}  // namespace imprecise::data
