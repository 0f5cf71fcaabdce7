// StatusCode -> grpc::StatusCode.
#include "grpc_status.hpp"

namespace imprecise::serve {

grpc::StatusCode grpc_status(StatusCode code) {
  switch (code) {
    case StatusCode::ok: return grpc::StatusCode::OK;
    case StatusCode::invalid_argument: return grpc::StatusCode::INVALID_ARGUMENT;
    case StatusCode::not_found: return grpc::StatusCode::NOT_FOUND;
    case StatusCode::deadline_exceeded: return grpc::StatusCode::DEADLINE_EXCEEDED;
    case StatusCode::resource_exhausted: return grpc::StatusCode::RESOURCE_EXHAUSTED;
    case StatusCode::unavailable: return grpc::StatusCode::UNAVAILABLE;
    case StatusCode::internal: return grpc::StatusCode::INTERNAL;
  }
  return grpc::StatusCode::INTERNAL;
}

grpc::Status to_grpc(const Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return {grpc_status(status.code), status.message};
}

}  // namespace imprecise::serve
