// TraceWriter: Chrome trace-event JSON written incrementally with stdio (slices per lane, outcome markers).
#include "imprecise/sched/trace_writer.hpp"

#include <cinttypes>

#include <fmt/format.h>

#include "imprecise/error.hpp"

namespace imprecise {

namespace {
constexpr int kPid = 1;
constexpr int kDispatcherTid = 0;  // lane l is tid l + 1
double to_trace_us(Time t) { return static_cast<double>(t) / 1e3; }
}  // namespace

TraceWriter::TraceWriter(const std::string& path) : path_(path), buffer_(1 << 20) {
  file_ = std::fopen(path.c_str(), "w");
  if (file_ == nullptr) throw Error(fmt::format("trace: cannot open '{}' for writing", path));
  std::setvbuf(file_, buffer_.data(), _IOFBF, buffer_.size());
  std::fputs("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n", file_);
}

TraceWriter::~TraceWriter() { close(); }

void TraceWriter::close() {
  std::lock_guard lock(mu_);
  if (file_ == nullptr) return;
  std::fputs("\n]}\n", file_);
  std::fclose(file_);
  file_ = nullptr;
}

void TraceWriter::begin_event() {
  if (!first_) std::fputs(",\n", file_);
  first_ = false;
}

void TraceWriter::write_string(std::string_view text) {
  std::fputc('"', file_);
  write_escaped(text);
  std::fputc('"', file_);
}

void TraceWriter::write_escaped(std::string_view text) {
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      std::fputc('\\', file_);
      std::fputc(c, file_);
    } else if (u < 0x20) {
      std::fprintf(file_, "\\u%04x", static_cast<unsigned>(u));
    } else {
      std::fputc(c, file_);
    }
  }
}

std::string_view TraceWriter::model_name(ModelId model) const {
  if (model < 0 || static_cast<std::size_t>(model) >= model_names_.size()) return "?";
  return model_names_[static_cast<std::size_t>(model)];
}

void TraceWriter::on_start(const HostInfo& host) {
  std::lock_guard lock(mu_);
  if (file_ == nullptr) return;
  model_names_.clear();
  for (const Model& m : host.models) model_names_.push_back(m.name);
  begin_event();
  std::fprintf(file_, "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":%d,\"tid\":0,\"args\":{\"name\":", kPid);
  write_string(fmt::format("imprecise {} ({})", host.host, host.policy));
  std::fputs("}}", file_);
  const auto thread_name = [&](int tid, const std::string& name) {
    begin_event();
    std::fprintf(file_, "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":%d,\"tid\":%d,\"args\":{\"name\":", kPid, tid);
    write_string(name);
    std::fputs("}}", file_);
    begin_event();
    std::fprintf(file_, "{\"name\":\"thread_sort_index\",\"ph\":\"M\",\"pid\":%d,\"tid\":%d,\"args\":{\"sort_index\":%d}}",
                 kPid, tid, tid);
  };
  thread_name(kDispatcherTid, "dispatcher");
  for (int l = 0; l < host.lanes; ++l) thread_name(l + 1, fmt::format("lane {}", l));
}

void TraceWriter::on_stage_done(int lane, ModelId model, int stage, std::span<const JobInfo> jobs, Time start, Time end,
                                bool failed) {
  std::lock_guard lock(mu_);
  if (file_ == nullptr) return;
  begin_event();
  std::fputs("{\"name\":", file_);
  const std::string_view name = model_name(model);
  std::fputc('"', file_);
  write_escaped(name);
  std::fprintf(file_, " stage %d\"", stage);
  std::fprintf(file_, ",\"cat\":\"stage\",\"ph\":\"X\",\"pid\":%d,\"tid\":%d,\"ts\":%.3f,\"dur\":%.3f,\"args\":{\"model\":",
               kPid, lane + 1, to_trace_us(start), to_trace_us(end - start));
  write_string(name);
  std::fprintf(file_, ",\"stage\":%d,\"batch\":%zu,\"failed\":%s,\"jobs\":[", stage, jobs.size(), failed ? "true" : "false");
  for (std::size_t i = 0; i < jobs.size(); ++i) std::fprintf(file_, i ? ",%" PRIu32 : "%" PRIu32, jobs[i].id);
  std::fputs("]}}", file_);
}

void TraceWriter::marker(const char* name, JobId job, ModelId model, int depth, Time at, std::string_view message) {
  begin_event();
  std::fprintf(file_,
               "{\"name\":\"%s\",\"cat\":\"outcome\",\"ph\":\"i\",\"s\":\"t\",\"pid\":%d,\"tid\":%d,\"ts\":%.3f,"
               "\"args\":{\"job\":%" PRIu32 ",\"model\":",
               name, kPid, kDispatcherTid, to_trace_us(at), job);
  write_string(model_name(model));
  std::fprintf(file_, ",\"depth\":%d,\"message\":", depth);
  write_string(message);
  std::fputs("}}", file_);
}

void TraceWriter::on_drop(const JobInfo& job, Time now) {
  std::lock_guard lock(mu_);
  if (file_ == nullptr) return;
  marker("drop", job.id, job.model, job.depth, now, "shed by the policy under overload");
  last_drop_ = job.id;
  has_last_drop_ = true;
}

void TraceWriter::on_outcome(const Outcome& o) {
  std::lock_guard lock(mu_);
  if (file_ == nullptr) return;
  const char* name = nullptr;
  switch (o.status) {
    case OutcomeStatus::completed: return;
    case OutcomeStatus::missed: name = "miss"; break;
    case OutcomeStatus::rejected:
      if (has_last_drop_ && last_drop_ == o.job) {  // already marked as a drop
        has_last_drop_ = false;
        return;
      }
      name = "reject";
      break;
    case OutcomeStatus::failed: name = "fail"; break;
  }
  marker(name, o.job, o.model, o.depth, o.finish, o.message);
}

void TraceWriter::on_stop(Time) { close(); }

}  // namespace imprecise
