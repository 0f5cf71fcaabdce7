// Engine threads: the dispatcher (timers, arrivals while every lane is idle, the stop) and the lanes
// (run a stage, then take its completion in and pick the next batch themselves).
#include <pthread.h>
#include <sched.h>

#include <exception>
#include <string>

#include <fmt/format.h>

#include "engine_impl.hpp"

namespace imprecise::runtime {

thread_local const void* serving_engine = nullptr;

namespace {
// Names show in top -H, perf and /proc/<pid>/task/*/comm (at most 15 characters).
void name_this_thread(const std::string& name) { (void)pthread_setname_np(pthread_self(), name.substr(0, 15).c_str()); }
}  // namespace

void Engine::Impl::dispatcher_main() {
  serving_engine = this;
  name_this_thread("imp-dispatch");
  host_->notify([](Observer& ob) { ob.on_thread_start(ThreadRole::dispatcher, 0); });
  std::unique_lock lock(mu_);
  while (!finished_) {
    const auto due = [&] {
      if (!inbox_.empty() || finished_ || (stop_requested_ && !stop_seen_)) return true;
      for (const Lane& l : lanes_)
        if (l.done) return true;
      return wake_at_ != kNever && wake_at_ <= now();
    };
    while (!due()) {
      if (wake_at_ == kNever)
        cv_.wait(lock);
      else
        // Capped so a deadline far in the future cannot overflow the clock (waking early is harmless).
        cv_.wait_until(lock, epoch_ + std::chrono::nanoseconds(std::min(wake_at_, now() + from_seconds(3600))));
    }
    if (finished_) break;
    lock.unlock();
    {
      std::lock_guard sched(sched_mu_);
      service();
    }
    lock.lock();
  }
  for (Lane& l : lanes_) l.exit = true;
  lock.unlock();
  for (Lane& l : lanes_) l.cv.notify_one();
  const Time t = now();
  host_->notify([&](Observer& ob) { ob.on_stop(t); });
}

void Engine::Impl::lane_main(int index) {
  serving_engine = this;
  name_this_thread(fmt::format("imp-lane{}", index));
  if (config_.pin_lanes) pin_lane(index);
  host_->notify([&](Observer& ob) { ob.on_thread_start(ThreadRole::lane, index); });
  Lane& lane = lanes_[static_cast<std::size_t>(index)];
  std::unique_lock lock(mu_);
  while (true) {
    lane.cv.wait(lock, [&] { return lane.has_work || lane.exit || lane.poke; });
    if (!lane.has_work) {
      if (lane.exit) break;
      lock.unlock();  // poked: arrivals while idle; the pass usually hands this lane its first batch
      {
        std::lock_guard sched(sched_mu_);
        service();
      }
      lock.lock();
      continue;
    }
    lane.has_work = false;
    lock.unlock();
    nn::MultiExitModel& net = network_of(index, lane.model);
    lane.failed = false;
    lane.started = now();
    try {
      net.run_stage(lane.stage, std::span<nn::JobState* const>(lane.states.data(), lane.count),
                    std::span<nn::ExitResult>(lane.results.data(), lane.count));
    } catch (const std::exception& e) {
      lane.failed = true;
      lane.error = fmt::format("stage {} of '{}' failed: {}", lane.stage, plan_models_[static_cast<std::size_t>(lane.model)].name,
                               e.what());
    } catch (...) {
      lane.failed = true;
      lane.error = "stage failed with an unknown exception";
    }
    lane.ended = now();
    lock.lock();
    lane.done = true;
    lock.unlock();
    // The lane takes the completion in and decides what runs next itself (the next batch usually
    // lands on this very lane) instead of waking the dispatcher and waiting to be woken in turn.
    {
      std::lock_guard sched(sched_mu_);
      service();
    }
    lock.lock();
  }
}

void Engine::Impl::pin_lane(int index) const {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0 || CPU_COUNT(&allowed) == 0) return;
  // The (index mod n)-th CPU this process may use: a container's cpuset need not start at CPU 0.
  int nth = index % CPU_COUNT(&allowed);
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (!CPU_ISSET(cpu, &allowed) || nth-- > 0) continue;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    (void)pthread_setaffinity_np(pthread_self(), sizeof one, &one);  // refused: the lane runs unpinned
    return;
  }
}

}  // namespace imprecise::runtime
