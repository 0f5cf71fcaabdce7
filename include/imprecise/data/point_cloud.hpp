// Point clouds and IPCL, the small binary file format they are stored in (one or many clouds per file).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace imprecise::data {

// IPCL, version 1 (all integers and floats little-endian):
//   char[4] "IPCL" | u32 version = 1 | u32 fields (3: x y z; 4: x y z intensity) | u32 clouds (>= 1)
//   | u32 names_bytes | names_bytes of UTF-8: comma-separated class names (may be empty)
//   | clouds x { i32 label (-1: unlabelled, else an index into the names) | u32 points (>= 1)
//                | points x fields float32, row-major }
// Coordinates are metres in the sensor frame (x forward, y left, z up; the sensor at the origin).
// Nothing may follow the last cloud. scripts/make_lidar_data.py writes this format.

/// One cloud: `values` holds points() rows of `fields` floats (x, y, z[, intensity]).
struct PointCloud {
  int fields = 3;
  int label = -1;  ///< index into PointCloudSet::names; -1 when unlabelled
  std::vector<float> values;

  std::size_t points() const { return fields > 0 ? values.size() / static_cast<std::size_t>(fields) : 0; }
  float x(std::size_t i) const { return values[i * static_cast<std::size_t>(fields)]; }
  float y(std::size_t i) const { return values[i * static_cast<std::size_t>(fields) + 1]; }
  float z(std::size_t i) const { return values[i * static_cast<std::size_t>(fields) + 2]; }
};

/// The content of one IPCL file.
struct PointCloudSet {
  int fields = 3;
  std::vector<std::string> names;  ///< the class names labels index (empty when the file names none)
  std::vector<PointCloud> clouds;
};

/// Reads an IPCL file. Throws Error naming the file and the fault: missing file, bad magic, version
/// or field count, no clouds, a truncated header or cloud (with its index), bytes after the last
/// cloud, a cloud without points, a NaN/inf value (cloud and point), a label outside the names.
PointCloudSet read_point_clouds(const std::string& path);
/// Cloud `index` of an IPCL file (the set's names are dropped). Throws Error as above, or when the
/// file holds no cloud `index`.
PointCloud read_point_cloud(const std::string& path, std::size_t index = 0);
/// Writes `set` as IPCL. Throws Error naming the file when it cannot be written, or the field when
/// the set breaks the format's rules (fields not 3 or 4, no clouds, an empty cloud, a ragged cloud).
void write_point_clouds(const std::string& path, const PointCloudSet& set);

}  // namespace imprecise::data
