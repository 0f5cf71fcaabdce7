// Responder: the thread that finishes answers (builds the response, counts it, hands it to the front
// end) off the engine's threads. An engine callback must stay short; a gRPC Finish writes to the socket
// inline, which on the executor's thread took about a tenth of its time at 3,000 requests/s.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace imprecise::serve {

class Responder {
 public:
  /// `nice_increment` > 0: the thread runs that many nice levels below its creator (thread_priority.hpp).
  explicit Responder(int nice_increment = 0);
  ~Responder();  ///< close()
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;

  /// Runs `task` on the responder's thread, in the order posted; inline once closed (nothing is lost).
  void post(std::function<void()> task);
  /// Runs every task posted so far and joins the thread. Idempotent; not from inside a task.
  void close();

 private:
  void run(int nice_increment);

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;
  bool waiting_ = false;  ///< the thread sleeps on wake_: only then does post() pay for a notify
  bool closing_ = false;
  bool closed_ = false;
  std::thread thread_;
};

}  // namespace imprecise::serve
