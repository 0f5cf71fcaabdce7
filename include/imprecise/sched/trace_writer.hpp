// TraceWriter: an Observer that writes a Chrome trace (JSON; open it in Perfetto or chrome://tracing).
#pragma once

#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "imprecise/sched/observer.hpp"

namespace imprecise {

/// One track per lane with every stage run as a slice ("<model> stage <k>", args: batch, job ids), and a
/// dispatcher track with a marker per drop (shed by the policy), miss, rejection and failure. Times are
/// the host's clock in microseconds (real or simulated). Events go straight to a buffered file (no per-event allocation);
/// the file is complete JSON once the host stopped (on_stop) or close() was called.
class TraceWriter final : public Observer {
 public:
  /// Opens (truncates) `path`; throws Error naming it if it cannot.
  explicit TraceWriter(const std::string& path);
  ~TraceWriter() override;

  /// Ends the JSON and closes the file; later events are ignored. Idempotent.
  void close();
  const std::string& path() const { return path_; }

  void on_start(const HostInfo& host) override;
  void on_stage_done(int lane, ModelId model, int stage, std::span<const JobInfo> jobs, Time start, Time end,
                     bool failed) override;
  void on_drop(const JobInfo& job, Time now) override;
  void on_outcome(const Outcome& outcome) override;
  void on_stop(Time now) override;

 private:
  void begin_event();  // separator; mu_ held
  void write_string(std::string_view text);   // quoted and escaped
  void write_escaped(std::string_view text);  // escaped only
  void marker(const char* name, JobId job, ModelId model, int depth, Time at, std::string_view message);
  std::string_view model_name(ModelId model) const;

  std::mutex mu_;
  std::string path_;
  std::FILE* file_ = nullptr;
  std::vector<char> buffer_;
  bool first_ = true;
  JobId last_drop_ = 0;
  bool has_last_drop_ = false;
  std::vector<std::string> model_names_;
};

}  // namespace imprecise
