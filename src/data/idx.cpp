// IDX reading: gzip inflation (zlib), header validation, images and labels.
#include "imprecise/data/idx.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <limits>

#include <fmt/core.h>
#include <zlib.h>

#include "imprecise/error.hpp"

namespace imprecise::data {

namespace {

constexpr std::uint8_t kTypeUnsignedByte = 0x08;
// A decompressed file larger than this is refused (a corrupt or hostile .gz would otherwise exhaust
// memory); the largest Fashion-MNIST file is 47 MB.
constexpr std::size_t kMaxBytes = std::size_t{1} << 30;

const char* type_name(std::uint8_t code) {
  switch (code) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "short";
    case 0x0C: return "int";
    case 0x0D: return "float";
    case 0x0E: return "double";
    default: return "unknown";
  }
}

std::uint32_t big_endian_u32(std::span<const std::uint8_t> bytes, std::size_t at) {
  return (std::uint32_t{bytes[at]} << 24) | (std::uint32_t{bytes[at + 1]} << 16) | (std::uint32_t{bytes[at + 2]} << 8) |
         std::uint32_t{bytes[at + 3]};
}

std::vector<std::uint8_t> inflate_gzip(const std::vector<std::uint8_t>& compressed, const std::string& path) {
  z_stream stream{};
  if (inflateInit2(&stream, 15 + 16) != Z_OK)  // 15 + 16: a gzip wrapper, the largest window
    throw Error(fmt::format("{}: cannot initialise zlib", path));
  std::vector<std::uint8_t> out;
  std::vector<std::uint8_t> chunk(std::size_t{1} << 20);
  // zlib takes non-const input pointers but never writes through them.
  stream.next_in = const_cast<Bytef*>(compressed.data());
  std::size_t remaining = compressed.size();
  int status = Z_OK;
  while (true) {
    if (stream.avail_in == 0 && remaining > 0) {
      const auto take = static_cast<uInt>(std::min<std::size_t>(remaining, std::numeric_limits<uInt>::max()));
      stream.avail_in = take;
      remaining -= take;
    }
    stream.next_out = chunk.data();
    stream.avail_out = static_cast<uInt>(chunk.size());
    status = inflate(&stream, Z_NO_FLUSH);
    const std::size_t produced = chunk.size() - stream.avail_out;
    out.insert(out.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(produced));
    if (out.size() > kMaxBytes) {
      inflateEnd(&stream);
      throw Error(fmt::format("{}: decompresses to more than {} bytes", path, kMaxBytes));
    }
    if (status == Z_STREAM_END) {
      // Several gzip members in one file (as `cat a.gz b.gz` makes) are one stream of bytes.
      if (stream.avail_in == 0 && remaining == 0) break;
      if (inflateReset(&stream) != Z_OK) break;
      continue;
    }
    if (status == Z_BUF_ERROR && stream.avail_in == 0 && remaining == 0) {
      inflateEnd(&stream);
      throw Error(fmt::format("{}: truncated gzip stream (ends after {} decompressed bytes)", path, out.size()));
    }
    if (status != Z_OK && status != Z_BUF_ERROR) {
      const std::string message = stream.msg != nullptr ? stream.msg : fmt::format("zlib error {}", status);
      inflateEnd(&stream);
      throw Error(fmt::format("{}: corrupt gzip data ({})", path, message));
    }
  }
  inflateEnd(&stream);
  return out;
}

}  // namespace

std::vector<std::uint8_t> read_file_maybe_gzip(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(fmt::format("{}: cannot open file", path));
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw Error(fmt::format("{}: read error", path));
  if (bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b) return inflate_gzip(bytes, path);
  return bytes;
}

