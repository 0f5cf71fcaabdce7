// Test helpers for the runtime: a profiled fixture model ready to serve, its inputs and reference answers.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "imprecise/nn/multi_exit_model.hpp"
#include "imprecise/graph/npy.hpp"
#include "imprecise/nn/profiler.hpp"
#include "imprecise/runtime/engine.hpp"
#include "nn_fixtures.hpp"

namespace imprecise::runtime::testing {

inline nn::MultiExitModel load_network(const std::string& name, int max_batch) {
  nn::MultiExitModel::Options options;
  options.compile.max_batch = max_batch;
  return nn::MultiExitModel::load(nn::testing::fixture(name + ".onnx"), options);
}

/// The fixture's stage profile, measured once per test program (profiling costs a few hundred runs).
inline const Profile& measured_profile(const std::string& name, int max_batch) {
  static std::map<std::pair<std::string, int>, Profile> cache;
  auto it = cache.find({name, max_batch});
  if (it == cache.end()) {
    nn::MultiExitModel net = load_network(name, max_batch);
    nn::ProfilerConfig config;
    config.warmup = 2;
    config.repetitions = 10;
    it = cache.emplace(std::make_pair(name, max_batch), nn::profile_stages(net, config)).first;
  }
  return it->second;
}

/// A model to serve: the network plus its description (measured profile, default utility) or `profile`.
inline ServedModel served(const std::string& name, int max_batch, const Profile* profile = nullptr) {
  nn::MultiExitModel net = load_network(name, max_batch);
  Model d = nn::describe(net, profile ? *profile : measured_profile(name, max_batch), {}, name);
  return ServedModel{std::move(net), std::move(d)};
}

inline std::vector<ServedModel> one_model(const std::string& name = "cnn3", int max_batch = 8,
                                          const Profile* profile = nullptr) {
  std::vector<ServedModel> v;
  v.push_back(served(name, max_batch, profile));
  return v;
}

/// The fixture's 8 inputs, one [1, ...] tensor each.
inline std::vector<nn::Tensor> inputs(const std::string& name) {
  const nn::Tensor all = nn::read_npy(nn::testing::fixture(name + ".input.npy"));
  std::vector<nn::Tensor> v;
  for (std::size_t i = 0; i < static_cast<std::size_t>(all.batch()); ++i) v.push_back(nn::testing::slice(all, i, 1));
  return v;
}

/// reference[k][i]: exit k's answer for input i, from a separate copy of the network run offline.
inline std::vector<std::vector<nn::ExitResult>> reference(const std::string& name) {
  nn::MultiExitModel net = load_network(name, 8);
  return net.run(nn::read_npy(nn::testing::fixture(name + ".input.npy")));
}

/// Planned batch-1 time of every stage (mean), i.e. one job to full depth.
inline Duration full_depth_time(const Profile& p) {
  Duration t = 0;
  for (int s = 0; s < p.stages(); ++s) t += p.timing(s, 1).mean;
  return t;
}

}  // namespace imprecise::runtime::testing
