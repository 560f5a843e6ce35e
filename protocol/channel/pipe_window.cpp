#include "protocol/channel/pipe_window.hpp"

#include <algorithm>

namespace kite::channel {

std::expected<std::size_t, std::string> PipeWindow::acquire(std::size_t wanted, const std::atomic<bool>* cancelled) {
  if (wanted == 0) return 0;
  std::unique_lock lock(mutex_);
  if (max_ == 0) return wanted;
  const auto threshold = static_cast<std::int64_t>(std::min<std::size_t>(wanted, static_cast<std::size_t>(max_ / 10)));
  while (failure_.empty() && available_ < std::max<std::int64_t>(threshold, 1)) {
    if (cancelled != nullptr && cancelled->load()) return std::unexpected("write cancelled");
    cv_.wait_for(lock, std::chrono::milliseconds(100));
  }
  if (!failure_.empty()) return std::unexpected(failure_);
  const auto grant = static_cast<std::size_t>(
      std::min<std::int64_t>({available_, static_cast<std::int64_t>(wanted), max_ / 2}));
  available_ -= static_cast<std::int64_t>(grant);
  return grant;
}

void PipeWindow::release(std::size_t size) { ack(static_cast<std::int64_t>(size)); }

void PipeWindow::ack(std::int64_t size) {
  {
    std::lock_guard lock(mutex_);
    available_ = std::min(max_, available_ + std::max<std::int64_t>(size, 0));
  }
  cv_.notify_all();
}

void PipeWindow::fail(std::string reason) {
  {
    std::lock_guard lock(mutex_);
    if (failure_.empty()) failure_ = std::move(reason);
  }
  cv_.notify_all();
}

std::shared_ptr<PipeWindow> PipeWindows::get(std::int32_t oid) {
  std::lock_guard lock(mutex_);
  auto& w = windows_[oid];
  if (!w) {
    w = std::make_shared<PipeWindow>(max_);
    if (!failure_.empty()) w->fail(failure_);
  }
  return w;
}

void PipeWindows::ack(std::int32_t oid, std::int64_t size) {
  std::shared_ptr<PipeWindow> w;
  {
    std::lock_guard lock(mutex_);
    auto it = windows_.find(oid);
    if (it == windows_.end()) return;
    w = it->second;
  }
  w->ack(size);
}

void PipeWindows::dead(std::int32_t oid) { get(oid)->fail("Pipe is already closed"); }

void PipeWindows::fail_all(const std::string& reason) {
  std::unordered_map<std::int32_t, std::shared_ptr<PipeWindow>> all;
  {
    std::lock_guard lock(mutex_);
    failure_ = reason;
    all = windows_;
  }
  for (auto& [oid, w] : all) w->fail(reason);
}

void PipeWindows::forget(std::int32_t oid) {
  std::lock_guard lock(mutex_);
  windows_.erase(oid);
}

PipeLane::PipeLane() : thread_([this] { run(); }) {}

PipeLane::~PipeLane() { stop(); }

void PipeLane::submit(std::int32_t io_id, std::function<void()> task) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    queue_.emplace_back(io_id, std::move(task));
    last_submitted_ = std::max(last_submitted_, io_id);
  }
  cv_.notify_all();
}

void PipeLane::wait_until(std::int32_t io_id, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  // An id beyond what was submitted refers to nothing this lane will run.
  const std::int32_t target = std::min(io_id, last_submitted_);
  cv_.wait_for(lock, timeout, [&] { return stopping_ || last_done_ >= target; });
}

void PipeLane::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void PipeLane::run() {
  std::unique_lock lock(mutex_);
  while (true) {
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;
    auto [io_id, task] = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    task();
    lock.lock();
    last_done_ = std::max(last_done_, io_id);
    cv_.notify_all();
  }
}

}  // namespace kite::channel
