// GRPCInferenceService on the callback API: every RPC answers through a reactor, so ModelInfer holds no
// thread while its job waits in the engine; the InferenceService's `done` finishes the call.
#pragma once

#include <condition_variable>
#include <mutex>
#include <string>

#include "imprecise/serve/inference_service.hpp"
#include "inference/grpc_predict_v2.grpc.pb.h"

namespace imprecise::serve {

class GrpcInferenceService final : public inference::GRPCInferenceService::CallbackService {
 public:
  /// `token` non-empty: every call must carry `authorization: Bearer <token>` (else UNAUTHENTICATED).
  GrpcInferenceService(InferenceService& service, std::string token);

  grpc::ServerUnaryReactor* ServerLive(grpc::CallbackServerContext* context, const inference::ServerLiveRequest* request,
                                       inference::ServerLiveResponse* response) override;
  grpc::ServerUnaryReactor* ServerReady(grpc::CallbackServerContext* context,
                                        const inference::ServerReadyRequest* request,
                                        inference::ServerReadyResponse* response) override;
  grpc::ServerUnaryReactor* ModelReady(grpc::CallbackServerContext* context, const inference::ModelReadyRequest* request,
                                       inference::ModelReadyResponse* response) override;
  grpc::ServerUnaryReactor* ServerMetadata(grpc::CallbackServerContext* context,
                                           const inference::ServerMetadataRequest* request,
                                           inference::ServerMetadataResponse* response) override;
  grpc::ServerUnaryReactor* ModelMetadata(grpc::CallbackServerContext* context,
                                          const inference::ModelMetadataRequest* request,
                                          inference::ModelMetadataResponse* response) override;
  grpc::ServerUnaryReactor* ModelInfer(grpc::CallbackServerContext* context, const inference::ModelInferRequest* request,
                                       inference::ModelInferResponse* response) override;

  /// Blocks until every ModelInfer call has finished and been released (OnDone): the server shuts down
  /// only then, so the service's responder never finishes a call of a server that is gone.
  void wait_until_idle();

 private:
  class InferReactor;
  /// The call's token check; OK when no token is configured.
  grpc::Status authorize(const grpc::CallbackServerContext& context) const;
  /// Finishes a call at once (metadata RPCs and refusals before the engine).
  static grpc::ServerUnaryReactor* finish(grpc::CallbackServerContext* context, const grpc::Status& status);

  InferenceService& service_;
  std::string expected_authorization_;  ///< "Bearer <token>", empty: no check
  std::mutex mutex_;
  std::condition_variable idle_;
  int in_flight_ = 0;  ///< ModelInfer reactors not yet done
};

}  // namespace imprecise::serve
