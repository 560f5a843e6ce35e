// The seam between the daemon's connection loop and the remoting Channel.
//
// For every successful WebSocket upgrade the daemon calls
// SessionFactory::run() with a started-but-idle CommandTransport and what the
// handshake told it. run() owns the session for as long as the channel lives
// and returns when the channel is over (the transport closed, the controller
// sent a close command, or stop was requested). The daemon then reconnects
// with back-off, unless it is shutting down or -noReconnect was given.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "protocol/transport/command_transport.hpp"

namespace kite::daemon {

// Remoting version string Kite reports (X-Remoting-Minimum-Version checks and
// the SlaveVersion callable). Kept equal to the remoting release it follows.
inline constexpr const char* kRemotingVersion = "3386.v353e57a_1b_ea_0";

// Capability mask Kite sends in X-Remoting-Capability (hudson.remoting.Capability).
inline constexpr std::uint64_t kAgentCapabilityMask = 0x1FE;

// What one connection's handshake established.
struct ConnectionInfo {
  std::string node_name;                 // Node-Name sent to the controller
  std::string controller_url;            // normalized, ends with '/'
  std::filesystem::path work_dir;        // empty when no -workDir was given
  std::filesystem::path internal_dir;    // <work_dir>/<internal dir name>, empty without work_dir
  std::uint64_t controller_capability = 0;  // mask parsed from the controller's X-Remoting-Capability
  std::uint64_t agent_capability = kAgentCapabilityMask;  // mask Kite advertised
  std::string cookie;                    // Connection-Cookie of this connection (64 hex chars)
  std::string minimum_remoting_version;  // X-Remoting-Minimum-Version, empty when absent
  std::vector<std::string> labels;       // from the JSON configuration, informational
  std::string sandbox_policy;            // policy name from the JSON configuration, may be empty
  unsigned connection_number = 0;        // 1 for the first connection of this node, then 2, 3, ...
};

// Why a session ended; decides how the daemon goes on.
enum class SessionEnd {
  kTransportClosed,   // connection lost or closed: reconnect (unless -noReconnect)
  kChannelTerminated, // the controller closed the channel on purpose: reconnect
  kStopRequested,     // stop_requested became true: do not reconnect
  kFatal,             // unrecoverable local error: do not reconnect, exit non-zero
};

class SessionFactory {
 public:
  virtual ~SessionFactory() = default;

  // Runs one channel over `transport` until it ends. The transport is not yet
  // started: run() must call transport->start() exactly once with its
  // callbacks. Called on the node's own thread; several nodes may call run()
  // concurrently on one factory, each with its own transport.
  //
  // `stop_requested` becomes true when the daemon shuts down (SIGTERM); the
  // daemon then also calls transport->close(), so on_closed fires and run()
  // should return promptly with kStopRequested.
  virtual SessionEnd run(std::shared_ptr<transport::CommandTransport> transport,
                         const ConnectionInfo& info,
                         const std::atomic<bool>& stop_requested) = 0;
};

}  // namespace kite::daemon
