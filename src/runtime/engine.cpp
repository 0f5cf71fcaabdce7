// Engine: construction (models checked, buffers sized, policy warmed up, threads started) and the public façade.
#include "imprecise/runtime/engine.hpp"

#include <algorithm>
#include <limits>
#include <utility>

#include <fmt/format.h>

#include "engine_impl.hpp"
#include "imprecise/error.hpp"

namespace imprecise::runtime {

namespace {

/// More lanes than this is a configuration mistake, not a machine.
constexpr int kMaxLanes = 1024;

/// now + within, saturating at time_point::max() (a deadline "never").
Clock::time_point deadline_in(Clock::duration within) {
  const Clock::time_point now = Clock::now();
  if (within > Clock::time_point::max() - now) return Clock::time_point::max();
  return now + within;
}

}  // namespace

Engine::Impl::Impl(std::vector<ServedModel> models, EngineConfig config)
    : config_(std::move(config)),
      deadlines_(std::max<std::size_t>(config_.max_pending, 1)),
      online_(std::vector<Model>{}, OnlineProfileConfig{false, false, 1, 1, 1}) {
  if (models.empty()) throw Error("engine: no models given");
  if (config_.max_pending < 1 || config_.max_pending > (std::size_t{1} << 20))
    throw Error(fmt::format("engine: max_pending is {}, must be in [1, {}]", config_.max_pending, std::size_t{1} << 20));
  if (config_.lanes < 1 || config_.lanes > kMaxLanes)
    throw Error(fmt::format("engine: lanes is {}, must be in [1, {}]", config_.lanes, kMaxLanes));
  config_.policy_config.lanes = config_.lanes;
  for (std::size_t m = 0; m < models.size(); ++m) {
    ServedModel& served = models[m];
    Model& d = served.description;
    const std::string name = d.name.empty() ? fmt::format("model {}", m) : d.name;
    if (d.stages() != served.network.stages())
      throw Error(fmt::format("engine: model '{}': description has {} stages, the network {}", name, d.stages(),
                              served.network.stages()));
    if (d.utility.exits() != d.stages())
      throw Error(fmt::format("engine: model '{}': utility has {} exits, the model {} stages (see nn::describe)", name,
                              d.utility.exits(), d.stages()));
    if (d.profile.max_batch() > served.network.max_batch())
      throw Error(fmt::format("engine: model '{}': profile has batch {} but the network was compiled for at most {}",
                              name, d.profile.max_batch(), served.network.max_batch()));
    for (std::size_t c = 0; c < d.concurrent.size(); ++c) {
      const Profile& table = d.concurrent[c];
      if (table.stages() != d.stages())
        throw Error(fmt::format("engine: model '{}': concurrent[{}] (lanes {}) has {} stages, the model {}", name, c,
                                c + 2, table.stages(), d.stages()));
      if (table.max_batch() > served.network.max_batch())
        throw Error(fmt::format("engine: model '{}': concurrent[{}] (lanes {}) has batch {} but the network was "
                                "compiled for at most {}", name, c, c + 2, table.max_batch(), served.network.max_batch()));
    }
    if (d.name.empty()) d.name = name;
    max_stages_ = std::max(max_stages_, d.stages());
    plan_models_.push_back(std::move(d));
    networks_.push_back(std::move(served.network));
  }
  policy_ = make_policy(config_.policy, plan_models_, config_.policy_config);
  policy_name_ = std::string(policy_->name());
  {
    // The online profile measures at the engine's concurrency: its columns are the planned table's.
    std::vector<Model> measured = plan_models_;
    for (std::size_t m = 0; m < measured.size(); ++m) measured[m].profile = planned(static_cast<ModelId>(m));
    online_ = detail::OnlineProfile(measured, config_.online_profile);
  }
  for (const auto& o : config_.observers)
    if (!o) throw Error("engine: observers holds a null pointer");

  const std::size_t n = config_.max_pending;
  slots_.resize(n);
  free_.reset(n, networks_.size());
  inbox_.reserve(n);
  arrivals_.reserve(n);
  freeing_.reserve(n);
  // Every buffer a stage's results need, sized for the largest batch and the widest exit.
  int max_batch = 1;
  std::size_t max_classes = 1;
  for (const auto& net : networks_) {
    max_batch = std::max(max_batch, net.max_batch());
    for (int k = 0; k < net.stages(); ++k) max_classes = std::max(max_classes, static_cast<std::size_t>(net.classes(k)));
  }
  for (std::size_t i = 0; i < n; ++i) {
    slots_[i].exits.resize(static_cast<std::size_t>(max_stages_));
    if (config_.keep_logits) {
      slots_[i].logits.resize(static_cast<std::size_t>(max_stages_));
      for (auto& l : slots_[i].logits) l.reserve(max_classes);
    }
  }
  confidence_.resize(static_cast<std::size_t>(max_batch));
  lanes_ = std::vector<Lane>(static_cast<std::size_t>(config_.lanes));
  for (std::size_t l = 1; l < lanes_.size(); ++l)
    for (const nn::MultiExitModel& net : networks_) lanes_[l].replicas.push_back(net.replica());
  for (Lane& lane : lanes_) {
    lane.states.resize(static_cast<std::size_t>(max_batch));
    lane.results.resize(static_cast<std::size_t>(max_batch));
    for (nn::ExitResult& r : lane.results) {
      r.logits.reserve(max_classes);
      r.probabilities.reserve(max_classes);
    }
  }
  PolicyHostConfig host;
  host.slots = n;
  host.lanes = static_cast<int>(lanes_.size());
  for (std::size_t m = 0; m < plan_models_.size(); ++m)
    host.max_batch.push_back(
        std::min({config_.policy_config.max_batch, planned(static_cast<ModelId>(m)).max_batch(), networks_[m].max_batch()}));
  const int widest = *std::max_element(host.max_batch.begin(), host.max_batch.end());
  host_.emplace(*policy_, plan_models_, std::move(host), *this);
  warm_up_policy();
  std::vector<std::shared_ptr<Observer>> observers = config_.observers;
  if (config_.controller && config_.make_controller)
    throw Error("engine: both controller and make_controller are set; give one");
  if (config_.controller || config_.make_controller) {
    ControllerConfig control = config_.control;
    control.lanes = static_cast<int>(lanes_.size());
    control.max_batch = widest;
    std::shared_ptr<Controller> controller =
        config_.controller ? config_.controller : config_.make_controller(plan_models_, control);
    if (controller == nullptr) throw Error("engine: make_controller returned no controller");
    control_.emplace(share_controller(std::move(controller)), plan_models_, std::move(control));
    observers.push_back(control_->observer());
  }
  host_->set_observers(std::move(observers));  // after the warm-up: observers see real jobs only
}

Profile& Engine::Impl::planned(ModelId model) {
  return const_cast<Profile&>(std::as_const(*this).planned(model));  // one rule for both
}

const Profile& Engine::Impl::planned(ModelId model) const {
  return plan_models_[static_cast<std::size_t>(model)].profile_at(config_.lanes);
}

nn::MultiExitModel& Engine::Impl::network_of(int lane, ModelId model) {
  const auto m = static_cast<std::size_t>(model);
  return lane == 0 ? networks_[m] : lanes_[static_cast<std::size_t>(lane)].replicas[m];
}

Time Engine::Impl::now() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - epoch_).count();
}

