// Request bookkeeping on both sides of the channel.
//
// Outgoing: requests Kite sends (its pings, stream reads) get ids from a
// counter and wait for the Response with the same id; when the channel ends,
// every waiter fails at once. Incoming: requests the controller sent that are
// still running, so Request$Cancel can interrupt them and the channel end can
// interrupt them all.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <expected>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "protocol/channel/commands.hpp"

namespace kite::channel {

class RequestTracker {
 public:
  // One outgoing request waiting for its response.
  class Pending {
   public:
    // Waits for the response; an error string when the time-out passes or the channel ended.
    std::expected<ResponseCmd, std::string> wait(std::chrono::milliseconds timeout);

   private:
    friend class RequestTracker;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::optional<ResponseCmd> response_;
    std::string failure_;
  };

  // Allocates an id and registers a waiter for it.
  std::pair<std::int32_t, std::shared_ptr<Pending>> start();
  // Delivers a response; false when no request with that id is pending.
  bool complete(ResponseCmd response);
  // Forgets a request (after a time-out).
  void abandon(std::int32_t id);
  // Fails every pending request with `reason` and rejects new ones.
  void fail_all(const std::string& reason);
  std::size_t pending_count() const;

  // Incoming requests: a cancellation flag per running request id.
  std::shared_ptr<std::atomic<bool>> begin_incoming(std::int32_t id);
  void end_incoming(std::int32_t id);
  // Sets the flag of request `id`; false when it is not running.
  bool cancel_incoming(std::int32_t id);
  void cancel_all_incoming();
  std::size_t running_count() const;

 private:
  mutable std::mutex mutex_;
  std::int32_t next_id_ = 1;
  bool failed_ = false;
  std::string failure_;
  std::unordered_map<std::int32_t, std::shared_ptr<Pending>> pending_;
  std::unordered_map<std::int32_t, std::shared_ptr<std::atomic<bool>>> running_;
};

}  // namespace kite::channel
