// Tensor: shape helpers, construction with size checks, resize/reshape.
#include "imprecise/graph/tensor.hpp"

#include <limits>
#include <utility>

#include <fmt/core.h>

#include "imprecise/error.hpp"

namespace imprecise::nn {

std::size_t element_count(const Shape& shape) {
  std::size_t count = 1;
  for (const auto d : shape) {
    if (d < 0) throw Error(fmt::format("shape {}: negative dimension", to_string(shape)));
    const auto u = static_cast<std::size_t>(d);
    if (u != 0 && count > std::numeric_limits<std::size_t>::max() / 4 / u)
      throw Error(fmt::format("shape {}: too many elements", to_string(shape)));
    count *= u;
  }
  return count;
}

std::string to_string(const Shape& shape) {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) text += ", ";
    text += shape[i] < 0 ? std::string("N") : std::to_string(shape[i]);
  }
  return text + "]";
}

Tensor::Tensor(Shape shape) : shape_(std::move(shape)), values_(element_count(shape_), 0.0f) {}

Tensor::Tensor(Shape shape, std::vector<float> values) : shape_(std::move(shape)), values_(std::move(values)) {
  if (values_.size() != element_count(shape_))
    throw Error(fmt::format("tensor of shape {} given {} values", to_string(shape_), values_.size()));
}

void Tensor::resize(Shape shape) {
  values_.resize(element_count(shape), 0.0f);
  shape_ = std::move(shape);
}

void Tensor::reshape(Shape shape) {
  if (element_count(shape) != values_.size())
    throw Error(fmt::format("cannot reshape {} to {}", to_string(shape_), to_string(shape)));
  shape_ = std::move(shape);
}

void Tensor::set_batch(std::int64_t batch) {
  if (shape_.empty() || batch < 0) throw Error(fmt::format("cannot set batch {} of a tensor of shape {}", batch, to_string(shape_)));
  std::size_t per_sample = 1;
  for (std::size_t i = 1; i < shape_.size(); ++i) per_sample *= static_cast<std::size_t>(shape_[i]);
  values_.resize(per_sample * static_cast<std::size_t>(batch), 0.0f);
  shape_[0] = batch;
}

}  // namespace imprecise::nn
