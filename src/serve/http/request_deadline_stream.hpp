// A cpp-httplib Stream over one accepted socket that gives each request one deadline for all of its
// bytes. httplib's own read timeout restarts at every read, so a client trickling a byte just inside it
// (slowloris) would hold a worker thread for as long as it likes; with this stream it is dropped once
// the whole request (headers and body) has not arrived within the read timeout.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <string>

#include <httplib.h>

namespace imprecise::serve {

class RequestDeadlineStream final : public httplib::Stream {
 public:
  using Clock = std::chrono::steady_clock;

  RequestDeadlineStream(int socket, std::chrono::milliseconds write_timeout);

  /// The next request's bytes must all arrive before `deadline`.
  void start_request(Clock::time_point deadline) { deadline_ = deadline; }
  /// Bytes already received and not yet read (a pipelined next request).
  bool has_buffered() const { return begin_ < end_; }

  bool is_readable() const override;
  bool is_writable() const override;
  ssize_t read(char* data, std::size_t size) override;
  ssize_t write(const char* data, std::size_t size) override;
  void get_remote_ip_and_port(std::string& ip, int& port) const override;
  void get_local_ip_and_port(std::string& ip, int& port) const override;
  int socket() const override { return socket_; }

 private:
  bool wait(short events, Clock::time_point until) const;

  int socket_;
  std::chrono::milliseconds write_timeout_;
  Clock::time_point deadline_ = Clock::now();
  // httplib reads request lines a byte at a time: a buffer keeps that to one recv per 4 KiB.
  std::array<char, 4096> buffer_{};
  std::size_t begin_ = 0, end_ = 0;
};

}  // namespace imprecise::serve
