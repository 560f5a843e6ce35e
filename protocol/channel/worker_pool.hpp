// The threads that run callables and RPCs, off the transport thread.
//
// A thread is started whenever a task arrives and no thread is idle, up to
// `max_threads`; beyond that tasks wait in a queue. Blocking calls (a process
// join can take hours) therefore hold one thread each without delaying other
// requests until max_threads of them block at once. Idle threads exit after
// `idle_timeout`.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace kite::channel {

class WorkerPool {
 public:
  WorkerPool(std::size_t max_threads, std::chrono::milliseconds idle_timeout);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `task`; false after shutdown().
  bool submit(std::function<void()> task);
  // Rejects new tasks, drops queued ones, and waits up to `timeout` for the
  // running ones. Threads still running after that finish on their own.
  void shutdown(std::chrono::milliseconds timeout);
  std::size_t threads() const;
  std::size_t busy() const;

  struct State;  // shared with the worker threads, which may outlive the pool

 private:
  std::shared_ptr<State> state_;
};

}  // namespace kite::channel
