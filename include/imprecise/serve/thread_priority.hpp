// Thread priority for the server's I/O: the engine's lanes do the deadline-bound work, so when cores are
// short they should win them over the threads that move requests and answers.
#pragma once

namespace imprecise::serve {

/// Raises the calling thread's nice value by `increment` (capped at 19): Linux keeps one per thread, and
/// threads it starts afterwards inherit it. Lowering priority needs no privilege. False when refused
/// or `increment` <= 0 (nothing changed).
bool lower_this_thread_priority(int increment);

/// The calling thread's nice value.
int this_thread_nice();

}  // namespace imprecise::serve
