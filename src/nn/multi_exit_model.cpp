// MultiExitModel: metadata, stage compilation, per-job carried state, batched stage runs, exit post-processing.
#include "imprecise/nn/multi_exit_model.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <map>
#include <utility>

#include <fmt/core.h>

#include "imprecise/core/split.hpp"
#include "imprecise/error.hpp"
#include "imprecise/graph/onnx_import.hpp"

namespace imprecise::nn {

ConfidenceMeasure parse_confidence_measure(const std::string& name) {
  if (name == "max-prob") return ConfidenceMeasure::max_prob;
  if (name == "margin") return ConfidenceMeasure::margin;
  if (name == "entropy") return ConfidenceMeasure::entropy;
  throw Error(fmt::format("unknown confidence measure '{}' (known: max-prob, margin, entropy)", name));
}

const char* to_string(ConfidenceMeasure measure) {
  switch (measure) {
    case ConfidenceMeasure::max_prob: return "max-prob";
    case ConfidenceMeasure::margin: return "margin";
    case ConfidenceMeasure::entropy: return "entropy";
  }
  return "?";
}

ExitResult post_process(std::span<const float> logits, ConfidenceMeasure measure) {
  ExitResult r;
  post_process(logits, measure, r);
  return r;
}

void post_process(std::span<const float> logits, ConfidenceMeasure measure, ExitResult& r, float temperature) {
  // assign/resize keep the capacity the vectors already have, so a reused result does not allocate.
  r.logits.assign(logits.begin(), logits.end());
  r.probabilities.resize(logits.size());
  r.prediction = 0;
  r.confidence = 0.0f;
  if (logits.empty()) return;
  const float top = *std::max_element(logits.begin(), logits.end());
  double sum = 0.0;
  for (std::size_t i = 0; i < logits.size(); ++i) {
    r.probabilities[i] = std::exp((logits[i] - top) / temperature);
    sum += r.probabilities[i];
  }
  for (auto& p : r.probabilities) p = static_cast<float>(p / sum);
  r.prediction = static_cast<int>(std::max_element(r.probabilities.begin(), r.probabilities.end()) - r.probabilities.begin());
  const float best = r.probabilities[static_cast<std::size_t>(r.prediction)];
  switch (measure) {
    case ConfidenceMeasure::max_prob: r.confidence = best; break;
    case ConfidenceMeasure::margin: {
      float second = 0.0f;
      for (std::size_t i = 0; i < r.probabilities.size(); ++i)
        if (static_cast<int>(i) != r.prediction) second = std::max(second, r.probabilities[i]);
      r.confidence = best - second;
      break;
    }
    case ConfidenceMeasure::entropy: {
      if (r.probabilities.size() < 2) {
        r.confidence = 1.0f;
        break;
      }
      double h = 0.0;
      for (const float p : r.probabilities)
        if (p > 0.0f) h -= static_cast<double>(p) * std::log(static_cast<double>(p));
      r.confidence = static_cast<float>(std::clamp(1.0 - h / std::log(static_cast<double>(r.probabilities.size())), 0.0, 1.0));
      break;
    }
  }
}

struct MultiExitModel::StageSlots {
  std::vector<std::size_t> inputs;       // carried slot of each StageInfo::inputs
  std::vector<std::size_t> carried_out;  // carried slot of each StageInfo::carried_out
  std::vector<const Tensor*> args;       // sized at load, filled per run
};

namespace {

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> items = split(text, ',');
  for (std::string& item : items) {  // "a, b" names "b"
    const auto first = item.find_first_not_of(" \t");
    const auto last = item.find_last_not_of(" \t");
    item = first == std::string::npos ? std::string() : item.substr(first, last - first + 1);
  }
  return items;
}

}  // namespace

MultiExitModel MultiExitModel::load(const std::string& path, const Options& options) {
  return MultiExitModel(load_onnx(path), options);
}

