// aimd: Clipper's adaptive batching, additive increase and multiplicative decrease of each model's max batch.
#include <algorithm>

#include "controllers_impl.hpp"

namespace imprecise::control::detail {

namespace {

/// Per model and interval: +1 (up to config.max_batch) after a calm window (at most 0.5 % of the
/// jobs answered missed, rejected or failed), halved (down to 1) otherwise; held over a window that
/// answered nothing. Starts at 1 (the starting choice, interval 0).
/// Never waits for a batch to fill and lets every model use all lanes: Clipper tunes the batch only.
class AimdController final : public Controller {
 public:
  static constexpr double kTolerance = 0.005;  ///< violations per job answered still "calm" (0.5 %)
  explicit AimdController(int max_batch) : max_batch_(std::max(1, max_batch)) {}
  std::string_view name() const override { return "aimd"; }
  void decide(const ControlObservation& observation, std::span<ModelControl> next) override {
    for (std::size_t m = 0; m < next.size(); ++m) {
      ModelControl& c = next[m];
      int batch = std::clamp(c.max_batch > 0 ? c.max_batch : max_batch_, 1, max_batch_);
      if (observation.interval <= 0) {
        batch = 1;
      } else if (m < observation.models.size()) {
        const ModelWindow& w = observation.models[m];
        // The SLO signal is the violations, not the latency: an anytime policy answers every admitted
        // job by its deadline and spends the slack on depth, so its p99 sits near the SLO by design
        // (with the latency rule aimd halved at every window and stayed at batch 1).
        const double share = w.answered > 0 ? double(w.missed + w.rejected + w.failed) / w.answered : 0.0;
        const bool violated = share > kTolerance;
        const bool calm = !violated && w.answered > 0;
        if (violated) batch = std::max(1, batch / 2);
        else if (calm) batch = std::min(max_batch_, batch + 1);
      }
      c = ModelControl{batch, 0, 0};
    }
  }

 private:
  int max_batch_;
};

}  // namespace

std::unique_ptr<Controller> make_aimd(const ControllerConfig& config) {
  return std::make_unique<AimdController>(config.max_batch);
}

}  // namespace imprecise::control::detail
