#include "runner/daemon/node_runner.hpp"

#include <random>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "protocol/transport/capability.hpp"
#include "protocol/transport/remoting_version.hpp"
#include "runner/daemon/logging.hpp"
#include "runner/daemon/work_dir.hpp"

namespace kite::daemon {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string describe(milliseconds delay) { return fmt::format("{:.1f} s", delay.count() / 1000.0); }

// Passes everything to the WebSocket transport and keeps the close reason
// for the daemon's log.
class ObservedTransport final : public transport::CommandTransport {
 public:
  explicit ObservedTransport(std::shared_ptr<transport::WebSocketTransport> inner) : inner_(std::move(inner)) {}

  void start(Callbacks callbacks) override {
    auto forward = std::move(callbacks.on_closed);
    callbacks.on_closed = [this, forward = std::move(forward)](const transport::CloseReason& reason) {
      {
        std::lock_guard lock(mutex_);
        reason_ = reason;
      }
      if (forward) forward(reason);
    };
    inner_->start(std::move(callbacks));
  }
  bool send_command(std::span<const std::byte> command) override { return inner_->send_command(command); }
  void close(std::string reason) override { inner_->close(std::move(reason)); }

  std::optional<transport::CloseReason> reason() {
    std::lock_guard lock(mutex_);
    return reason_;
  }
  transport::WebSocketTransport& inner() { return *inner_; }

 private:
  std::shared_ptr<transport::WebSocketTransport> inner_;
  std::mutex mutex_;
  std::optional<transport::CloseReason> reason_;
};

bool is_configuration_error(transport::ConnectFailure failure) {
  using F = transport::ConnectFailure;
  return failure == F::kRejected || failure == F::kRefused || failure == F::kNotFound || failure == F::kTls ||
         failure == F::kNotJenkins;
}

milliseconds uniform(milliseconds low, milliseconds high) {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  std::uniform_int_distribution<long long> pick(low.count(), std::max(low.count(), high.count()));
  return milliseconds(pick(generator));
}

}  // namespace

NodeRunner::NodeRunner(NodeConfig config, SessionFactory& factory, RetryPolicy policy)
    : config_(std::move(config)), factory_(factory), policy_(policy), log_(node_logger(config_.name)) {}

milliseconds NodeRunner::backoff_delay(unsigned failures, const RetryPolicy& policy) {
  const unsigned shift = std::min(failures, 16u);
  const milliseconds full = std::min(policy.reconnect_max, milliseconds(policy.reconnect_base.count() * (1LL << shift)));
  // "Equal jitter": half fixed, half random, so nodes that lost the same
  // controller do not reconnect in lockstep.
  return uniform(full / 2, full);
}

void NodeRunner::stop() {
  stop_requested_ = true;
  std::shared_ptr<transport::CommandTransport> live;
  {
    std::lock_guard lock(mutex_);
    live = live_;
  }
  wake_.notify_all();
  if (live) live->close("agent shutting down");
}

bool NodeRunner::wait_for(milliseconds delay) {
  std::unique_lock lock(mutex_);
  return !wake_.wait_for(lock, delay, [&] { return stop_requested_.load(); });
}

transport::WebSocketConnectOptions NodeRunner::connect_options() const {
  transport::WebSocketConnectOptions options;
  options.controller_url = config_.url;
  options.node_name = config_.name;
  options.secret = config_.secret;
  options.cookie = cookie_;
  options.capability_header = transport::encode_capability_header(kAgentCapabilityMask);
  options.extra_headers = config_.websocket_headers;
  options.net.extra_ca_pem = config_.certificates_pem;
  options.net.no_certificate_check = config_.no_certificate_check;
  options.net.proxy_credentials = config_.proxy_credentials;
  options.timeouts.ping_interval = config_.ping_interval;
  options.timeouts.pong_timeout = config_.pong_timeout;
  options.log_name = config_.name;
  return options;
}

int NodeRunner::probe_until_ready() {
  milliseconds delay{0};
  transport::NetOptions net = connect_options().net;
  for (unsigned attempt = 1;; ++attempt) {
    if (delay.count() > 0 && !wait_for(delay)) return kExitOk;
    if (stop_requested_) return kExitOk;
    auto ready = transport::probe_controller(config_.url, net);
    if (ready) return kReady;
    const bool slow = ready.error().failure == transport::ConnectFailure::kTls ||
                      ready.error().failure == transport::ConnectFailure::kProxy;
    if (slow) {
      if (config_.no_reconnect) {
        log_->error("controller {} is not reachable: {}", config_.url, ready.error().message);
        return kExitConfiguration;
      }
      delay = uniform(policy_.config_error_min, policy_.config_error_max);
    } else {
      // agent.jar's schedule: 0, then twice the previous delay plus 1 s, capped.
      delay = std::min(policy_.probe_max, delay * 2 + milliseconds(1000));
    }
    log_->warn("controller {} is not ready: {}; probing again in {} (attempt {})", config_.url,
               ready.error().message, describe(delay), attempt + 1);
  }
}

