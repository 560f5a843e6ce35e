// Flow control of ProxyOutputStream writes (remoting's PipeWindow), and the
// single ordered lane that applies received stream commands.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <expected>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

namespace kite::channel {

// Window size remoting uses when the peer advertised pipe throttling
// (hudson.remoting.Channel.pipeWindowSize default): 1 MiB.
inline constexpr std::int64_t kPipeWindowBytes = 1 << 20;

// The send window for one remote stream export.
class PipeWindow {
 public:
  // `max_bytes` 0 means unlimited (the peer lacks the throttling capability).
  explicit PipeWindow(std::int64_t max_bytes) : max_(max_bytes), available_(max_bytes) {}

  // Waits until a chunk may be sent and returns its size: at most `wanted`,
  // at most half the window, and never before min(window/10, wanted) bytes are
  // available (remoting's rule, so that chunks stay reasonably large).
  // Fails when the reader died, the channel closed or `cancelled` became true;
  // the wait re-checks `cancelled` every 100 ms.
  std::expected<std::size_t, std::string> acquire(std::size_t wanted, const std::atomic<bool>* cancelled);
  // Takes back `size` bytes that acquire() granted but were not sent.
  void release(std::size_t size);
  // An Ack from the reader.
  void ack(std::int64_t size);
  // NotifyDeadWriter from the reader, or the channel ending.
  void fail(std::string reason);

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  const std::int64_t max_;
  std::int64_t available_;
  std::string failure_;
};

// Windows of every remote export Kite writes to, by the remote oid.
class PipeWindows {
 public:
  explicit PipeWindows(std::int64_t max_bytes) : max_(max_bytes) {}
  std::shared_ptr<PipeWindow> get(std::int32_t oid);
  void ack(std::int32_t oid, std::int64_t size);
  void dead(std::int32_t oid);
  void fail_all(const std::string& reason);
  void forget(std::int32_t oid);

 private:
  std::mutex mutex_;
  const std::int64_t max_;
  std::string failure_;
  std::unordered_map<std::int32_t, std::shared_ptr<PipeWindow>> windows_;
};

// Applies received stream commands (Chunk, Flush, EOF, Unexport) strictly in
// arrival order on one thread, like remoting's pipe writer, so a slow sink
// never blocks the transport thread. Tasks carry the sender's I/O id;
// wait_until() lets a request wait for the writes that preceded it.
class PipeLane {
 public:
  PipeLane();
  ~PipeLane();
  PipeLane(const PipeLane&) = delete;
  PipeLane& operator=(const PipeLane&) = delete;

  void submit(std::int32_t io_id, std::function<void()> task);
  // Blocks until the task with `io_id` (and all before it) ran, the lane
  // stopped, or `timeout` passed. Ids never submitted count as done.
  void wait_until(std::int32_t io_id, std::chrono::milliseconds timeout);
  // Runs the tasks already queued, then stops the thread.
  void stop();

 private:
  void run();
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::pair<std::int32_t, std::function<void()>>> queue_;
  std::int32_t last_submitted_ = 0;
  std::int32_t last_done_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace kite::channel
