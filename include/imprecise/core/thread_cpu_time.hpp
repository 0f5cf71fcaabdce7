// thread_cpu_time(): the calling thread's CPU time, which unlike the wall clock stops while the thread
// is preempted (decision-time figures use both).
#pragma once

#include <time.h>

#include "imprecise/core/time.hpp"

namespace imprecise {

/// CLOCK_THREAD_CPUTIME_ID in nanoseconds; 0 if the clock cannot be read. A system call (about 1 us
/// on the development VM).
inline Duration thread_cpu_time() {
  timespec ts{};
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return 0;
  return static_cast<Duration>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace imprecise
