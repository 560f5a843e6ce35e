// ByteSink and ByteSource over streams the controller exported, for threads
// that outlive the request which brought the stream (output pumps, the
// durable-task watcher). Each object writes through its own channel
// CallContext with request id 0, as a Java agent's copier threads do.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

#include "protocol/channel/channel.hpp"
#include "runner/launcher/streams.hpp"

namespace kite::launcher {

// Writes to the controller's RemoteOutputStream `oid` with remoting's flow
// control. Thread-safe. close() sends ProxyOutputStream$EOF.
class RemoteStreamSink final : public ByteSink {
 public:
  // With `release_when_dropped`, a sink destroyed without close() sends
  // ProxyOutputStream$Unexport, as a Java agent does when its
  // ProxyOutputStream is garbage-collected, so the controller drops the
  // export. Owners that release the stream themselves leave it false.
  RemoteStreamSink(std::shared_ptr<channel::Channel> channel, std::int32_t oid, std::int32_t loader_oid = 0,
                   bool release_when_dropped = false);
  ~RemoteStreamSink() override;
  RemoteStreamSink(const RemoteStreamSink&) = delete;
  RemoteStreamSink& operator=(const RemoteStreamSink&) = delete;
  std::expected<void, Error> write(std::string_view bytes) override;
  std::expected<void, Error> flush() override;
  std::expected<void, Error> close() override;
  // Unblocks a write waiting for the window and fails later ones.
  void cancel() { cancelled_->store(true); }
  std::int32_t oid() const noexcept { return oid_; }

 private:
  std::shared_ptr<channel::Channel> channel_;
  std::int32_t oid_;
  std::shared_ptr<std::atomic<bool>> cancelled_;
  std::mutex mutex_;
  channel::CallContext context_;
  bool release_when_dropped_;
  bool closed_ = false;
};

// Reads the controller's non-greedy RemoteInputStream `oid`.
class RemoteStreamSource final : public ByteSource {
 public:
  RemoteStreamSource(std::shared_ptr<channel::Channel> channel, std::int32_t oid);
  std::expected<std::string, Error> read(std::size_t max_bytes) override;
  void close() override;

 private:
  std::shared_ptr<channel::Channel> channel_;
  std::int32_t oid_;
  std::mutex mutex_;
  channel::CallContext context_;
  bool closed_ = false;
};

}  // namespace kite::launcher