Engine::Engine(std::vector<ServedModel> models, EngineConfig config)
    : impl_(std::make_unique<Impl>(std::move(models), std::move(config))) {
  Impl& im = *impl_;
  const HostInfo info{im.plan_models_, static_cast<int>(im.lanes_.size()), im.policy_name_, im.config_.max_pending};
  im.host_->notify([&](Observer& ob) { ob.on_start(info); });
  if (im.control_) {  // no thread runs yet
    im.next_control_ = im.control_->start(im.now(), *im.policy_);
    im.wake_at_ = im.next_control_;  // the intervals go on while no job comes, as the simulator's do
  }
  for (std::size_t l = 0; l < im.lanes_.size(); ++l)
    im.lanes_[l].thread = std::thread([&im, l] { im.lane_main(static_cast<int>(l)); });
  im.dispatcher_ = std::thread([&im] { im.dispatcher_main(); });
}

Engine::~Engine() { stop(impl_->config_.stop); }

std::vector<ControlRecord> Engine::control_history() const {
  std::lock_guard sched(impl_->sched_mu_);
  return impl_->control_ ? impl_->control_->history() : std::vector<ControlRecord>{};
}

std::optional<ControlStatus> Engine::control_status() const {
  std::lock_guard sched(impl_->sched_mu_);
  if (!impl_->control_) return std::nullopt;
  return impl_->control_->status();
}

