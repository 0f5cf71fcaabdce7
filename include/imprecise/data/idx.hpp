// IDX files (the MNIST family's format: big-endian header + raw values), plain or gzip-compressed,
// read and validated: images [count, rows, cols] and labels [count] of unsigned bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace imprecise::data {

/// A uint8 IDX array: dims as in the header, values row-major.
struct IdxArray {
  std::vector<std::int64_t> dims;
  std::vector<std::uint8_t> values;
};

/// Parses the bytes of an (already decompressed) IDX file. Only unsigned-byte data (type 0x08) is
/// accepted; the magic, the dimension count and the data size must agree exactly. `name` is the
/// file named in errors.
IdxArray parse_idx(std::span<const std::uint8_t> bytes, const std::string& name);

/// Reads a file whole, inflating it when it is gzip-compressed (recognised by its magic bytes, not
/// its name). Throws Error naming the file when it is missing, unreadable or a corrupt/truncated
/// gzip stream.
std::vector<std::uint8_t> read_file_maybe_gzip(const std::string& path);

/// read_file_maybe_gzip + parse_idx.
IdxArray read_idx(const std::string& path);

/// Grayscale images of one size: pixels[i * rows * cols + r * cols + c].
struct IdxImages {
  std::size_t count = 0;
  std::size_t rows = 0;
  std::size_t cols = 0;
  std::vector<std::uint8_t> pixels;
};

/// An IDX file of rank 3 [count, rows, cols]. Throws Error naming the file on any other rank or an
/// empty image size.
IdxImages read_idx_images(const std::string& path);
/// An IDX file of rank 1 [count]; every label must lie below `classes`. Throws Error naming the file
/// and the first offending index.
std::vector<int> read_idx_labels(const std::string& path, int classes);

/// Serialises a uint8 IDX array (plain, uncompressed); tests and fixtures write files with it.
std::vector<std::uint8_t> encode_idx(const IdxArray& array);

}  // namespace imprecise::data
