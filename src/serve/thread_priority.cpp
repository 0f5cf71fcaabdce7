#include "imprecise/serve/thread_priority.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace imprecise::serve {

int this_thread_nice() {
  errno = 0;
  const int nice = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));  // -1 is a valid value: see errno
  return errno == 0 ? nice : 0;
}

bool lower_this_thread_priority(int increment) {
  if (increment <= 0) return false;
  const int target = std::min(19, this_thread_nice() + increment);
  return setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), target) == 0;
}

}  // namespace imprecise::serve
