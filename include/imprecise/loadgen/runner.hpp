// Sends a Schedule to a KServe v2 server (gRPC, or HTTP with binary tensors) open-loop (each request at its time, from client threads,
// without waiting for earlier answers) and records every request's outcome exactly once.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "imprecise/loadgen/inputs.hpp"
#include "imprecise/loadgen/schedule.hpp"

namespace imprecise::loadgen {

/// What happened to one request, as the client saw it.
struct RequestRecord {
  int model = 0, stream = 0, sample = 0, label = -1;
  std::int64_t scheduled_ns = 0;  ///< its arrival time, from the run's start
  std::int64_t send_lag_us = 0;   ///< how late the client sent it after that
  std::int64_t latency_us = -1;   ///< arrival to answer, measured by the client (-1: no answer)
  std::int64_t deadline_us = 0;
  int code = -1;                  ///< gRPC status code (0 OK, 4 DEADLINE_EXCEEDED, 8, 14, ...); over HTTP, mapped to it
  std::string outcome;            ///< the server's: completed, missed, rejected, failed (empty: none came)
  int exit = 0, depth = 0, prediction = -1;
  /// Receipt to answer as the server measured it (its total_us; -1: no answer came). latency_us less
  /// send_lag_us less this is the time on the way there and back: the wire and both gRPC stacks.
  std::int64_t server_us = -1;
  bool correct = false;           ///< completed (OK) and prediction == label, as the in-process run counts
  int answers = 0;                ///< callbacks received: exactly 1 when all is well
};

struct RunnerOptions {
  /// host:port of a KServe v2 gRPC server, or http://host:port of an HTTP one (then tensors go as binary
  /// after the JSON both ways, Triton's binary tensor data extension, as tritonclient sends them).
  std::string target = "127.0.0.1:8001";
  std::string token;
  int clients = 1;  ///< client threads, each with its own connection; request i goes to thread i % clients
  /// HTTP only: connections per client thread, each carrying one request at a time (HTTP/1.1); a request
  /// sent while all are busy waits for one, and that wait comes off its deadline.
  int http_connections = 32;
  /// Start time on the wall clock (ms since the Unix epoch), so several processes share one timeline;
  /// 0: 200 ms after the run begins.
  std::int64_t start_at_unix_ms = 0;
  /// How long past the last deadline to wait for answers before counting the rest as unrecorded.
  std::chrono::milliseconds grace{5000};
};

struct RunResult {
  std::vector<RequestRecord> records;  ///< records[i] is schedule.requests[i]'s
  std::size_t sent = 0;
  std::size_t recorded = 0;  ///< requests with exactly one answer: == sent when all is well
  double wall_s = 0.0;       ///< start to the last answer
};

/// Whether `target` names an HTTP server (http://...) rather than a gRPC one.
bool is_http_target(const std::string& target);

/// Checks every model is ready on the server first (throws Error naming the model and the target when
/// not), sends each client one unrecorded warm-up request per model (its connection and the model's input
/// name, before the clock starts), then runs the schedule. `inputs[m]` serves schedule.models[m].
RunResult run_schedule(const Schedule& schedule, const std::vector<ModelInputs>& inputs, const RunnerOptions& options);

}  // namespace imprecise::loadgen
