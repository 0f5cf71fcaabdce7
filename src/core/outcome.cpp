// Outcome: names of the outcome statuses (for logs, metrics and the CLI).
#include "imprecise/core/outcome.hpp"

namespace imprecise {

const char* to_string(OutcomeStatus status) {
  switch (status) {
    case OutcomeStatus::completed: return "completed";
    case OutcomeStatus::missed: return "missed";
    case OutcomeStatus::rejected: return "rejected";
    case OutcomeStatus::failed: return "failed";
  }
  return "unknown";
}

}  // namespace imprecise
