#include "protocol/channel/worker_pool.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

namespace kite::channel {

struct WorkerPool::State {
  std::mutex mutex;
  std::condition_variable work_cv;
  std::condition_variable done_cv;
  std::deque<std::function<void()>> queue;
  std::size_t max_threads = 1;
  std::chrono::milliseconds idle_timeout{30000};
  std::size_t threads = 0;
  std::size_t idle = 0;
  bool stopped = false;
};

namespace {

void worker_loop(const std::shared_ptr<WorkerPool::State>& s);

}  // namespace

WorkerPool::WorkerPool(std::size_t max_threads, std::chrono::milliseconds idle_timeout)
    : state_(std::make_shared<State>()) {
  state_->max_threads = max_threads == 0 ? 1 : max_threads;
  state_->idle_timeout = idle_timeout;
}

WorkerPool::~WorkerPool() { shutdown(std::chrono::milliseconds(0)); }

bool WorkerPool::submit(std::function<void()> task) {
  std::unique_lock lock(state_->mutex);
  if (state_->stopped) return false;
  state_->queue.push_back(std::move(task));
  if (state_->idle == 0 && state_->threads < state_->max_threads) {
    ++state_->threads;
    lock.unlock();
    std::thread([s = state_] { worker_loop(s); }).detach();
    return true;
  }
  lock.unlock();
  state_->work_cv.notify_one();
  return true;
}

void WorkerPool::shutdown(std::chrono::milliseconds timeout) {
  std::unique_lock lock(state_->mutex);
  state_->stopped = true;
  state_->queue.clear();
  state_->work_cv.notify_all();
  state_->done_cv.wait_for(lock, timeout, [this] { return state_->threads == 0; });
}

std::size_t WorkerPool::threads() const {
  std::lock_guard lock(state_->mutex);
  return state_->threads;
}

std::size_t WorkerPool::busy() const {
  std::lock_guard lock(state_->mutex);
  return state_->threads - state_->idle;
}

namespace {

void worker_loop(const std::shared_ptr<WorkerPool::State>& s) {
  std::unique_lock lock(s->mutex);
  while (true) {
    if (s->queue.empty()) {
      ++s->idle;
      const bool woke = s->work_cv.wait_for(lock, s->idle_timeout, [&] { return s->stopped || !s->queue.empty(); });
      --s->idle;
      if (!woke || (s->stopped && s->queue.empty())) break;
    }
    if (s->queue.empty()) continue;
    auto task = std::move(s->queue.front());
    s->queue.pop_front();
    lock.unlock();
    try {
      task();
    } catch (const std::exception& e) {
      // Tasks report their own failures; an escaped exception is a bug, logged so it is not lost.
      spdlog::error("worker task threw an exception: {}", e.what());
    }
    lock.lock();
  }
  --s->threads;
  s->done_cv.notify_all();
}

}  // namespace
}  // namespace kite::channel
