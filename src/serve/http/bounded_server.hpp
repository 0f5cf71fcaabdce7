// BoundedServer: an httplib::Server whose connections read through RequestDeadlineStream, so each
// request must arrive whole within `request_timeout` of its first byte, and an idle keep-alive
// connection is closed after `idle_timeout` (or after keep-alive-max-count requests). Parsing, routing and
// responses stay httplib's.
#pragma once

#include <chrono>
#include <cstddef>

#include <httplib.h>

namespace imprecise::serve {

class BoundedServer final : public httplib::Server {
 public:
  BoundedServer(std::chrono::milliseconds request_timeout, std::chrono::milliseconds idle_timeout,
                std::chrono::milliseconds write_timeout);

 private:
  // httplib's per-connection loop, re-done around our stream (process_request stays httplib's).
  bool process_and_close_socket(socket_t socket) override;
  bool wait_for_request(int socket) const;

  std::chrono::milliseconds request_timeout_, idle_timeout_, write_timeout_;
};

}  // namespace imprecise::serve
