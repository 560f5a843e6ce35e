// Internal state of WebSocketTransport, shared by the handshake code that
// creates it and the I/O loop that runs it. Not part of the public API.
#pragma once

#include <condition_variable>
#include <mutex>
#include <thread>

#include <curl/curl.h>

#include "protocol/transport/websocket_transport.hpp"

namespace kite::transport {

// An eventfd that wakes the I/O thread's poll() from other threads.
class WakeFd {
 public:
  WakeFd();
  ~WakeFd();
  WakeFd(const WakeFd&) = delete;
  WakeFd& operator=(const WakeFd&) = delete;
  int fd() const { return fd_; }
  void signal();
  void drain();

 private:
  int fd_ = -1;
};

// Frame masking keys from OpenSSL's CSPRNG, fetched in batches.
class MaskSource {
 public:
  std::array<std::byte, 4> next();

 private:
  std::array<unsigned char, 1024> pool_{};
  std::size_t used_ = 1024;
};

struct WebSocketTransport::Impl {
  Impl(CurlHandle curl_handle, curl_socket_t socket_fd, const WebSocketConnectOptions& options)
      : curl(std::move(curl_handle)), socket(socket_fd), log_name(options.log_name),
        timeouts(options.timeouts), limits(options.limits) {}

  void run();  // the I/O loop, on `thread`

  CurlHandle curl;
  curl_socket_t socket;
  std::string log_name;
  WebSocketTimeouts timeouts;
  WebSocketLimits limits;
  std::vector<std::byte> initial;  // bytes that arrived with the upgrade response

  WakeFd wake;
  MaskSource masks;  // used under `mutex`

  mutable std::mutex mutex;
  std::condition_variable space_or_closed;  // send_command waits on it
  std::condition_variable finished_cv;
  std::vector<std::byte> pending;      // frames queued by send_command, not yet taken by the I/O thread
  std::size_t queued_bytes = 0;        // pending plus the I/O thread's unsent output
  bool accepting = true;               // send_command accepts commands
  bool close_requested = false;
  std::string close_reason;
  bool started = false;
  bool finished = false;
  TransportStats stats;

  Callbacks callbacks;
  std::thread thread;
  std::thread::id io_thread_id;
};

}  // namespace kite::transport
