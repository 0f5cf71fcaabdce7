// The real test inputs loadgen sends: each model's pipeline test split with its labels, so every answer's
// correctness is known.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace imprecise::loadgen {

struct ModelInputs {
  std::string model;
  std::vector<std::int64_t> shape;  ///< one sample as sent: [1, ...]
  std::vector<float> values;        ///< samples back to back
  std::vector<int> labels;
  std::size_t sample_size = 0;
  std::size_t size() const { return labels.size(); }
  std::span<const float> sample(std::size_t i) const { return {values.data() + i * sample_size, sample_size}; }
};

/// The first `samples[m]` samples of `split` ("test" or "calibration") of each model's pipeline
/// (data::PipelineRegistry; the model name is the pipeline name). Throws Error naming the model when it
/// has no pipeline or its data set holds fewer samples.
std::vector<ModelInputs> load_inputs(const std::vector<std::string>& models, const std::vector<std::size_t>& samples,
                                     const std::string& split, const std::string& data_dir);

}  // namespace imprecise::loadgen