void Engine::stop() { stop(impl_->config_.stop); }

void Engine::stop(StopMode mode) {
  Impl& im = *impl_;
  {
    std::lock_guard lock(im.mu_);
    if (!im.stop_requested_) {
      im.stop_requested_ = true;
      im.stop_mode_ = mode;
    } else if (mode == StopMode::cancel) {
      im.stop_mode_ = StopMode::cancel;  // a cancel overrides a drain in progress
    }
  }
  im.cv_.notify_one();
  if (serving_engine == &im) return;  // from a callback on an engine thread: it cannot wait for itself
  std::lock_guard join(im.join_mu_);
  if (im.dispatcher_.joinable()) im.dispatcher_.join();
  for (Lane& l : im.lanes_)
    if (l.thread.joinable()) l.thread.join();
}

std::future<Outcome> Engine::submit(ModelId model, const nn::Tensor& input, Clock::time_point deadline, double weight) {
  std::promise<Outcome> promise;
  std::future<Outcome> future = promise.get_future();
  impl_->submit(model, input, to_time(deadline), weight, &promise, nullptr);
  return future;
}

std::future<Outcome> Engine::submit(ModelId model, const nn::Tensor& input, Clock::duration within, double weight) {
  return submit(model, input, deadline_in(within), weight);
}

JobId Engine::submit(ModelId model, const nn::Tensor& input, Clock::time_point deadline, Callback on_outcome,
                     double weight) {
  return impl_->submit(model, input, to_time(deadline), weight, nullptr, &on_outcome);
}

JobId Engine::submit(ModelId model, const nn::Tensor& input, Clock::duration within, Callback on_outcome,
                     double weight) {
  return submit(model, input, deadline_in(within), std::move(on_outcome), weight);
}

Time Engine::now() const { return impl_->now(); }
Time Engine::to_time(Clock::time_point t) const {
  // Saturating: time_point::max() (or anything beyond the clock's range) is kNever, never an overflow.
  if (t == Clock::time_point::max()) return kNever;
  const std::int64_t a = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  const std::int64_t b = std::chrono::duration_cast<std::chrono::nanoseconds>(impl_->epoch_.time_since_epoch()).count();
  std::int64_t d = 0;
  if (__builtin_sub_overflow(a, b, &d)) return a > b ? kNever : std::numeric_limits<Time>::min();
  return d;
}
Clock::time_point Engine::to_time_point(Time t) const { return impl_->epoch_ + std::chrono::nanoseconds(t); }
std::size_t Engine::models() const { return impl_->networks_.size(); }
const nn::MultiExitModel& Engine::network(ModelId model) const {
  return impl_->networks_.at(static_cast<std::size_t>(model));
}
Profile Engine::profile(ModelId model) const {
  std::lock_guard lock(impl_->profile_mu_);
  (void)impl_->plan_models_.at(static_cast<std::size_t>(model));  // range check
  return impl_->planned(model);
}
const std::string& Engine::policy_name() const { return impl_->policy_name_; }
std::size_t Engine::max_pending() const { return impl_->config_.max_pending; }
int Engine::lanes() const { return static_cast<int>(impl_->lanes_.size()); }
std::int64_t Engine::protocol_violations() const { return impl_->host_->protocol_violations(); }

}  // namespace imprecise::runtime
