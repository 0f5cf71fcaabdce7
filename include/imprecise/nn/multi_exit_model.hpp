// MultiExitModel: a multi-exit ONNX network loaded on a backend, run stage by stage per job, with exit post-processing.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "imprecise/backends/exit_result.hpp"
#include "imprecise/nn/backend.hpp"
#include "imprecise/graph/graph.hpp"
#include "imprecise/graph/partition.hpp"
#include "imprecise/graph/tensor.hpp"

namespace imprecise::nn {

// Metadata the model may carry in its ONNX metadata_props (all optional; options override them):
//   "imprecise.mandatory_depth"  integer in [1, exits]: stages every admitted job must finish (default 1)
//   "imprecise.labels"           comma-separated class names, one per logit of every exit
//   "imprecise.exit_names"       comma-separated names, one per exit (default: the graph output names)
inline constexpr const char* kMetaMandatoryDepth = "imprecise.mandatory_depth";
inline constexpr const char* kMetaLabels = "imprecise.labels";
inline constexpr const char* kMetaExitNames = "imprecise.exit_names";

ConfidenceMeasure parse_confidence_measure(const std::string& name);  // "max-prob" | "margin" | "entropy"
const char* to_string(ConfidenceMeasure measure);

/// Softmax, argmax and confidence of one row of logits.
ExitResult post_process(std::span<const float> logits, ConfidenceMeasure measure);
/// The same into `result`, reusing its vectors' storage: no allocation once they have held as many
/// classes (the real-time path writes every exit result this way). `temperature` > 0 divides the
/// logits before the softmax (temperature scaling: calibrates confidence, never changes the argmax).
void post_process(std::span<const float> logits, ConfidenceMeasure measure, ExitResult& result,
                  float temperature = 1.0f);

/// The tensors one job carries between stages (its input and every tensor a later stage reads),
/// allocated once by MultiExitModel::start, so running stages allocates nothing for it.
/// MultiExitModel::restart reuses them for the next job.
class JobState {
 public:
  int stages_done() const { return stages_done_; }

 private:
  friend class MultiExitModel;
  std::vector<Tensor> slots_;  // one per carried tensor of the model, batch 1
  int stages_done_ = 0;
};

class MultiExitModel {
 public:
  struct Options {
    std::string backend = default_backend();  ///< a BackendRegistry name; default: the fastest cpu one
    CompileOptions compile;                ///< max_batch (default 8) and device
    std::optional<int> mandatory_depth;    ///< overrides the metadata
    std::vector<std::string> labels;       ///< overrides the metadata when not empty
    ConfidenceMeasure confidence = ConfidenceMeasure::max_prob;
    std::vector<float> temperatures;       ///< per exit, > 0 (empty: all 1), e.g. from `imprecise profile`
    /// Let the backend answer every exit on its device when it can (cuda: the fused exit-head kernel
    /// in each stage's CUDA graph; see CompiledStage::exit_answers). false, or a backend that cannot
    /// (cpu): the host answers with post_process. The ExitResults are the same either way.
    bool device_exit_head = true;
    /// Time the host phases of run_stage into stage_times() (a few clock reads per call; benchmarks).
    bool time_stages = false;
  };

  /// Per stage, accumulated over run_stage calls since load. The *_ns fields are filled only with
  /// Options::time_stages; the counts always.
  struct StageTimes {
    std::int64_t runs = 0;
    std::int64_t device_answers = 0;  ///< exit results the backend answered itself (ExitAnswers)
    std::int64_t host_answers = 0;    ///< exit results answered on the host (post_process)
    std::int64_t stack_ns = 0;        ///< jobs' carried tensors -> the batch's input tensors
    std::int64_t backend_ns = 0;      ///< CompiledStage::run (its staging and device time: stage_counters)
    std::int64_t unstack_ns = 0;      ///< the batch's carried outputs -> the jobs
    std::int64_t answer_ns = 0;       ///< ExitResults: post_process, or the backend's answers copied in
  };

  /// Reads, prepares, partitions and compiles every stage. Throws Error naming the file/node.
  static MultiExitModel load(const std::string& path, const Options& options);
  static MultiExitModel load(const std::string& path) { return load(path, Options{}); }
  MultiExitModel(Graph graph, const Options& options);

