// One node's connection loop: readiness probe, WebSocket upgrade, session,
// and reconnection with back-off, until stopped.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>

#include <spdlog/logger.h>

#include "protocol/transport/websocket_transport.hpp"
#include "runner/daemon/node_config.hpp"
#include "runner/daemon/session.hpp"

namespace kite::daemon {

// Delays between attempts. Defaults follow agent.jar for the readiness probe;
// reconnects back off exponentially with jitter; configuration errors (403,
// 400, 404, TLS verification) are retried slowly.
struct RetryPolicy {
  std::chrono::milliseconds reconnect_base{1000};
  std::chrono::milliseconds reconnect_max{30000};
  std::chrono::milliseconds probe_max{10000};
  std::chrono::milliseconds config_error_min{30000};
  std::chrono::milliseconds config_error_max{60000};
  // A session that lasted this long resets the back-off.
  std::chrono::milliseconds stable_session{60000};
};

// Exit statuses of a node loop (and of the kite process).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitConfiguration = 2;

class NodeRunner {
 public:
  NodeRunner(NodeConfig config, SessionFactory& factory, RetryPolicy policy = {});

  // Runs until stop() or, with -noReconnect, until the first session ends.
  int run();

  // Makes run() return soon: interrupts waits and closes the live connection.
  void stop();

  // The delay before reconnect attempt `failures` (0-based), with jitter.
  static std::chrono::milliseconds backoff_delay(unsigned failures, const RetryPolicy& policy);

 private:
  bool wait_for(std::chrono::milliseconds delay);  // false when stopped
  // Returns kReady once GET <url>login returns 200, or else an exit status.
  static constexpr int kReady = -1;
  int probe_until_ready();
  transport::WebSocketConnectOptions connect_options() const;

  NodeConfig config_;
  SessionFactory& factory_;
  RetryPolicy policy_;
  std::shared_ptr<spdlog::logger> log_;
  std::string cookie_;
  std::filesystem::path internal_dir_;

  std::atomic<bool> stop_requested_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  std::shared_ptr<transport::CommandTransport> live_;  // guarded by mutex_
};

}  // namespace kite::daemon
