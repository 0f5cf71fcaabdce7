// Engine submit path (any thread): checks, the job-slot pool (ids carry slot and generation), the inbox.
#include <cmath>

#include <fmt/format.h>

#include "engine_impl.hpp"

namespace imprecise::runtime {

namespace {
/// Deadlines further than this from submit are clamped to it (~52 days).
constexpr Duration kMaxHorizon = Duration{1} << 52;
}  // namespace

void Engine::Impl::answer_now(Outcome o, std::promise<Outcome>* promise, Callback* callback) {
  host_->notify([&](Observer& ob) { ob.on_outcome(o); });
  if (promise != nullptr) {
    promise->set_value(std::move(o));
  } else if (callback != nullptr && *callback) {
    try {
      (*callback)(std::move(o));
    } catch (...) {  // a caller's callback must not take the engine down
    }
  }
}

JobId Engine::Impl::submit(ModelId model, const nn::Tensor& input, Time deadline, double weight,
                           std::promise<Outcome>* promise, Callback* callback) {
  const Time release = now();
  const auto refuse = [&](OutcomeStatus status, std::string message) {
    Outcome o;
    o.job = kNotAdmitted;
    o.status = status;
    o.model = model;
    o.release = release;
    o.deadline = deadline;
    o.finish = now();
    o.message = std::move(message);
    answer_now(std::move(o), promise, callback);
    return kNotAdmitted;
  };
  if (model < 0 || static_cast<std::size_t>(model) >= networks_.size())
    return refuse(OutcomeStatus::failed, fmt::format("unknown model {} (the engine serves {})", model, networks_.size()));
  if (!(weight > 0.0) || !std::isfinite(weight))
    return refuse(OutcomeStatus::failed, fmt::format("weight is {}, must be > 0", weight));
  // The planners do arithmetic on deadlines (slack plus large offsets): keep them in a safe range.
  deadline = std::min(deadline, release + kMaxHorizon);
  if (deadline <= release)
    return refuse(OutcomeStatus::rejected, fmt::format("deadline already passed at submit ({:.3f} ms ago)",
                                                       (static_cast<double>(release) - static_cast<double>(deadline)) / 1e6));
  std::uint32_t index = 0;
  {
    std::lock_guard lock(mu_);
    if (stop_requested_) return refuse(OutcomeStatus::rejected, "engine is stopping");
    const std::optional<std::uint32_t> free = free_.take(model);
    if (!free) return refuse(OutcomeStatus::rejected, fmt::format("queue full: {} jobs pending (max_pending)", config_.max_pending));
    index = *free;
  }
  Slot& s = slots_[index];
  const auto give_back = [&] {
    std::lock_guard lock(mu_);
    free_.give_back(index, s.shaped_for);
  };
  try {
    // Copies the input into the slot's own tensors, kept from its last job (FreeSlots hands out one
    // that held this model when there is one): once warm, admitting a job allocates and zero-fills
    // nothing (before, every admission allocated and zero-filled its carried tensors: 64-259 KB on the
    // edge models).
    networks_[static_cast<std::size_t>(model)].restart(input, s.state);
    s.shaped_for = model;
  } catch (const std::exception& e) {
    give_back();
    return refuse(OutcomeStatus::failed, e.what());
  }
  ++s.generation;
  JobId id = host_->job_id(index, s.generation);
  if (id == kNotAdmitted) {  // skip the one id reserved for refusals
    ++s.generation;
    id = host_->job_id(index, s.generation);
  }
  s.job = Job{};
  s.job.id = id;
  s.job.model = model;
  s.job.release = release;
  s.job.deadline = deadline;
  s.job.weight = weight;
  s.job.mandatory_depth = plan_models_[static_cast<std::size_t>(model)].mandatory_depth;
  if (promise != nullptr) {
    s.promise.emplace(std::move(*promise));
  } else {
    s.callback = std::move(*callback);
  }
  bool stopping = false;
  int wake = -1;
  {
    std::lock_guard lock(mu_);
    stopping = stop_requested_;
    if (!stopping) inbox_.push_back(index);
    // While every lane is busy the lane that finishes first takes the arrival in (one pass per stage,
    // not one wake-up per job: under overload those cost the lane its CPU). Otherwise an idle lane is
    // woken to run the pass itself (one thread hand-off from submit() to the stage, not two), unless
    // one is woken already.
    if (!lanes_busy_ && !stopping) wake = poke_idle_lane();
  }
  if (stopping) {  // stop() came while the input was copied: refuse through the slot's receiver, free the slot
    std::optional<std::promise<Outcome>> p = std::move(s.promise);
    s.promise.reset();
    Callback cb = std::move(s.callback);
    s.callback = nullptr;
    give_back();
    promise = p ? &*p : nullptr;
    callback = p ? nullptr : &cb;
    return refuse(OutcomeStatus::rejected, "engine is stopping");
  }
  if (wake >= 0) lanes_[static_cast<std::size_t>(wake)].cv.notify_one();
  return id;
}

}  // namespace imprecise::runtime
