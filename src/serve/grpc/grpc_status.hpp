// The one mapping from the service's StatusCode to gRPC's status codes.
#pragma once

#include <grpcpp/support/status.h>

#include "imprecise/serve/inference.hpp"

namespace imprecise::serve {

/// OK, INVALID_ARGUMENT, NOT_FOUND, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, UNAVAILABLE, INTERNAL: the
/// names match one to one.
grpc::StatusCode grpc_status(StatusCode code);
grpc::Status to_grpc(const Status& status);

}  // namespace imprecise::serve
