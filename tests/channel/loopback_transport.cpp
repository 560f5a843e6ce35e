#include "tests/channel/loopback_transport.hpp"

namespace kite::channel::test {

void LoopbackTransport::start(Callbacks callbacks) {
  std::lock_guard lock(mutex_);
  callbacks_ = std::move(callbacks);
}

bool LoopbackTransport::send_command(std::span<const std::byte> command) {
  {
    std::lock_guard lock(mutex_);
    if (closed_) return false;
    const auto* p = reinterpret_cast<const std::uint8_t*>(command.data());
    sent_.emplace_back(p, p + command.size());
  }
  cv_.notify_all();
  return true;
}

void LoopbackTransport::close(std::string reason) {
  Callbacks callbacks;
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    closed_ = true;
    reason_ = reason;
    callbacks = callbacks_;
  }
  cv_.notify_all();
  if (callbacks.on_closed) callbacks.on_closed(transport::CloseReason{true, "closed: " + reason});
}

void LoopbackTransport::drop(std::string reason) {
  Callbacks callbacks;
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    closed_ = true;
    reason_ = reason;
    callbacks = callbacks_;
  }
  cv_.notify_all();
  if (callbacks.on_closed) callbacks.on_closed(transport::CloseReason{false, reason});
}

void LoopbackTransport::inject(const std::vector<std::uint8_t>& command) {
  Callbacks callbacks;
  {
    std::lock_guard lock(mutex_);
    callbacks = callbacks_;
  }
  const auto* p = reinterpret_cast<const std::byte*>(command.data());
  if (callbacks.on_command) callbacks.on_command(std::vector<std::byte>(p, p + command.size()));
}

std::optional<std::vector<std::uint8_t>> LoopbackTransport::next_sent(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  if (!cv_.wait_for(lock, timeout, [this] { return !sent_.empty(); })) return std::nullopt;
  auto c = std::move(sent_.front());
  sent_.pop_front();
  return c;
}

bool LoopbackTransport::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

std::string LoopbackTransport::close_reason() const {
  std::lock_guard lock(mutex_);
  return reason_;
}

}  // namespace kite::channel::test
