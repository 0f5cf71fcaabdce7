// Test inputs through each model's pipeline front end (the same samples the in-process run submits).
#include "imprecise/loadgen/inputs.hpp"

#include <fmt/core.h>

#include "imprecise/data/pipeline.hpp"
#include "imprecise/error.hpp"

namespace imprecise::loadgen {

std::vector<ModelInputs> load_inputs(const std::vector<std::string>& models, const std::vector<std::size_t>& samples,
                                     const std::string& split, const std::string& data_dir) {
  const data::Split which = data::parse_split(split);
  std::vector<ModelInputs> all;
  for (std::size_t m = 0; m < models.size(); ++m) {
    const data::Pipeline* pipeline = data::PipelineRegistry::get().find(models[m]);
    if (pipeline == nullptr) {
      std::string known;
      for (const auto& name : data::PipelineRegistry::get().names()) known += (known.empty() ? "" : ", ") + name;
      throw Error(fmt::format("--model: '{}' has no pipeline to draw test inputs from (known: {})", models[m], known));
    }
    const std::size_t wanted = m < samples.size() ? samples[m] : 0;
    data::LabeledSet set = pipeline->load({which, wanted, data_dir});
    if (set.size() == 0 || (wanted > 0 && set.size() < wanted))
      throw Error(fmt::format("model '{}': its {} split has {} samples, {} wanted", models[m], split, set.size(), wanted));
    ModelInputs inputs;
    inputs.model = models[m];
    inputs.shape.assign(set.inputs.shape().begin(), set.inputs.shape().end());
    inputs.shape[0] = 1;
    inputs.sample_size = set.inputs.sample_size();
    const auto values = set.inputs.values();
    inputs.values.assign(values.begin(), values.end());
    inputs.labels = std::move(set.labels);
    all.push_back(std::move(inputs));
  }
  return all;
}

}  // namespace imprecise::loadgen