int NodeRunner::run() {
  if (!config_.work_dir.empty()) {
    auto layout = initialize_work_dir(config_.work_dir, config_.internal_dir, config_.fail_if_work_dir_missing);
    if (!layout) {
      log_->error("work directory: {}", layout.error());
      return kExitConfiguration;
    }
    internal_dir_ = layout->internal_dir;
    log_->info("work directory {} (internal data in {})", layout->work_dir.string(), layout->internal_dir.string());
  }

  unsigned failures = 0;
  unsigned connections = 0;
  while (!stop_requested_) {
    if (const int status = probe_until_ready(); status != kReady) return status;

    log_->info("connecting to {}wsagents/{}", config_.url, cookie_.empty() ? "" : " (resending the connection cookie)");
    auto connection = transport::connect_websocket(connect_options());
    if (!connection) {
      const auto& error = connection.error();
      if (is_configuration_error(error.failure)) {
        log_->error("{}", error.message);
        if (config_.no_reconnect) return kExitConfiguration;
        const milliseconds delay = uniform(policy_.config_error_min, policy_.config_error_max);
        log_->warn("configuration error; retrying in {}", describe(delay));
        if (!wait_for(delay)) break;
      } else {
        const milliseconds delay = backoff_delay(failures++, policy_);
        log_->warn("connection failed: {}; retrying in {} (attempt {})", error.message, describe(delay), failures + 1);
        if (!wait_for(delay)) break;
      }
      continue;
    }

    // Remember the cookie for the next connection; agent.jar drops it when
    // the controller sends none.
    cookie_ = connection->handshake.cookie;
    ConnectionInfo info;
    info.node_name = config_.name;
    info.controller_url = config_.url;
    info.work_dir = config_.work_dir;
    info.internal_dir = internal_dir_;
    info.controller_capability = connection->handshake.controller_capability;
    info.cookie = connection->handshake.cookie;
    info.minimum_remoting_version = connection->handshake.minimum_version;
    info.labels = config_.labels;
    info.sandbox_policy = config_.sandbox_policy;
    info.connection_number = ++connections;

    log_->info("connected to {} (controller capability {:#x})", config_.url, info.controller_capability);
    if (!info.minimum_remoting_version.empty() &&
        transport::compare_versions(kRemotingVersion, info.minimum_remoting_version) < 0) {
      log_->error("the controller requires remoting {} or newer; Kite implements {} and will likely be rejected",
                  info.minimum_remoting_version, kRemotingVersion);
    }

    auto observed = std::make_shared<ObservedTransport>(connection->transport);
    {
      std::lock_guard lock(mutex_);
      live_ = observed;
    }
    if (stop_requested_) observed->close("agent shutting down");

    const auto started = Clock::now();
    log_->info("online");
    SessionEnd end = SessionEnd::kFatal;
    try {
      end = factory_.run(observed, info, stop_requested_);
    } catch (const std::exception& e) {
      log_->error("session failed with an exception: {}", e.what());
      end = SessionEnd::kFatal;
    }
    observed->close("session ended");
    observed->inner().join();
    {
      std::lock_guard lock(mutex_);
      live_.reset();
    }

    const auto lasted = std::chrono::duration_cast<milliseconds>(Clock::now() - started);
    const auto reason = observed->reason();
    const auto stats = observed->inner().stats();
    log_->info("disconnected after {}: {} ({} commands received, {} sent)", describe(lasted),
               reason ? reason->message : std::string("session ended"), stats.commands_received, stats.commands_sent);

    if (stop_requested_ || end == SessionEnd::kStopRequested) break;
    if (end == SessionEnd::kFatal) return kExitFailure;
    if (config_.no_reconnect) {
      log_->info("not reconnecting (-noReconnect)");
      return reason && reason->orderly ? kExitOk : kExitFailure;
    }
    if (lasted >= policy_.stable_session) failures = 0;
    const milliseconds delay = backoff_delay(failures++, policy_);
    log_->warn("reconnecting in {} (attempt {})", describe(delay), failures);
    if (!wait_for(delay)) break;
  }
  log_->info("stopped");
  return kExitOk;
}

}  // namespace kite::daemon
