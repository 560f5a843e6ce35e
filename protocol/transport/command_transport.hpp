// The boundary between a byte transport (WebSocket now, JNLP4 later) and the
// remoting Channel: whole commands in, whole commands out.
//
// A command is one complete Java serialization stream (it starts with
// AC ED 00 05). The transport cuts outgoing commands into chunks of at most
// kMaxChunkPayload bytes, each with remoting's 2-byte chunk header (bit 15 set
// when more chunks of the same command follow, bits 14..0 the payload length),
// and joins incoming chunks back into commands.
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace kite::transport {

// Payload bytes per chunk that Kite sends, as remoting's own transports do.
// Received chunks may carry up to kMaxChunkLength (15 bits) bytes.
inline constexpr std::size_t kMaxChunkPayload = 8192;
inline constexpr std::size_t kMaxChunkLength = 0x7fff;

// Why a transport stopped; handed to CommandTransport::Callbacks::on_closed.
struct CloseReason {
  bool orderly = false;  // true when either side closed on purpose
  std::string message;   // for the log: "peer sent close 1000", "read timed out after 90 s", ...
};

class CommandTransport {
 public:
  struct Callbacks {
    // One complete command, in arrival order. Called on the transport's own thread.
    std::function<void(std::vector<std::byte> command)> on_command;
    // Called once when the transport is gone, after the last on_command.
    std::function<void(const CloseReason& reason)> on_closed;
  };

  virtual ~CommandTransport() = default;

  // Start delivering commands to the callbacks. Called once.
  virtual void start(Callbacks callbacks) = 0;

  // Queue one whole command for sending. Safe to call from any thread.
  // Returns false if the transport is already closed; the command is dropped.
  virtual bool send_command(std::span<const std::byte> command) = 0;

  // Begin an orderly close; on_closed follows. Safe to call from any thread.
  virtual void close(std::string reason) = 0;
};

}  // namespace kite::transport