MultiExitModel::MultiExitModel(Graph graph, const Options& options)
    : graph_(std::move(graph)), backend_(options.backend), max_batch_(options.compile.max_batch),
      confidence_(options.confidence), time_stages_(options.time_stages) {
  const std::string& where = graph_.source;
  prepare(graph_);
  stage_info_ = partition(graph_);
  for (const auto& stage : stage_info_)
    if (stage.exit.shape.size() != 2)
      throw Error(fmt::format("{}: exit '{}' has shape {}, expected [N, classes]", where, stage.exit.name,
                              to_string(stage.exit.shape)));

  // Metadata (options override it).
  const auto& meta = graph_.metadata;
  mandatory_depth_ = 1;
  if (const auto it = meta.find(kMetaMandatoryDepth); it != meta.end()) {
    const std::string& text = it->second;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), mandatory_depth_);
    if (ec != std::errc() || ptr != text.data() + text.size())
      throw Error(fmt::format("{}: metadata '{}' = '{}' is not an integer", where, kMetaMandatoryDepth, text));
  }
  if (options.mandatory_depth) mandatory_depth_ = *options.mandatory_depth;
  if (mandatory_depth_ < 1 || mandatory_depth_ > stages())
    throw Error(fmt::format("{}: mandatory depth {} outside [1, {}]", where, mandatory_depth_, stages()));
  temperatures_ = options.temperatures.empty() ? std::vector<float>(static_cast<std::size_t>(stages()), 1.0f)
                                               : options.temperatures;
  if (temperatures_.size() != static_cast<std::size_t>(stages()))
    throw Error(fmt::format("{}: {} temperatures given for {} exits", where, temperatures_.size(), stages()));
  for (std::size_t k = 0; k < temperatures_.size(); ++k)
    if (!(temperatures_[k] > 0.0f) || !std::isfinite(temperatures_[k]))
      throw Error(fmt::format("{}: temperature of exit {} is {}, must be > 0 and finite", where, k + 1, temperatures_[k]));
  labels_ = options.labels;
  if (labels_.empty())
    if (const auto it = meta.find(kMetaLabels); it != meta.end()) labels_ = split_commas(it->second);
  if (!labels_.empty())
    for (int k = 0; k < stages(); ++k)
      if (classes(k) != static_cast<std::int64_t>(labels_.size()))
        throw Error(fmt::format("{}: {} labels given ('{}'), exit '{}' has {} classes", where, labels_.size(),
                                kMetaLabels, stage_info_[static_cast<std::size_t>(k)].exit.name, classes(k)));
  for (const auto& stage : stage_info_) exit_names_.push_back(stage.exit.name);
  if (const auto it = meta.find(kMetaExitNames); it != meta.end()) {
    exit_names_ = split_commas(it->second);
    if (exit_names_.size() != stage_info_.size())
      throw Error(fmt::format("{}: metadata '{}' names {} exits, the model has {}", where, kMetaExitNames,
                              exit_names_.size(), stage_info_.size()));
  }

  // Carried slots: every tensor a stage reads from outside itself.
  std::map<std::string, std::size_t> slot;
  auto slot_of = [&](const CarriedTensor& t) {
    auto it = slot.find(t.name);
    if (it == slot.end()) {
      it = slot.emplace(t.name, carried_shapes_.size()).first;
      carried_shapes_.push_back(t.shape);
    }
    return it->second;
  };
  slot_of(CarriedTensor{graph_.inputs[0].name, graph_.inputs[0].shape});
  for (const auto& stage : stage_info_) {
    StageSlots s;
    for (const auto& t : stage.inputs) s.inputs.push_back(slot_of(t));
    for (const auto& t : stage.carried_out) s.carried_out.push_back(slot_of(t));
    s.args.resize(s.inputs.size(), nullptr);
    slots_.push_back(std::move(s));
  }

  // A backend built in but with no device here (cuda without a GPU or driver) falls back to the cpu;
  // backend() then tells what actually runs.
  if (BackendRegistry::get().at(backend_).device_count() == 0) backend_ = "cpu";
  const Backend& backend = BackendRegistry::get().at(backend_);
  if (backend.device_count() <= options.compile.device)
    throw Error(fmt::format("{}: backend '{}' has {} devices, device {} requested", where, backend_,
                            backend.device_count(), options.compile.device));
  compile_ = options.compile;
  device_exit_head_ = options.device_exit_head;
  compile_stages();
}

// Everything but the mutable parts (stage buffers, compiled stages, counters) is copied; the graph
// is already prepared and partitioned, so the stages compile to the same layouts as the original's.
MultiExitModel::MultiExitModel(ReplicaOf from)
    : graph_(from.original.graph_), stage_info_(from.original.stage_info_), slots_(from.original.slots_),
      carried_shapes_(from.original.carried_shapes_), backend_(from.original.backend_),
      max_batch_(from.original.max_batch_), mandatory_depth_(from.original.mandatory_depth_),
      confidence_(from.original.confidence_), temperatures_(from.original.temperatures_),
      time_stages_(from.original.time_stages_), compile_(from.original.compile_),
      device_exit_head_(from.original.device_exit_head_), labels_(from.original.labels_),
      exit_names_(from.original.exit_names_) {
  for (StageSlots& s : slots_) std::fill(s.args.begin(), s.args.end(), nullptr);  // they pointed into the original
  compile_stages();
}

