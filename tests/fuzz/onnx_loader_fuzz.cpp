// libFuzzer target for the ONNX loader: parse arbitrary bytes, and when they load, build the model and run every stage once.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "imprecise/error.hpp"
#include "imprecise/nn/multi_exit_model.hpp"
#include "imprecise/graph/onnx_import.hpp"

// imprecise::Error is the loader's documented way to refuse a file, so it is caught; anything else
// (another exception, a crash, a sanitizer report) escapes to libFuzzer and counts as a bug.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace imprecise::nn;
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  try {
    MultiExitModel::Options options;
    options.compile.max_batch = 1;  // smallest buffers: the point is the loader, not the arithmetic
    MultiExitModel model(parse_onnx(bytes, "fuzz"), options);
    Shape shape = model.input_shape();
    shape[0] = 1;
    JobState job = model.start(Tensor(shape));
    std::vector<ExitResult> results;
    JobState* batch[] = {&job};
    for (int k = 0; k < model.stages(); ++k) model.run_stage(k, batch, results);
  } catch (const imprecise::Error&) {
  }
  return 0;
}
