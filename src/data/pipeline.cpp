// PipelineRegistry, splits and the paths pipelines resolve their data and models against.
#include "imprecise/data/pipeline.hpp"

#include <cstdlib>
#include <string>
#include <utility>

#include <fmt/core.h>

#include "imprecise/data/pipelines.hpp"
#include "imprecise/error.hpp"

namespace imprecise::data {

Split parse_split(std::string_view name) {
  if (name == "train") return Split::train;
  if (name == "calibration") return Split::calibration;
  if (name == "test") return Split::test;
  throw Error(fmt::format("unknown split '{}' (known: train, calibration, test)", name));
}

const char* to_string(Split split) {
  switch (split) {
    case Split::train: return "train";
    case Split::calibration: return "calibration";
    case Split::test: return "test";
  }
  return "?";
}

namespace {

std::string& source_root_setting() {
  static std::string root;  // empty: not set by the program
  return root;
}

}  // namespace

void set_source_root(std::string dir) { source_root_setting() = std::move(dir); }

std::string source_root() {
  if (!source_root_setting().empty()) return source_root_setting();
  if (const char* dir = std::getenv("IMPRECISE_SOURCE_DIR"); dir != nullptr && *dir != '\0') return dir;
  return ".";
}

std::string source_path(const std::string& relative) { return source_root() + "/" + relative; }

std::string data_root() {
  if (const char* dir = std::getenv("IMPRECISE_DATA_DIR"); dir != nullptr && *dir != '\0') return dir;
  return source_path("data");
}

PipelineRegistry::PipelineRegistry() {
  // One line per built-in pipeline.
  add(vision_pipeline());
  add(lidar_pipeline());
  add(voice_pipeline());
}

PipelineRegistry& PipelineRegistry::get() {
  static PipelineRegistry registry;
  return registry;
}

std::vector<std::string> PipelineRegistry::names() const {
  std::vector<std::string> names;
  for (const auto& p : pipelines_) names.push_back(p.name);
  return names;
}

const Pipeline* PipelineRegistry::find(std::string_view name) const {
  for (const auto& p : pipelines_)
    if (p.name == name) return &p;
  return nullptr;
}

const Pipeline& PipelineRegistry::at(std::string_view name) const {
  if (const Pipeline* p = find(name)) return *p;
  std::string known;
  for (const auto& n : names()) known += (known.empty() ? "" : ", ") + n;
  throw Error(fmt::format("unknown pipeline '{}' (known: {})", name, known.empty() ? "none" : known));
}

void PipelineRegistry::add(Pipeline pipeline) {
  for (auto& p : pipelines_) {
    if (p.name == pipeline.name) {
      p = std::move(pipeline);
      return;
    }
  }
  pipelines_.push_back(std::move(pipeline));
}

}  // namespace imprecise::data
