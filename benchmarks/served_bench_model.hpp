// A multi-exit model ready for the Engine in a benchmark: loaded on a backend, its stages profiled.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "imprecise/nn/multi_exit_model.hpp"
#include "imprecise/nn/profiler.hpp"
#include "imprecise/runtime/engine.hpp"

namespace imprecise::bench {

/// The model in `file` on `backend` (max batch `max_batch`), described by a profile of `repetitions`
/// runs per batch size, as the only model of a serving set.
inline std::vector<runtime::ServedModel> served_model(const std::string& file, const std::string& name,
                                                      const std::string& backend, int max_batch,
                                                      int repetitions = 10) {
  nn::MultiExitModel::Options options;
  options.backend = backend;
  options.compile.max_batch = max_batch;
  nn::MultiExitModel net = nn::MultiExitModel::load(file, options);
  nn::ProfilerConfig pc;
  pc.repetitions = repetitions;
  Model d = nn::describe(net, nn::profile_stages(net, pc), {}, name);
  std::vector<runtime::ServedModel> v;
  v.push_back(runtime::ServedModel{std::move(net), std::move(d)});
  return v;
}

}  // namespace imprecise::bench
