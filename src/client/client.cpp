// imprecise::client::Client over the generated GRPCInferenceService stub: blocking calls with
// ClientContext::set_deadline, async ones on the stub's callback API.
#include "imprecise/client/client.hpp"

#include <condition_variable>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include <fmt/core.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include "client_codec.hpp"
#include "imprecise/error.hpp"
#include "inference/grpc_predict_v2.grpc.pb.h"

namespace imprecise::client {
namespace {

std::shared_ptr<grpc::ChannelCredentials> credentials(const ClientOptions& options) {
  if (options.tls_root_cert_file.empty()) return grpc::InsecureChannelCredentials();
  std::ifstream in(options.tls_root_cert_file, std::ios::binary);
  std::stringstream pem;
  pem << in.rdbuf();
  if (!in || pem.str().empty())
    throw Error(fmt::format("client: cannot read the TLS root certificate '{}'", options.tls_root_cert_file));
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = pem.str();
  return grpc::SslCredentials(ssl);
}

/// The result of a call that failed before any answer: its gRPC status only.
InferResult failed(const grpc::Status& status) {
  InferResult r;
  r.code = static_cast<int>(status.error_code());
  r.message = status.error_message();
  return r;
}

}  // namespace

struct Client::Impl {
  ClientOptions options;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<inference::GRPCInferenceService::Stub> stub;

  std::mutex mutex;
  std::condition_variable idle;
  int in_flight = 0;                               ///< async calls not yet answered
  std::map<std::string, std::string> input_names;  ///< model -> its input tensor's name (from metadata)

  explicit Impl(ClientOptions o)
      : options(std::move(o)),
        channel(grpc::CreateChannel(options.target, credentials(options))),
        stub(inference::GRPCInferenceService::NewStub(channel)) {}

  void prepare(grpc::ClientContext& context, std::chrono::microseconds timeout) const {
    context.set_deadline(std::chrono::system_clock::now() + timeout);
    if (!options.token.empty()) context.AddMetadata("authorization", "Bearer " + options.token);
  }

  /// The model's input name, asked once with ModelMetadata (the server checks it; the API does not ask
  /// the caller for it). On failure, `status` says why.
  std::string input_name(const std::string& model, std::chrono::microseconds timeout, grpc::Status& status) {
    {
      std::lock_guard lock(mutex);
      if (auto it = input_names.find(model); it != input_names.end()) return it->second;
    }
    grpc::ClientContext context;
    prepare(context, timeout);
    inference::ModelMetadataRequest request;
    request.set_name(model);
    inference::ModelMetadataResponse response;
    status = stub->ModelMetadata(&context, request, &response);
    if (!status.ok()) return {};
    if (response.inputs_size() == 0) {
      status = grpc::Status(grpc::StatusCode::INTERNAL, fmt::format("model '{}' reports no input", model));
      return {};
    }
    std::lock_guard lock(mutex);
    return input_names[model] = response.inputs(0).name();
  }
};

Client::Client(ClientOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Client::~Client() {
  std::unique_lock lock(impl_->mutex);
  impl_->idle.wait(lock, [this] { return impl_->in_flight == 0; });
}

bool Client::live(std::chrono::milliseconds timeout) {
  grpc::ClientContext context;
  impl_->prepare(context, timeout);
  inference::ServerLiveResponse response;
  return impl_->stub->ServerLive(&context, {}, &response).ok() && response.live();
}

bool Client::ready(std::chrono::milliseconds timeout) {
  grpc::ClientContext context;
  impl_->prepare(context, timeout);
  inference::ServerReadyResponse response;
  return impl_->stub->ServerReady(&context, {}, &response).ok() && response.ready();
}

bool Client::model_ready(const std::string& model, std::chrono::milliseconds timeout) {
  grpc::ClientContext context;
  impl_->prepare(context, timeout);
  inference::ModelReadyRequest request;
  request.set_name(model);
  inference::ModelReadyResponse response;
  return impl_->stub->ModelReady(&context, request, &response).ok() && response.ready();
}

ModelMetadata Client::metadata(const std::string& model, std::chrono::milliseconds timeout) {
  grpc::ClientContext context;
  impl_->prepare(context, timeout);
  inference::ModelMetadataRequest request;
  request.set_name(model);
  inference::ModelMetadataResponse response;
  const grpc::Status status = impl_->stub->ModelMetadata(&context, request, &response);
  if (!status.ok())
    throw Error(fmt::format("client: metadata of model '{}' failed (gRPC status {}): {}", model,
                            static_cast<int>(status.error_code()), status.error_message()));
  ModelMetadata m{response.name(), response.platform(), {response.versions().begin(), response.versions().end()}, {}, {}};
  for (const auto& t : response.inputs()) m.inputs.push_back({t.name(), t.datatype(), {t.shape().begin(), t.shape().end()}});
  for (const auto& t : response.outputs())
    m.outputs.push_back({t.name(), t.datatype(), {t.shape().begin(), t.shape().end()}});
  return m;
}

InferResult Client::infer(const std::string& model, std::span<const float> input, std::span<const std::int64_t> shape,
                          std::chrono::microseconds deadline) {
  const auto due = std::chrono::system_clock::now() + deadline;
  grpc::Status status;
  const std::string name = impl_->input_name(model, deadline, status);
  if (!status.ok()) return failed(status);
  grpc::ClientContext context;
  impl_->prepare(context, std::chrono::duration_cast<std::chrono::microseconds>(due - std::chrono::system_clock::now()));
  inference::ModelInferResponse response;
  status = impl_->stub->ModelInfer(&context, make_infer_request(model, name, input, shape), &response);
  InferResult result = failed(status);
  if (status.ok())
    read_response(response, result);
  else
    read_trailing_metadata(context.GetServerTrailingMetadata(), result);
  return result;
}

void Client::infer_async(const std::string& model, std::span<const float> input, std::span<const std::int64_t> shape,
                         std::chrono::microseconds deadline, Done done) {
  const auto due = std::chrono::system_clock::now() + deadline;
  grpc::Status status;
  // Blocks only on a model's first call (its input name); later calls never wait here.
  const std::string name = impl_->input_name(model, deadline, status);
  if (!status.ok()) {
    done(failed(status));
    return;
  }
  // What the call needs until its callback: the context, the messages and `done`.
  struct Call {
    grpc::ClientContext context;
    inference::ModelInferRequest request;
    inference::ModelInferResponse response;
    Done done;
  };
  auto* call = new Call;
  call->request = make_infer_request(model, name, input, shape);
  call->done = std::move(done);
  impl_->prepare(call->context,
                 std::chrono::duration_cast<std::chrono::microseconds>(due - std::chrono::system_clock::now()));
  {
    std::lock_guard lock(impl_->mutex);
    ++impl_->in_flight;
  }
  Impl* impl = impl_.get();
  impl->stub->async()->ModelInfer(&call->context, &call->request, &call->response, [impl, call](grpc::Status s) {
    InferResult result = failed(s);
    if (s.ok())
      read_response(call->response, result);
    else
      read_trailing_metadata(call->context.GetServerTrailingMetadata(), result);
    call->done(std::move(result));
    delete call;
    // Last: once in_flight reaches 0 the destructor may free `impl`.
    std::lock_guard lock(impl->mutex);
    --impl->in_flight;
    impl->idle.notify_all();
  });
}

}  // namespace imprecise::client
