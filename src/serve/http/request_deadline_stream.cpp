// Socket reads bounded by the request's deadline, writes by the write timeout (poll + recv/send).
#include "request_deadline_stream.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace imprecise::serve {

namespace {

void address_of(const sockaddr_storage& address, std::string& ip, int& port) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address.ss_family == AF_INET) {
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(address);
    inet_ntop(AF_INET, &v4.sin_addr, text, sizeof text);
    port = ntohs(v4.sin_port);
  } else if (address.ss_family == AF_INET6) {
    const auto& v6 = reinterpret_cast<const sockaddr_in6&>(address);
    inet_ntop(AF_INET6, &v6.sin6_addr, text, sizeof text);
    port = ntohs(v6.sin6_port);
  }
  ip = text;
}

}  // namespace

RequestDeadlineStream::RequestDeadlineStream(int socket, std::chrono::milliseconds write_timeout)
    : socket_(socket), write_timeout_(write_timeout) {}

bool RequestDeadlineStream::wait(short events, Clock::time_point until) const {
  while (true) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(until - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{socket_, events, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1 << 30)));
    if (ready > 0) return true;  // readable, writable, or hung up (the read/write then says which)
    if (ready < 0 && errno != EINTR) return false;
  }
}

bool RequestDeadlineStream::is_readable() const { return has_buffered() || wait(POLLIN, deadline_); }

bool RequestDeadlineStream::is_writable() const { return wait(POLLOUT, Clock::now() + write_timeout_); }

ssize_t RequestDeadlineStream::read(char* data, std::size_t size) {
  if (!has_buffered()) {
    if (!wait(POLLIN, deadline_)) return -1;  // past the request's deadline: httplib drops the connection
    ssize_t n = 0;
    do n = ::recv(socket_, buffer_.data(), buffer_.size(), 0);
    while (n < 0 && errno == EINTR);
    if (n <= 0) return n;
    begin_ = 0;
    end_ = static_cast<std::size_t>(n);
  }
  const std::size_t count = std::min(size, end_ - begin_);
  std::memcpy(data, buffer_.data() + begin_, count);
  begin_ += count;
  return static_cast<ssize_t>(count);
}

ssize_t RequestDeadlineStream::write(const char* data, std::size_t size) {
  if (!is_writable()) return -1;
  ssize_t n = 0;
  do n = ::send(socket_, data, size, MSG_NOSIGNAL);  // a closed peer: an error, not SIGPIPE
  while (n < 0 && errno == EINTR);
  return n;
}

void RequestDeadlineStream::get_remote_ip_and_port(std::string& ip, int& port) const {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (::getpeername(socket_, reinterpret_cast<sockaddr*>(&address), &length) == 0) address_of(address, ip, port);
}

void RequestDeadlineStream::get_local_ip_and_port(std::string& ip, int& port) const {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (::getsockname(socket_, reinterpret_cast<sockaddr*>(&address), &length) == 0) address_of(address, ip, port);
}

}  // namespace imprecise::serve