  /// Another instance of this model for another thread: compiled anew from the same (prepared) graph
  /// and options, sharing nothing mutable (its own stage buffers, compiled stages and stage_times()).
  /// Same backend and carry layout, so its run_stage accepts JobStates started by this instance (and
  /// the reverse): a job may run its stages on different replicas. How the Engine runs one model on
  /// several lanes at once.
  MultiExitModel replica() const;

  MultiExitModel(MultiExitModel&&) noexcept;
  MultiExitModel& operator=(MultiExitModel&&) noexcept;
  ~MultiExitModel();

  int stages() const { return static_cast<int>(stage_info_.size()); }
  int mandatory_depth() const { return mandatory_depth_; }
  int max_batch() const { return max_batch_; }
  const std::string& backend() const { return backend_; }
  const std::vector<std::string>& labels() const { return labels_; }
  const std::vector<std::string>& exit_names() const { return exit_names_; }
  const std::vector<float>& temperatures() const { return temperatures_; }
  const std::vector<StageInfo>& stage_info() const { return stage_info_; }
  const Graph& graph() const { return graph_; }
  /// Shape of the model input, batch axis -1.
  const Shape& input_shape() const { return graph_.inputs.front().shape; }
  std::int64_t classes(int exit) const;

  /// A fresh job for one input of shape [1, ...] or the sample shape. Throws Error on a wrong shape.
  JobState start(const Tensor& input) const;
  /// The same into `job`, reusing its tensors: nothing is allocated or zero-filled when `job` last held
  /// a job of this model (a server's job slots do, once warm), since every carried tensor but the input
  /// is written by the stage that produces it before a later one reads it. Throws Error on a wrong shape
  /// and leaves `job` unstarted then.
  void restart(const Tensor& input, JobState& job) const;
  /// Runs stage `stage` for `jobs` as one batch (at most max_batch(); each must have finished exactly
  /// `stage` stages), writes job j's exit into results[j] and advances the jobs. `results` is resized
  /// to jobs.size() and its elements are overwritten in place, reusing their storage: a caller that
  /// keeps `results` across calls of one batch size allocates nothing after the first call.
  void run_stage(int stage, std::span<JobState* const> jobs, std::vector<ExitResult>& results);
  /// The same into the first jobs.size() elements of `results` (which must hold at least that many).
  /// A host whose batch sizes vary keeps max_batch() results and never allocates: shrinking a vector
  /// would free the dropped elements' storage and growing it again would allocate.
  void run_stage(int stage, std::span<JobState* const> jobs, std::span<ExitResult> results);
  ExitResult run_stage(int stage, JobState& job);
  const StageTimes& stage_times(int stage) const { return times_.at(static_cast<std::size_t>(stage)); }
  /// The compiled stage's own counters (runs, device-answered exit rows, staging and device time).
  StageCounters stage_counters(int stage) const { return compiled_.at(static_cast<std::size_t>(stage))->counters(); }
  /// Convenience: runs the first `stages` stages (all when < 0) for a batch [b, ...] (any b; split
  /// into chunks of max_batch()). result[k][i] = exit k of sample i.
  std::vector<std::vector<ExitResult>> run(const Tensor& input, int stages = -1);

 private:
  struct StageSlots;
  struct ReplicaOf {
    const MultiExitModel& original;
  };
  explicit MultiExitModel(ReplicaOf from);
  void compile_stages();

  Graph graph_;
  std::vector<StageInfo> stage_info_;
  std::vector<std::unique_ptr<CompiledStage>> compiled_;
  std::vector<StageSlots> slots_;       // per stage: which carried slots it reads and writes
  std::vector<Shape> carried_shapes_;   // per carried slot, batch axis -1
  std::vector<Tensor> batch_inputs_;    // per carried slot, buffer for max_batch (stacking jobs)
  std::string backend_;
  int max_batch_ = 0;
  int mandatory_depth_ = 1;
  ConfidenceMeasure confidence_ = ConfidenceMeasure::max_prob;
  std::vector<float> temperatures_;  // per exit
  bool time_stages_ = false;
  CompileOptions compile_;        // what every stage was compiled with (a replica compiles the same)
  bool device_exit_head_ = true;
  std::vector<StageTimes> times_;    // per stage
  std::vector<std::string> labels_;
  std::vector<std::string> exit_names_;
};

}  // namespace imprecise::nn
