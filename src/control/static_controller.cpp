// static: the Triton-like baseline, one fixed setting (max batch, max queue delay, instance count) for every model.
#include "controllers_impl.hpp"

namespace imprecise::control::detail {

namespace {

class StaticController final : public Controller {
 public:
  explicit StaticController(const ModelControl& fixed) : fixed_(fixed) {}
  std::string_view name() const override { return "static"; }
  void decide(const ControlObservation&, std::span<ModelControl> next) override {
    for (ModelControl& c : next) c = fixed_;
  }

 private:
  ModelControl fixed_;
};

}  // namespace

std::unique_ptr<Controller> make_static(const ControllerConfig& config) {
  return std::make_unique<StaticController>(config.fixed);
}

}  // namespace imprecise::control::detail