IdxArray parse_idx(std::span<const std::uint8_t> bytes, const std::string& name) {
  if (bytes.size() < 4)
    throw Error(fmt::format("{}: not an IDX file ({} bytes, shorter than the 4-byte magic)", name, bytes.size()));
  if (bytes[0] != 0 || bytes[1] != 0)
    throw Error(fmt::format("{}: not an IDX file (wrong magic {:02x} {:02x} {:02x} {:02x}; expected 00 00 <type> <rank>)",
                            name, bytes[0], bytes[1], bytes[2], bytes[3]));
  if (bytes[2] != kTypeUnsignedByte)
    throw Error(fmt::format("{}: IDX data type 0x{:02x} ({}) is not supported; expected 0x08 (unsigned byte)", name,
                            bytes[2], type_name(bytes[2])));
  const std::size_t rank = bytes[3];
  if (rank == 0) throw Error(fmt::format("{}: IDX header declares 0 dimensions", name));
  const std::size_t header = 4 + 4 * rank;
  if (bytes.size() < header)
    throw Error(fmt::format("{}: truncated IDX header ({} bytes; {} dimensions need {})", name, bytes.size(), rank, header));
  IdxArray array;
  std::size_t expected = 1;
  for (std::size_t d = 0; d < rank; ++d) {
    const std::uint32_t dim = big_endian_u32(bytes, 4 + 4 * d);
    array.dims.push_back(static_cast<std::int64_t>(dim));
    if (dim != 0 && expected > kMaxBytes / dim)
      throw Error(fmt::format("{}: IDX dimensions too large (dimension {} is {})", name, d, dim));
    expected *= dim;
  }
  const std::size_t payload = bytes.size() - header;
  if (payload < expected)
    throw Error(fmt::format("{}: truncated IDX data: the header declares {} bytes, the file holds {}", name, expected,
                            payload));
  if (payload > expected)
    throw Error(fmt::format("{}: IDX size mismatch: the header declares {} bytes of data, the file holds {} ({} extra)",
                            name, expected, payload, payload - expected));
  array.values.assign(bytes.begin() + static_cast<std::ptrdiff_t>(header), bytes.end());
  return array;
}

IdxArray read_idx(const std::string& path) {
  const std::vector<std::uint8_t> bytes = read_file_maybe_gzip(path);
  return parse_idx(bytes, path);
}

IdxImages read_idx_images(const std::string& path) {
  IdxArray array = read_idx(path);
  if (array.dims.size() != 3)
    throw Error(fmt::format("{}: an image file must have 3 dimensions [count, rows, cols], this one has {}", path,
                            array.dims.size()));
  IdxImages images;
  images.count = static_cast<std::size_t>(array.dims[0]);
  images.rows = static_cast<std::size_t>(array.dims[1]);
  images.cols = static_cast<std::size_t>(array.dims[2]);
  if (images.rows == 0 || images.cols == 0)
    throw Error(fmt::format("{}: empty image size {}x{}", path, images.rows, images.cols));
  images.pixels = std::move(array.values);
  return images;
}

std::vector<int> read_idx_labels(const std::string& path, int classes) {
  const IdxArray array = read_idx(path);
  if (array.dims.size() != 1)
    throw Error(fmt::format("{}: a label file must have 1 dimension [count], this one has {}", path, array.dims.size()));
  std::vector<int> labels(array.values.begin(), array.values.end());
  for (std::size_t i = 0; i < labels.size(); ++i)
    if (labels[i] >= classes)
      throw Error(fmt::format("{}: label {} of item {} is outside the {} classes", path, labels[i], i, classes));
  return labels;
}

std::vector<std::uint8_t> encode_idx(const IdxArray& array) {
  if (array.dims.empty() || array.dims.size() > 255)
    throw Error(fmt::format("encode_idx: {} dimensions (1 to 255 allowed)", array.dims.size()));
  std::size_t expected = 1;
  std::vector<std::uint8_t> bytes{0, 0, kTypeUnsignedByte, static_cast<std::uint8_t>(array.dims.size())};
  for (const std::int64_t dim : array.dims) {
    if (dim < 0 || dim > std::numeric_limits<std::uint32_t>::max())
      throw Error(fmt::format("encode_idx: dimension {} outside [0, 2^32)", dim));
    const auto d = static_cast<std::uint32_t>(dim);
    for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<std::uint8_t>((d >> shift) & 0xFF));
    expected *= static_cast<std::size_t>(dim);
  }
  if (expected != array.values.size())
    throw Error(fmt::format("encode_idx: dimensions hold {} values, {} given", expected, array.values.size()));
  bytes.insert(bytes.end(), array.values.begin(), array.values.end());
  return bytes;
}

}  // namespace imprecise::data
