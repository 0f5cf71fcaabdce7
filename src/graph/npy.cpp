// .npy reading and writing (format version 1.0-3.0, float32/float64 little-endian, C order).
#include "imprecise/graph/npy.hpp"

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "imprecise/error.hpp"

namespace imprecise::nn {

namespace {

std::string header_value(const std::string& header, const std::string& key, const std::string& path) {
  const auto at = header.find("'" + key + "'");
  if (at == std::string::npos) throw Error(fmt::format("{}: .npy header has no '{}'", path, key));
  auto pos = header.find(':', at);
  if (pos == std::string::npos) throw Error(fmt::format("{}: malformed .npy header", path));
  ++pos;
  while (pos < header.size() && header[pos] == ' ') ++pos;
  if (pos >= header.size()) throw Error(fmt::format("{}: malformed .npy header", path));
  const char open = header[pos];
  if (open == '\'' || open == '(') {
    const char close = open == '(' ? ')' : '\'';
    const auto end = header.find(close, pos + 1);
    if (end == std::string::npos) throw Error(fmt::format("{}: malformed .npy header", path));
    return header.substr(pos + 1, end - pos - 1);
  }
  const auto end = header.find_first_of(",}", pos);
  return header.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
}

}  // namespace

Tensor read_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(fmt::format("{}: cannot open file", path));
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < 10 || std::memcmp(bytes.data(), "\x93NUMPY", 6) != 0)
    throw Error(fmt::format("{}: not a .npy file", path));
  const auto major = static_cast<unsigned char>(bytes[6]);
  std::size_t header_len = 0;
  std::size_t offset = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<std::size_t>(static_cast<unsigned char>(bytes[9])) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) throw Error(fmt::format("{}: truncated .npy header", path));
    for (int i = 3; i >= 0; --i)
      header_len = (header_len << 8) | static_cast<unsigned char>(bytes[8 + static_cast<std::size_t>(i)]);
    offset = 12;
  } else {
    throw Error(fmt::format("{}: unsupported .npy version {}", path, major));
  }
  if (bytes.size() < offset + header_len) throw Error(fmt::format("{}: truncated .npy header", path));
  const std::string header(bytes.data() + offset, header_len);
  offset += header_len;

  const std::string descr = header_value(header, "descr", path);
  if (header_value(header, "fortran_order", path).find("False") == std::string::npos)
    throw Error(fmt::format("{}: Fortran-order arrays are not supported", path));
  Shape shape;
  const std::string dims = header_value(header, "shape", path);
  std::size_t pos = 0;
  while (pos < dims.size()) {
    while (pos < dims.size() && (dims[pos] == ' ' || dims[pos] == ',')) ++pos;
    if (pos >= dims.size()) break;
    std::size_t used = 0;
    long long value = 0;
    try {
      value = std::stoll(dims.substr(pos), &used);
    } catch (const std::exception&) {
      throw Error(fmt::format("{}: malformed shape '({})'", path, dims));
    }
    if (value < 0 || used == 0) throw Error(fmt::format("{}: malformed shape '({})'", path, dims));
    shape.push_back(value);
    pos += used;
  }
  const std::size_t count = element_count(shape);
  const std::size_t available = bytes.size() - offset;
  std::vector<float> values(count);
  if (descr == "<f4") {
    if (available < count * 4) throw Error(fmt::format("{}: truncated data ({} of {} bytes)", path, available, count * 4));
    std::memcpy(values.data(), bytes.data() + offset, count * 4);
  } else if (descr == "<f8") {
    if (available < count * 8) throw Error(fmt::format("{}: truncated data ({} of {} bytes)", path, available, count * 8));
    for (std::size_t i = 0; i < count; ++i) {
      double v = 0.0;
      std::memcpy(&v, bytes.data() + offset + i * 8, 8);
      values[i] = static_cast<float>(v);
    }
  } else {
    throw Error(fmt::format("{}: unsupported dtype '{}' (float32 or float64 expected)", path, descr));
  }
  return Tensor(std::move(shape), std::move(values));
}

void write_npy(const std::string& path, const Tensor& tensor) {
  std::string dims;
  for (const auto d : tensor.shape()) dims += std::to_string(d) + ",";
  if (tensor.rank() > 1) dims.pop_back();
  std::string header = fmt::format("{{'descr': '<f4', 'fortran_order': False, 'shape': ({}), }}", dims);
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::ofstream out(path, std::ios::binary);
  if (!out) throw Error(fmt::format("{}: cannot create file", path));
  out.write("\x93NUMPY\x01\x00", 8);
  const char len[2] = {static_cast<char>(header.size() & 0xff), static_cast<char>(header.size() >> 8)};
  out.write(len, 2);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  out.write(reinterpret_cast<const char*>(tensor.data()), static_cast<std::streamsize>(tensor.size() * sizeof(float)));
  if (!out) throw Error(fmt::format("{}: write failed", path));
}

}  // namespace imprecise::nn