MultiExitModel MultiExitModel::replica() const { return MultiExitModel(ReplicaOf{*this}); }

void MultiExitModel::compile_stages() {
  batch_inputs_.clear();
  for (Shape shape : carried_shapes_) {
    shape[0] = max_batch_;
    batch_inputs_.emplace_back(std::move(shape));
  }
  const Backend& backend = BackendRegistry::get().at(backend_);
  compiled_.clear();
  for (std::size_t k = 0; k < stage_info_.size(); ++k) {
    CompileOptions compile = compile_;
    compile.exit_head = ExitHead{confidence_, temperatures_[k], device_exit_head_};
    compiled_.push_back(backend.compile(graph_, stage_info_[k], compile));
  }
  times_.assign(stage_info_.size(), StageTimes{});
}

MultiExitModel::MultiExitModel(MultiExitModel&&) noexcept = default;
MultiExitModel& MultiExitModel::operator=(MultiExitModel&&) noexcept = default;
MultiExitModel::~MultiExitModel() = default;

std::int64_t MultiExitModel::classes(int exit) const {
  return stage_info_.at(static_cast<std::size_t>(exit)).exit.shape.back();
}

JobState MultiExitModel::start(const Tensor& input) const {
  JobState job;
  restart(input, job);
  return job;
}

namespace {

/// `shape` is `carried` with batch 1 (the carried shape's batch axis is symbolic).
bool is_job_shape(const Shape& shape, const Shape& carried) {
  return shape.size() == carried.size() && !shape.empty() && shape[0] == 1 &&
         std::equal(shape.begin() + 1, shape.end(), carried.begin() + 1);
}

}  // namespace

void MultiExitModel::restart(const Tensor& input, JobState& job) const {
  const Shape& want = input_shape();
  const Shape& have = input.shape();
  const bool sample_only = have.size() + 1 == want.size() && std::equal(have.begin(), have.end(), want.begin() + 1);
  if (!sample_only && !is_job_shape(have, want)) {
    job.stages_done_ = -1;  // run_stage refuses it
    throw Error(fmt::format("{}: input '{}' has shape {}, expected {} (or [1, ...])", graph_.source,
                            graph_.inputs[0].name, to_string(have), to_string(want)));
  }
  job.slots_.resize(carried_shapes_.size());
  for (std::size_t i = 0; i < carried_shapes_.size(); ++i) {
    if (is_job_shape(job.slots_[i].shape(), carried_shapes_[i])) continue;  // kept from the last job: no allocation
    Shape shape = carried_shapes_[i];
    shape[0] = 1;
    job.slots_[i].resize(std::move(shape));
  }
  std::copy(input.values().begin(), input.values().end(), job.slots_[0].values().begin());
  job.stages_done_ = 0;
}

void MultiExitModel::run_stage(int stage, std::span<JobState* const> jobs, std::vector<ExitResult>& results) {
  results.resize(jobs.size());
  run_stage(stage, jobs, std::span<ExitResult>(results));
}

