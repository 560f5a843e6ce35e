#include "protocol/channel/request_tracker.hpp"

namespace kite::channel {

std::expected<ResponseCmd, std::string> RequestTracker::Pending::wait(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  if (!cv_.wait_for(lock, timeout, [this] { return response_.has_value() || !failure_.empty(); })) {
    return std::unexpected("timed out after " + std::to_string(timeout.count()) + " ms");
  }
  if (response_) return std::move(*response_);
  return std::unexpected(failure_);
}

std::pair<std::int32_t, std::shared_ptr<RequestTracker::Pending>> RequestTracker::start() {
  auto pending = std::make_shared<Pending>();
  std::lock_guard lock(mutex_);
  const std::int32_t id = next_id_++;
  if (failed_) {
    pending->failure_ = failure_;
  } else {
    pending_.emplace(id, pending);
  }
  return {id, pending};
}

bool RequestTracker::complete(ResponseCmd response) {
  std::shared_ptr<Pending> pending;
  {
    std::lock_guard lock(mutex_);
    auto it = pending_.find(response.id);
    if (it == pending_.end()) return false;
    pending = std::move(it->second);
    pending_.erase(it);
  }
  {
    std::lock_guard lock(pending->mutex_);
    pending->response_ = std::move(response);
  }
  pending->cv_.notify_all();
  return true;
}

void RequestTracker::abandon(std::int32_t id) {
  std::lock_guard lock(mutex_);
  pending_.erase(id);
}

void RequestTracker::fail_all(const std::string& reason) {
  std::unordered_map<std::int32_t, std::shared_ptr<Pending>> failed;
  {
    std::lock_guard lock(mutex_);
    failed_ = true;
    failure_ = reason.empty() ? "channel closed" : reason;
    failed.swap(pending_);
  }
  for (auto& [id, pending] : failed) {
    {
      std::lock_guard lock(pending->mutex_);
      pending->failure_ = failure_;
    }
    pending->cv_.notify_all();
  }
}

std::size_t RequestTracker::pending_count() const {
  std::lock_guard lock(mutex_);
  return pending_.size();
}

std::shared_ptr<std::atomic<bool>> RequestTracker::begin_incoming(std::int32_t id) {
  auto flag = std::make_shared<std::atomic<bool>>(false);
  std::lock_guard lock(mutex_);
  if (failed_) flag->store(true);
  running_[id] = flag;
  return flag;
}

void RequestTracker::end_incoming(std::int32_t id) {
  std::lock_guard lock(mutex_);
  running_.erase(id);
}

bool RequestTracker::cancel_incoming(std::int32_t id) {
  std::lock_guard lock(mutex_);
  auto it = running_.find(id);
  if (it == running_.end()) return false;
  it->second->store(true);
  return true;
}

void RequestTracker::cancel_all_incoming() {
  std::lock_guard lock(mutex_);
  for (auto& [id, flag] : running_) flag->store(true);
}

std::size_t RequestTracker::running_count() const {
  std::lock_guard lock(mutex_);
  return running_.size();
}

}  // namespace kite::channel
