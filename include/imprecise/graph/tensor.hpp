// Tensor: a contiguous, row-major float tensor with a shape; the first axis is the batch axis.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace imprecise::nn {

using Shape = std::vector<std::int64_t>;

/// Number of elements of `shape` (1 for a scalar). Throws Error on a negative dimension or overflow.
std::size_t element_count(const Shape& shape);
/// "[1, 3, 32, 32]"; a negative dimension (the symbolic batch) prints as "N".
std::string to_string(const Shape& shape);

/// Owns its storage. resize() reuses the capacity reserved at construction or by reserve(), so a
/// buffer allocated for the largest batch at load never reallocates on the real-time path.
class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(Shape shape);                     ///< zero-filled
  Tensor(Shape shape, std::vector<float> values);  ///< throws Error if the sizes disagree

  const Shape& shape() const { return shape_; }
  std::size_t rank() const { return shape_.size(); }
  std::int64_t dim(std::size_t axis) const { return shape_.at(axis); }
  std::int64_t batch() const { return shape_.empty() ? 1 : shape_[0]; }
  std::size_t size() const { return values_.size(); }
  bool empty() const { return values_.empty(); }

  float* data() { return values_.data(); }
  const float* data() const { return values_.data(); }
  std::span<float> values() { return values_; }
  std::span<const float> values() const { return values_; }
  float& operator[](std::size_t i) { return values_[i]; }
  float operator[](std::size_t i) const { return values_[i]; }

  /// Elements of one sample (all axes but the first).
  std::size_t sample_size() const { return shape_.empty() || shape_[0] == 0 ? 0 : size() / static_cast<std::size_t>(shape_[0]); }
  std::span<float> sample(std::size_t index) { return values().subspan(index * sample_size(), sample_size()); }
  std::span<const float> sample(std::size_t index) const { return values().subspan(index * sample_size(), sample_size()); }

  /// Reserves room for `elements` values so later resizes up to that size do not allocate.
  void reserve(std::size_t elements) { values_.reserve(elements); }
  std::size_t capacity() const { return values_.capacity(); }
  /// New shape; keeps the values that fit, zero-fills the rest.
  void resize(Shape shape);
  /// Same element count, new shape; throws Error otherwise.
  void reshape(Shape shape);
  /// Sets the first axis to `batch`, keeping the others (rank >= 1). Does not allocate when the
  /// capacity suffices, so a buffer sized for the largest batch serves every smaller one.
  void set_batch(std::int64_t batch);

 private:
  Shape shape_;
  std::vector<float> values_;
};

}  // namespace imprecise::nn
