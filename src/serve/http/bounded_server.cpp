// The keep-alive loop: wait (bounded) for a request's first byte, then give the whole request one deadline.
#include "bounded_server.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "request_deadline_stream.hpp"

namespace imprecise::serve {

BoundedServer::BoundedServer(std::chrono::milliseconds request_timeout, std::chrono::milliseconds idle_timeout,
                             std::chrono::milliseconds write_timeout)
    : request_timeout_(request_timeout), idle_timeout_(idle_timeout), write_timeout_(write_timeout) {}

// True once a byte (or a hang-up) arrives; false when idle past idle_timeout or the server is stopping.
// Polls in short slices so that stop() does not wait for idle connections.
bool BoundedServer::wait_for_request(int socket) const {
  const auto until = std::chrono::steady_clock::now() + idle_timeout_;
  while (svr_sock_ != INVALID_SOCKET && std::chrono::steady_clock::now() < until) {
    pollfd p{socket, POLLIN, 0};
    const int ready = ::poll(&p, 1, 50);
    if (ready > 0) return true;
    if (ready < 0 && errno != EINTR) return false;
  }
  return false;
}

bool BoundedServer::process_and_close_socket(socket_t socket) {
  RequestDeadlineStream stream(socket, write_timeout_);
  bool ok = false;
  for (std::size_t left = keep_alive_max_count_; left > 0 && svr_sock_ != INVALID_SOCKET; --left) {
    if (!stream.has_buffered() && !wait_for_request(socket)) break;
    stream.start_request(std::chrono::steady_clock::now() + request_timeout_);
    bool closed = false;
    ok = process_request(stream, /*close_connection=*/left == 1, closed, nullptr);
    if (!ok || closed) break;
  }
  ::shutdown(socket, SHUT_RDWR);
  ::close(socket);
  return ok;
}

}  // namespace imprecise::serve
