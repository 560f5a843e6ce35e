#include "runner/launcher/channel_streams.hpp"

#include <algorithm>
#include <chrono>

#include <spdlog/spdlog.h>

namespace kite::launcher {
namespace {

// Largest ProxyInputStream$Chunk request Kite sends (Java's copy loops use 8 KiB).
constexpr std::size_t kMaxRemoteReadBytes = 64 * 1024;

std::span<const std::uint8_t> as_bytes(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

}  // namespace

RemoteStreamSink::RemoteStreamSink(std::shared_ptr<channel::Channel> channel, std::int32_t oid,
                                   std::int32_t loader_oid, bool release_when_dropped)
    : channel_(std::move(channel)),
      oid_(oid),
      cancelled_(std::make_shared<std::atomic<bool>>(false)),
      context_(*channel_, 0, loader_oid, cancelled_),
      release_when_dropped_(release_when_dropped) {}

RemoteStreamSink::~RemoteStreamSink() {
  if (closed_ || !release_when_dropped_) return;
  if (auto released = context_.unexport_stream(oid_); !released) {
    spdlog::debug("launcher: cannot release the controller's stream {}: {}", oid_, released.error());
  }
}

std::expected<void, Error> RemoteStreamSink::write(std::string_view bytes) {
  std::lock_guard lock(mutex_);
  auto written = context_.write(oid_, as_bytes(bytes));
  if (!written) return std::unexpected(Error::io("writing to remote stream " + std::to_string(oid_) + " failed: " + written.error()));
  return {};
}

std::expected<void, Error> RemoteStreamSink::flush() {
  std::lock_guard lock(mutex_);
  auto flushed = context_.flush(oid_);
  if (!flushed) return std::unexpected(Error::io("flushing remote stream " + std::to_string(oid_) + " failed: " + flushed.error()));
  return {};
}

std::expected<void, Error> RemoteStreamSink::close() {
  std::lock_guard lock(mutex_);
  closed_ = true;
  auto closed = context_.close(oid_);
  if (!closed) return std::unexpected(Error::io("closing remote stream " + std::to_string(oid_) + " failed: " + closed.error()));
  return {};
}

RemoteStreamSource::RemoteStreamSource(std::shared_ptr<channel::Channel> channel, std::int32_t oid)
    : channel_(std::move(channel)), oid_(oid), context_(*channel_, 0, 0, std::make_shared<std::atomic<bool>>(false)) {}

std::expected<std::string, Error> RemoteStreamSource::read(std::size_t max_bytes) {
  std::lock_guard lock(mutex_);
  if (closed_) return std::string();
  const auto wanted = static_cast<std::int32_t>(std::clamp<std::size_t>(max_bytes, 1, kMaxRemoteReadBytes));
  // NOTE: a stdin source that stays silent for longer than this fails the read.
  auto data = context_.read(oid_, wanted, std::chrono::hours(24));
  if (!data) return std::unexpected(Error::io("reading remote stream " + std::to_string(oid_) + " failed: " + data.error()));
  return std::string(data->begin(), data->end());
}

void RemoteStreamSource::close() {
  std::lock_guard lock(mutex_);
  if (closed_) return;
  closed_ = true;
  context_.close_input(oid_);
}

}  // namespace kite::launcher
