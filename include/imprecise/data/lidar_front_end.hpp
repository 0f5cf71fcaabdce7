// The lidar pipeline's front end: one object's point cloud -> the model input [3, N] (channels first).
#pragma once

#include <span>
#include <string>
#include <vector>

#include "imprecise/data/point_cloud.hpp"
#include "imprecise/graph/tensor.hpp"

namespace imprecise::data {

/// The classes of the lidar pipeline, in label order (scripts/make_lidar_data.py uses the same list).
const std::vector<std::string>& lidar_classes();

struct LidarFrontEndConfig {
  /// N: every cloud is resampled to exactly this many points, point i = input point floor(i * P / N)
  /// in file (scan) order — deterministic, evenly spread, repeating points of clouds smaller than N.
  int points = 256;
  /// Metres from the sensor down to the ground: z is reported as height above the ground, since
  /// absolute height tells classes apart (a sign's plate hangs 2 m up, a pedestrian stands on the road).
  float sensor_height = 1.8f;
  /// Rotate about z so that the centroid lies on +x: every object is then seen from the same side (-x).
  bool canonical_azimuth = true;
};

/// Writes the model input of `cloud` into `out` (3 * config.points floats, [3, N] channels first):
/// x and y relative to the centroid of all the cloud's points (metres, not scaled: size tells classes
/// apart), rotated about z when canonical_azimuth, and z + sensor_height. Throws Error on an empty
/// cloud, a wrong `out` size or points < 1.
void lidar_front_end(const PointCloud& cloud, std::span<float> out, const LidarFrontEndConfig& config = {});
/// The same as a tensor [1, 3, N].
nn::Tensor lidar_front_end(const PointCloud& cloud, const LidarFrontEndConfig& config = {});

}  // namespace imprecise::data
