// The six RPCs of GRPCInferenceService over an InferenceService.
#include "grpc_inference_service.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <utility>

#include <fmt/core.h>

#include "grpc_codec.hpp"
#include "grpc_status.hpp"

namespace imprecise::serve {
namespace {

/// The call's deadline (system clock; max() when the client set none) on the steady clock.
std::optional<Clock::time_point> transport_deadline(std::chrono::system_clock::time_point due) {
  if (due == std::chrono::system_clock::time_point::max()) return std::nullopt;
  // Capped so the conversion cannot overflow; the core treats anything past max_deadline as none anyway.
  const auto left = std::min<std::chrono::system_clock::duration>(due - std::chrono::system_clock::now(),
                                                                  std::chrono::hours(24));
  return Clock::now() + std::chrono::duration_cast<Clock::duration>(left);
}

/// Compares without an early exit, so the time taken does not tell how much of a guess was right.
bool same_secret(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned>(a[i] ^ b[i]);
  return diff == 0;
}

void add_tensor(const TensorSpec& spec, inference::ModelMetadataResponse::TensorMetadata* out) {
  out->set_name(spec.name);
  out->set_datatype(spec.datatype);
  for (std::int64_t d : spec.shape) out->add_shape(d);
}

}  // namespace

/// One ModelInfer call. OnDone runs once, after Finish and after any cancellation, and is where the
/// reactor goes away. A call the client cancels still gets its Finish when the engine answers (gRPC drops
/// the answer), so the job ends exactly once and nothing leaks.
class GrpcInferenceService::InferReactor final : public grpc::ServerUnaryReactor {
 public:
  explicit InferReactor(GrpcInferenceService& owner) : owner_(owner) {
    std::lock_guard lock(owner_.mutex_);
    ++owner_.in_flight_;
  }
  void OnDone() override {
    GrpcInferenceService& owner = owner_;
    delete this;
    std::lock_guard lock(owner.mutex_);
    if (--owner.in_flight_ == 0) owner.idle_.notify_all();
  }
  void OnCancel() override {}  // the engine answers by the job's deadline anyway; Finish follows then

 private:
  GrpcInferenceService& owner_;
};

void GrpcInferenceService::wait_until_idle() {
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [this] { return in_flight_ == 0; });
}

GrpcInferenceService::GrpcInferenceService(InferenceService& service, std::string token)
    : service_(service), expected_authorization_(token.empty() ? std::string() : "Bearer " + token) {}

grpc::ServerUnaryReactor* GrpcInferenceService::finish(grpc::CallbackServerContext* context, const grpc::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(status);
  return reactor;
}

grpc::Status GrpcInferenceService::authorize(const grpc::CallbackServerContext& context) const {
  if (expected_authorization_.empty()) return grpc::Status::OK;
  const auto& md = context.client_metadata();
  const auto it = md.find("authorization");
  if (it == md.end())
    return {grpc::StatusCode::UNAUTHENTICATED, "authorization: missing, send 'authorization: Bearer <token>'"};
  if (!same_secret(std::string_view(it->second.data(), it->second.size()), expected_authorization_))
    return {grpc::StatusCode::UNAUTHENTICATED, "authorization: the token is not accepted"};
  return grpc::Status::OK;
}

grpc::ServerUnaryReactor* GrpcInferenceService::ServerLive(grpc::CallbackServerContext* context,
                                                           const inference::ServerLiveRequest*,
                                                           inference::ServerLiveResponse* response) {
  if (grpc::Status s = authorize(*context); !s.ok()) return finish(context, s);
  response->set_live(service_.live());
  return finish(context, grpc::Status::OK);
}

grpc::ServerUnaryReactor* GrpcInferenceService::ServerReady(grpc::CallbackServerContext* context,
                                                            const inference::ServerReadyRequest*,
                                                            inference::ServerReadyResponse* response) {
  if (grpc::Status s = authorize(*context); !s.ok()) return finish(context, s);
  response->set_ready(service_.ready());
  return finish(context, grpc::Status::OK);
}

grpc::ServerUnaryReactor* GrpcInferenceService::ModelReady(grpc::CallbackServerContext* context,
                                                           const inference::ModelReadyRequest* request,
                                                           inference::ModelReadyResponse* response) {
  if (grpc::Status s = authorize(*context); !s.ok()) return finish(context, s);
  // An unknown model or version is simply not ready (OK, ready=false), as Triton answers.
  response->set_ready(service_.model_ready(request->name(), request->version()));
  return finish(context, grpc::Status::OK);
}

grpc::ServerUnaryReactor* GrpcInferenceService::ServerMetadata(grpc::CallbackServerContext* context,
                                                               const inference::ServerMetadataRequest*,
                                                               inference::ServerMetadataResponse* response) {
  if (grpc::Status s = authorize(*context); !s.ok()) return finish(context, s);
  response->set_name(service_.server_name());
  response->set_version(service_.server_version());
  for (const std::string& e : service_.extensions()) response->add_extensions(e);
  return finish(context, grpc::Status::OK);
}

grpc::ServerUnaryReactor* GrpcInferenceService::ModelMetadata(grpc::CallbackServerContext* context,
                                                              const inference::ModelMetadataRequest* request,
                                                              inference::ModelMetadataResponse* response) {
  if (grpc::Status s = authorize(*context); !s.ok()) return finish(context, s);
  const ModelInfo* info = service_.model(request->name());
  if (info == nullptr)
    return finish(context, {grpc::StatusCode::NOT_FOUND, fmt::format("name: model '{}' is not served", request->name())});
  if (!request->version().empty() &&
      std::find(info->versions.begin(), info->versions.end(), request->version()) == info->versions.end())
    return finish(context, {grpc::StatusCode::NOT_FOUND, fmt::format("version: model '{}' has no version '{}'",
                                                                     request->name(), request->version())});
  response->set_name(info->name);
  for (const std::string& v : info->versions) response->add_versions(v);
  response->set_platform(info->platform);
  add_tensor(info->input, response->add_inputs());
  add_tensor(info->output, response->add_outputs());
  return finish(context, grpc::Status::OK);
}

grpc::ServerUnaryReactor* GrpcInferenceService::ModelInfer(grpc::CallbackServerContext* context,
                                                           const inference::ModelInferRequest* request,
                                                           inference::ModelInferResponse* response) {
  const Clock::time_point arrival = Clock::now();
  if (grpc::Status s = authorize(*context); !s.ok()) return finish(context, s);
  InferRequest decoded;
  if (Status s = decode_infer_request(*request, decoded); !s.ok()) {
    service_.count_undecoded(request->model_name(), s, arrival);
    return finish(context, to_grpc(s));
  }
  decoded.deadline = transport_deadline(context->deadline());

  auto* reactor = new InferReactor(*this);
  // Runs once: inline for a refusal, else on the service's responder thread. `context` and `response` live until
  // OnDone, which cannot come before this Finish.
  service_.infer(std::move(decoded), [context, response, reactor](InferResponse answer) {
    if (answer.status.ok()) {
      encode_infer_response(answer, *response);
    } else {
      // gRPC sends no message with a non-OK status: what happened (and a missed job's best finished
      // answer) travels as trailing metadata.
      for (auto& [key, value] : trailing_metadata(answer)) context->AddTrailingMetadata(key, value);
    }
    reactor->Finish(to_grpc(answer.status));
  });
  return reactor;
}

}  // namespace imprecise::serve