void MultiExitModel::run_stage(int stage, std::span<JobState* const> jobs, std::span<ExitResult> results) {
  if (stage < 0 || stage >= stages())
    throw Error(fmt::format("{}: stage {} outside [0, {})", graph_.source, stage, stages()));
  if (jobs.empty() || static_cast<int>(jobs.size()) > max_batch_)
    throw Error(fmt::format("{}: batch of {} jobs outside [1, {}]", graph_.source, jobs.size(), max_batch_));
  for (const JobState* job : jobs)
    if (job->stages_done_ != stage || job->slots_.size() != carried_shapes_.size())
      throw Error(fmt::format("{}: stage {} run for a job that has finished {} stages", graph_.source, stage,
                              job->stages_done_));
  if (results.size() < jobs.size())
    throw Error(fmt::format("{}: {} results given for a batch of {} jobs", graph_.source, results.size(), jobs.size()));
  using Clock = std::chrono::steady_clock;
  const auto ns = [](Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(b - a).count();
  };
  Clock::time_point t0, t1, t2, t3, t4;
  if (time_stages_) t0 = Clock::now();
  const auto s = static_cast<std::size_t>(stage);
  StageSlots& slots = slots_[s];
  const auto batch = static_cast<std::int64_t>(jobs.size());
  for (std::size_t i = 0; i < slots.inputs.size(); ++i) {
    Tensor& stacked = batch_inputs_[slots.inputs[i]];
    stacked.set_batch(batch);
    const std::size_t per = stacked.sample_size();
    for (std::size_t j = 0; j < jobs.size(); ++j) {
      const Tensor& mine = jobs[j]->slots_[slots.inputs[i]];
      std::copy(mine.values().begin(), mine.values().end(), stacked.values().begin() + static_cast<std::ptrdiff_t>(j * per));
    }
    slots.args[i] = &stacked;
  }
  if (time_stages_) t1 = Clock::now();
  const auto outputs = compiled_[s]->run(slots.args);
  if (time_stages_) t2 = Clock::now();
  for (std::size_t i = 0; i < slots.carried_out.size(); ++i)
    for (std::size_t j = 0; j < jobs.size(); ++j) {
      const auto sample = outputs[i]->sample(j);
      std::copy(sample.begin(), sample.end(), jobs[j]->slots_[slots.carried_out[i]].values().begin());
    }
  if (time_stages_) t3 = Clock::now();
  const Tensor& exit = *outputs.back();
  StageTimes& times = times_[s];
  if (const ExitAnswers* answers = compiled_[s]->exit_answers()) {
    // The backend answered on its device: its answers, with the logits, into the ExitResults (the
    // same content post_process would write; assign keeps the vectors' storage).
    const auto classes = static_cast<std::size_t>(answers->classes);
    if (answers->batch != batch || static_cast<std::int64_t>(classes) != exit.dim(1))
      throw Error(fmt::format("{}: stage {}: the backend answered {} rows of {} classes for a batch of {} of {}",
                              graph_.source, stage, answers->batch, classes, batch, exit.dim(1)));
    for (std::size_t j = 0; j < jobs.size(); ++j) {
      ExitResult& r = results[j];
      const auto logits = exit.sample(j);
      const auto probabilities = answers->probabilities.subspan(j * classes, classes);
      r.logits.assign(logits.begin(), logits.end());
      r.probabilities.assign(probabilities.begin(), probabilities.end());
      r.prediction = answers->prediction[j];
      r.confidence = answers->confidence[j];
    }
    times.device_answers += batch;
  } else {
    for (std::size_t j = 0; j < jobs.size(); ++j) post_process(exit.sample(j), confidence_, results[j], temperatures_[s]);
    times.host_answers += batch;
  }
  for (JobState* job : jobs) ++job->stages_done_;
  ++times.runs;
  if (time_stages_) {
    t4 = Clock::now();
    times.stack_ns += ns(t0, t1);
    times.backend_ns += ns(t1, t2);
    times.unstack_ns += ns(t2, t3);
    times.answer_ns += ns(t3, t4);
  }
}

ExitResult MultiExitModel::run_stage(int stage, JobState& job) {
  std::vector<ExitResult> results;
  JobState* one[] = {&job};
  run_stage(stage, one, results);
  return std::move(results.front());
}

std::vector<std::vector<ExitResult>> MultiExitModel::run(const Tensor& input, int stages) {
  const int depth = stages < 0 ? this->stages() : stages;
  if (depth > this->stages())
    throw Error(fmt::format("{}: {} stages requested, the model has {}", graph_.source, depth, this->stages()));
  const Shape& want = input_shape();
  const Shape& have = input.shape();
  bool ok = have.size() == want.size() && !have.empty() && have[0] >= 1;
  for (std::size_t d = 1; ok && d < want.size(); ++d) ok = have[d] == want[d];
  if (!ok)
    throw Error(fmt::format("{}: input '{}' has shape {}, expected {}", graph_.source, graph_.inputs[0].name,
                            to_string(have), to_string(want)));
  const auto n = static_cast<std::size_t>(have[0]);
  Shape one = have;
  one[0] = 1;
  std::vector<JobState> jobs;
  for (std::size_t i = 0; i < n; ++i) {
    const auto sample = input.sample(i);
    jobs.push_back(start(Tensor(one, std::vector<float>(sample.begin(), sample.end()))));
  }
  std::vector<std::vector<ExitResult>> results(static_cast<std::size_t>(depth), std::vector<ExitResult>(n));
  std::vector<JobState*> chunk;
  for (int k = 0; k < depth; ++k) {
    for (std::size_t first = 0; first < n; first += static_cast<std::size_t>(max_batch_)) {
      chunk.clear();
      for (std::size_t i = first; i < std::min(n, first + static_cast<std::size_t>(max_batch_)); ++i) chunk.push_back(&jobs[i]);
      run_stage(k, chunk, std::span<ExitResult>(results[static_cast<std::size_t>(k)]).subspan(first, chunk.size()));
    }
  }
  return results;
}

}  // namespace imprecise::nn
