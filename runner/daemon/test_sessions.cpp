#include "runner/daemon/test_sessions.hpp"

#include <condition_variable>
#include <mutex>

#include <spdlog/spdlog.h>

#include "runner/daemon/logging.hpp"

namespace kite::daemon {

namespace {

class DiagnosticSessionFactory final : public SessionFactory {
 public:
  explicit DiagnosticSessionFactory(bool echo) : echo_(echo) {}

  SessionEnd run(std::shared_ptr<transport::CommandTransport> transport, const ConnectionInfo& info,
                 const std::atomic<bool>& stop_requested) override {
    std::mutex mutex;
    std::condition_variable closed_cv;
    bool closed = false;
    std::uint64_t count = 0;
    std::weak_ptr<transport::CommandTransport> weak = transport;
    const auto log = node_logger(info.node_name);

    transport::CommandTransport::Callbacks callbacks;
    callbacks.on_command = [&, weak](std::vector<std::byte> command) {
      ++count;
      log->debug("command {}: {} bytes", count, command.size());
      if (!echo_) return;
      if (auto live = weak.lock()) live->send_command(command);
    };
    callbacks.on_closed = [&](const transport::CloseReason&) {
      std::lock_guard lock(mutex);
      closed = true;
      closed_cv.notify_all();
    };
    transport->start(std::move(callbacks));

    std::unique_lock lock(mutex);
    closed_cv.wait(lock, [&] { return closed; });
    log->info("session saw {} commands", count);
    return stop_requested.load() ? SessionEnd::kStopRequested : SessionEnd::kTransportClosed;
  }

 private:
  bool echo_;
};

}  // namespace

std::unique_ptr<SessionFactory> make_echo_session_factory() { return std::make_unique<DiagnosticSessionFactory>(true); }
std::unique_ptr<SessionFactory> make_count_session_factory() { return std::make_unique<DiagnosticSessionFactory>(false); }

}  // namespace kite::daemon
