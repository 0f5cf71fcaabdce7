#include "responder.hpp"

#include <pthread.h>

#include "imprecise/serve/thread_priority.hpp"

namespace imprecise::serve {

Responder::Responder(int nice_increment) : thread_([this, nice_increment] { run(nice_increment); }) {}

Responder::~Responder() { close(); }

void Responder::post(std::function<void()> task) {
  std::unique_lock lock(mutex_);
  if (closed_) {
    lock.unlock();
    task();
    return;
  }
  queue_.push_back(std::move(task));
  if (waiting_) {
    waiting_ = false;
    lock.unlock();
    wake_.notify_one();
  }
}

void Responder::close() {
  {
    std::lock_guard lock(mutex_);
    if (closing_) return;
    closing_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void Responder::run(int nice_increment) {
  (void)pthread_setname_np(pthread_self(), "imp-responder");
  lower_this_thread_priority(nice_increment);
  std::deque<std::function<void()>> batch;
  std::unique_lock lock(mutex_);
  for (;;) {
    if (queue_.empty()) {
      if (closing_) break;
      waiting_ = true;
      wake_.wait(lock, [this] { return !queue_.empty() || closing_; });
      waiting_ = false;
      continue;
    }
    batch.swap(queue_);
    lock.unlock();
    for (auto& task : batch) {
      try {
        task();
      } catch (...) {  // a front end's send must not end the thread that answers every other request
      }
    }
    batch.clear();
    lock.lock();
  }
  closed_ = true;  // under the lock: a post() from here on runs inline
}

}  // namespace imprecise::serve
