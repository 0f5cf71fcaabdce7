// Outcome: how a job ended. Every submitted job ends with exactly one.
#pragma once

#include <string>
#include <vector>

#include "imprecise/core/job.hpp"
#include "imprecise/core/time.hpp"

namespace imprecise {

enum class OutcomeStatus {
  completed,  ///< answered from a finished exit with the mandatory part done
  missed,     ///< mandatory part not done by the deadline
  rejected,   ///< refused at admission or shed by the policy under overload
  failed,     ///< an error; see message
};

const char* to_string(OutcomeStatus status);

struct Outcome {
  JobId job = 0;
  OutcomeStatus status = OutcomeStatus::failed;
  int depth = 0;             ///< exits finished when the answer was given (0 if none)
  int exit = 0;              ///< exit the answer came from (0 if none)
  double confidence = 0.0;   ///< confidence at that exit
  bool correct = false;      ///< known in simulation/evaluation; false for anything but completed
  Time finish = 0;           ///< when the outcome was decided
  std::string message;       ///< reason for rejected/failed

  // Filled by the real-time runtime (runtime/engine.hpp); the simulator leaves the defaults.
  ModelId model = 0;         ///< which model served the job
  int prediction = -1;       ///< class index answered at `exit` (-1 when no exit finished)
  Time release = 0;          ///< when the job was submitted
  Time deadline = 0;         ///< its absolute deadline
  Time start = kNever;       ///< when its first stage was dispatched (kNever: never ran)
  Duration run = 0;          ///< time the stages it took part in ran on a lane (a batch's time counts for each job)
  std::vector<float> logits; ///< the answering exit's logits (runtime::EngineConfig::keep_logits; else empty)

  /// Time spent waiting before the first stage ran (up to `finish` when it never ran).
  Duration queued() const { return (start == kNever ? finish : start) - release; }
  /// deadline - finish: >= 0 when answered by the deadline.
  Duration slack() const { return deadline - finish; }
};

}  // namespace imprecise
