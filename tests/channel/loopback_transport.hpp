// An in-memory CommandTransport for channel tests: the test plays the
// controller, injecting commands (as the transport thread would) and reading
// what the channel sent.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "protocol/transport/command_transport.hpp"

namespace kite::channel::test {

class LoopbackTransport final : public transport::CommandTransport {
 public:
  void start(Callbacks callbacks) override;
  bool send_command(std::span<const std::byte> command) override;
  void close(std::string reason) override;

  // Delivers one command to the channel, on the calling thread.
  void inject(const std::vector<std::uint8_t>& command);
  // The next command the channel sent, or nullopt after `timeout`.
  std::optional<std::vector<std::uint8_t>> next_sent(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Simulates the connection dropping (on_closed with orderly = false).
  void drop(std::string reason);
  bool closed() const;
  std::string close_reason() const;

 private:
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  Callbacks callbacks_;
  std::deque<std::vector<std::uint8_t>> sent_;
  bool closed_ = false;
  std::string reason_;
};

}  // namespace kite::channel::test
