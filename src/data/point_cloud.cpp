// IPCL point-cloud files: a bounds-checked reader (every count is checked against the bytes left
// before anything is allocated) and the matching writer.
#include "imprecise/data/point_cloud.hpp"

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>

#include <fmt/core.h>

#include "imprecise/core/split.hpp"
#include "imprecise/error.hpp"

namespace imprecise::data {

namespace {

constexpr char kMagic[4] = {'I', 'P', 'C', 'L'};
constexpr std::uint32_t kVersion = 1;
constexpr std::size_t kHeaderBytes = 20;     // magic, version, fields, clouds, names_bytes
constexpr std::size_t kCloudHeaderBytes = 8;  // label, points

// Reads little-endian values off a byte buffer, throwing an Error that names the file and what was
// being read when the buffer ends first.
class Cursor {
 public:
  Cursor(const std::string& path, const std::vector<unsigned char>& bytes) : path_(path), bytes_(bytes) {}

  std::size_t left() const { return bytes_.size() - pos_; }
  std::size_t pos() const { return pos_; }

  void need(std::size_t count, const std::string& what) const {
    if (count > left())
      throw Error(fmt::format("{}: truncated: {} needs {} bytes at offset {}, only {} left", path_, what, count,
                              pos_, left()));
  }
  std::uint32_t u32(const std::string& what) {
    need(4, what);
    std::uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | bytes_[pos_ + static_cast<std::size_t>(i)];
    pos_ += 4;
    return v;
  }
  std::string text(std::size_t count, const std::string& what) {
    need(count, what);
    std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), count);
    pos_ += count;
    return s;
  }

 private:
  const std::string& path_;
  const std::vector<unsigned char>& bytes_;
  std::size_t pos_ = 0;
};

std::vector<std::string> split_names(const std::string& blob) {
  return blob.empty() ? std::vector<std::string>{} : split(blob, ',');  // no names, not one empty name
}

void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xffu));
}

}  // namespace

PointCloudSet read_point_clouds(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw Error(fmt::format("{}: cannot open point-cloud file", path));
  const std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  Cursor in(path, bytes);

  const std::string magic = in.text(4, "the magic");
  if (std::memcmp(magic.data(), kMagic, 4) != 0) throw Error(fmt::format("{}: not an IPCL point-cloud file (bad magic)", path));
  const std::uint32_t version = in.u32("the version");
  if (version != kVersion) throw Error(fmt::format("{}: unsupported IPCL version {} (expected {})", path, version, kVersion));
  const std::uint32_t fields = in.u32("the field count");
  if (fields != 3 && fields != 4) throw Error(fmt::format("{}: fields = {} (expected 3: x y z, or 4: x y z intensity)", path, fields));
  const std::uint32_t clouds = in.u32("the cloud count");
  if (clouds == 0) throw Error(fmt::format("{}: holds no point cloud", path));
  const std::uint32_t names_bytes = in.u32("the names length");

  PointCloudSet set;
  set.fields = static_cast<int>(fields);
  set.names = split_names(in.text(names_bytes, "the class names"));
  // The smallest cloud takes a header and one point: a count beyond that is a corrupt header, caught
  // before reserving memory for it.
  const std::size_t min_cloud = kCloudHeaderBytes + 4 * std::size_t{fields};
  if (clouds > in.left() / min_cloud)
    throw Error(fmt::format("{}: truncated or corrupt header: {} clouds cannot fit in the {} bytes left", path, clouds,
                            in.left()));
  set.clouds.resize(clouds);
  for (std::uint32_t c = 0; c < clouds; ++c) {
    PointCloud& cloud = set.clouds[c];
    cloud.fields = set.fields;
    cloud.label = std::bit_cast<std::int32_t>(in.u32(fmt::format("cloud {}'s label", c)));
    const std::uint32_t points = in.u32(fmt::format("cloud {}'s point count", c));
    if (points == 0) throw Error(fmt::format("{}: cloud {} is empty (0 points)", path, c));
    if (cloud.label < -1 || (cloud.label >= 0 && static_cast<std::size_t>(cloud.label) >= set.names.size()))
      throw Error(fmt::format("{}: cloud {} has label {} outside [-1, {})", path, c, cloud.label, set.names.size()));
    const std::size_t count = std::size_t{points} * fields;
    in.need(4 * count, fmt::format("cloud {}'s {} points", c, points));
    cloud.values.resize(count);
    for (std::size_t i = 0; i < count; ++i) {
      const float v = std::bit_cast<float>(in.u32("a point"));
      if (!std::isfinite(v))
        throw Error(fmt::format("{}: cloud {} point {} has a non-finite value ({})", path, c, i / fields, v));
      cloud.values[i] = v;
    }
  }
  if (in.left() != 0)
    throw Error(fmt::format("{}: {} unexpected bytes after the last of {} clouds (wrong size)", path, in.left(), clouds));
  return set;
}

PointCloud read_point_cloud(const std::string& path, std::size_t index) {
  PointCloudSet set = read_point_clouds(path);
  if (index >= set.clouds.size())
    throw Error(fmt::format("{}: no cloud {} (the file holds {})", path, index, set.clouds.size()));
  return std::move(set.clouds[index]);
}

void write_point_clouds(const std::string& path, const PointCloudSet& set) {
  if (set.fields != 3 && set.fields != 4) throw Error(fmt::format("{}: fields = {} (expected 3 or 4)", path, set.fields));
  if (set.clouds.empty()) throw Error(fmt::format("{}: no clouds to write", path));
  std::string names;
  for (const auto& n : set.names) {
    if (n.find(',') != std::string::npos) throw Error(fmt::format("{}: class name '{}' contains a comma", path, n));
    names += (names.empty() ? "" : ",") + n;
  }
  std::string out(kMagic, 4);
  put_u32(out, kVersion);
  put_u32(out, static_cast<std::uint32_t>(set.fields));
  put_u32(out, static_cast<std::uint32_t>(set.clouds.size()));
  put_u32(out, static_cast<std::uint32_t>(names.size()));
  out += names;
  for (std::size_t c = 0; c < set.clouds.size(); ++c) {
    const PointCloud& cloud = set.clouds[c];
    const auto width = static_cast<std::size_t>(set.fields);
    if (cloud.values.empty() || cloud.values.size() % width != 0 || cloud.fields != set.fields)
      throw Error(fmt::format("{}: cloud {} is empty or not a whole number of {}-field points", path, c, set.fields));
    if (cloud.label < -1 || (cloud.label >= 0 && static_cast<std::size_t>(cloud.label) >= set.names.size()))
      throw Error(fmt::format("{}: cloud {} has label {} outside [-1, {})", path, c, cloud.label, set.names.size()));
    put_u32(out, std::bit_cast<std::uint32_t>(static_cast<std::int32_t>(cloud.label)));
    put_u32(out, static_cast<std::uint32_t>(cloud.values.size() / width));
    for (const float v : cloud.values) put_u32(out, std::bit_cast<std::uint32_t>(v));
  }
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  if (!file) throw Error(fmt::format("{}: cannot create point-cloud file", path));
  file.write(out.data(), static_cast<std::streamsize>(out.size()));
  if (!file) throw Error(fmt::format("{}: write failed", path));
}

}  // namespace imprecise::data
