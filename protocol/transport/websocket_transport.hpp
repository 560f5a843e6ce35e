// The WebSocket CommandTransport: connects to <controller>/wsagents/ the way
// agent.jar -webSocket does, then carries remoting chunks, one chunk per
// binary message, over RFC 6455 frames that Kite writes and parses itself on
// top of a libcurl CONNECT_ONLY connection.
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "protocol/transport/command_transport.hpp"
#include "protocol/transport/http_client.hpp"

namespace kite::transport {

struct WebSocketTimeouts {
  // Kite pings the controller this often; common proxies drop connections
  // idle for 60 s, and the controller's own pings come every 30 s.
  std::chrono::milliseconds ping_interval{20000};
  // Nothing received for this long after a ping: the peer is considered dead.
  std::chrono::milliseconds pong_timeout{10000};
  // Queued output that makes no progress for this long fails the connection.
  std::chrono::milliseconds write_timeout{60000};
  // How long an orderly close waits for the peer's close frame.
  std::chrono::milliseconds close_timeout{5000};
  // Whole upgrade exchange, after the TCP/TLS connection is up.
  std::chrono::milliseconds handshake_timeout{30000};
};

struct WebSocketLimits {
  std::size_t max_frame = 1 << 20;       // payload of one received frame
  std::size_t max_message = 1 << 20;     // one received (possibly fragmented) message
  std::size_t max_command = 256u << 20;  // one reassembled remoting command
  std::size_t send_queue_high_water = 8u << 20;  // send_command blocks above this many queued bytes
};

struct WebSocketConnectOptions {
  std::string controller_url;  // http(s)://host[:port]/prefix/ with the trailing slash
  std::string node_name;
  std::string secret;
  std::string cookie;          // Connection-Cookie of the previous connection, empty on first connect
  std::string capability_header;  // X-Remoting-Capability value to send
  std::vector<std::pair<std::string, std::string>> extra_headers;  // -webSocketHeader
  NetOptions net;
  WebSocketTimeouts timeouts;
  WebSocketLimits limits;
  std::string log_name;        // node name for log lines
};

// Header values from the controller's 101 response.
struct HandshakeInfo {
  std::uint64_t controller_capability = 0;
  std::string cookie;
  std::string minimum_version;  // empty when absent
};

// Cause of a failed upgrade, grouped by how the daemon retries it.
enum class ConnectFailure {
  kNetwork,        // transient: retry with back-off
  kTls,            // certificate problem: configuration
  kProxy,          // proxy refused: configuration or transient
  kRejected,       // 403: wrong secret
  kRefused,        // 400: unknown agent, already connected, not an inbound agent
  kNotFound,       // 404: no WebSocket endpoint at this URL
  kNotJenkins,     // an answer that is not Jenkins' (no 101, HTML page, no capability header)
  kServerError,    // 5xx: transient
};

struct ConnectError {
  ConnectFailure failure = ConnectFailure::kNetwork;
  std::string message;  // one line for the log, never contains the secret
  int http_status = 0;
};

struct TransportStats {
  std::uint64_t bytes_received = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t commands_received = 0;
  std::uint64_t commands_sent = 0;
  std::uint64_t pings_sent = 0;
  std::uint64_t pongs_received = 0;
};

class WebSocketTransport;

struct WebSocketConnection {
  std::shared_ptr<WebSocketTransport> transport;
  HandshakeInfo handshake;
};

// Opens the connection and performs the upgrade. Blocks for at most the
// connect and handshake time-outs.
std::expected<WebSocketConnection, ConnectError> connect_websocket(const WebSocketConnectOptions& options);

// Builds the upgrade request text (exposed for tests).
std::string build_upgrade_request(const WebSocketConnectOptions& options, const std::string& host_header,
                                  const std::string& path, const std::string& key);

// Readiness probe of agent.jar: GET <url>login must return 200.
std::expected<void, ConnectError> probe_controller(const std::string& controller_url, const NetOptions& net);

class WebSocketTransport final : public CommandTransport, public std::enable_shared_from_this<WebSocketTransport> {
 public:
  struct Impl;
  explicit WebSocketTransport(std::unique_ptr<Impl> impl);
  ~WebSocketTransport() override;

  void start(Callbacks callbacks) override;
  bool send_command(std::span<const std::byte> command) override;
  void close(std::string reason) override;

  // Waits until the I/O thread has finished (after on_closed).
  void join();
  TransportStats stats() const;

 private:
  std::shared_ptr<Impl> impl_;  // shared with the I/O thread, which may outlive this object briefly
};

}  // namespace kite::transport
