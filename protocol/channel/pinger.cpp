// The agent-side PingThread: Kite pings the controller at the interval and
// time-out the controller sets with ChannelPinger$SetUpRemotePing, and a ping
// that fails closes the channel so the daemon reconnects.
#include <fmt/format.h>

#include "protocol/channel/channel_impl.hpp"

namespace kite::channel {

std::expected<void, std::string> Channel::ping(std::chrono::milliseconds timeout) {
  ser::Arena arena;
  auto payload = write_payload(make_ping(arena), 0);
  if (!payload) return std::unexpected(payload.error().describe());
  impl_->pings_sent.fetch_add(1, std::memory_order_relaxed);
  auto result = call(*payload, "hudson.remoting.PingThread$Ping@kite", timeout);
  if (!result) return std::unexpected(result.error().describe());
  return {};
}

void Channel::set_up_ping(std::chrono::seconds interval, std::chrono::seconds timeout) {
  impl_->stop_ping();
  if (interval.count() <= 0 || is_closed()) {
    impl_->logger->info("channel {}: agent-side ping disabled", impl_->config.name);
    return;
  }
  if (timeout.count() <= 0) timeout = interval;
  impl_->logger->info("channel {}: pinging the controller every {} s with a {} s time-out", impl_->config.name,
                      interval.count(), timeout.count());
  std::lock_guard lock(impl_->ping_mutex);
  const std::uint64_t generation = ++impl_->ping_generation;
  std::weak_ptr<Channel> weak = shared_from_this();
  impl_->ping_thread = std::thread([weak, generation, interval, timeout] {
    while (true) {
      auto self = weak.lock();
      if (!self) return;
      Impl& impl = self->impl();
      {
        std::unique_lock lock(impl.ping_mutex);
        if (impl.ping_cv.wait_for(lock, interval, [&] { return impl.ping_generation != generation; })) return;
      }
      if (self->is_closed()) return;
      auto result = self->ping(std::chrono::duration_cast<std::chrono::milliseconds>(timeout));
      if (result) continue;
      {
        std::lock_guard lock(impl.ping_mutex);
        if (impl.ping_generation != generation) return;
      }
      if (self->is_closed()) return;
      impl.logger->error("channel {}: ping to the controller failed ({}); closing the channel to reconnect",
                         impl.config.name, result.error());
      self->abort(fmt::format("ping failed: {}", result.error()));
      return;
    }
  });
}

void Channel::Impl::stop_ping() {
  std::thread old;
  {
    std::lock_guard lock(ping_mutex);
    ++ping_generation;
    old = std::move(ping_thread);
  }
  ping_cv.notify_all();
  if (old.joinable()) {
    if (old.get_id() == std::this_thread::get_id()) {
      old.detach();
    } else {
      old.join();
    }
  }
}

}  // namespace kite::channel
