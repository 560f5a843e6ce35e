// Kite's end of a hudson.remoting.Channel.
//
// The Channel sits on a CommandTransport (whole commands in and out) and
// splits remoting's work the way remoting names it:
//   - commands.hpp: the command classes and their codec;
//   - command_dispatcher.cpp: what each received command does;
//   - request_tracker.hpp: request ids, responses, cancellation;
//   - export_table.hpp: objects Kite exports and their reference counts;
//   - pipe_window.hpp: ProxyOutputStream flow control and the ordered pipe lane;
//   - pinger.cpp: the agent-side PingThread;
//   - worker_pool.hpp: the threads callables run on.
// Callables themselves are run by a CallableHandler that the runner supplies.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "protocol/channel/export_table.hpp"
#include "protocol/channel/payload.hpp"
#include "protocol/serialization/value.hpp"
#include "protocol/transport/command_transport.hpp"

namespace spdlog {
class logger;
}

namespace kite::channel {

class Channel;

struct ChannelConfig {
  std::string name;                         // node name, for logs
  std::uint64_t peer_capability = 0x1FE;    // controller's X-Remoting-Capability mask
  std::size_t max_workers = 64;             // threads running callables at once
  std::chrono::milliseconds worker_idle_timeout{30000};
  // How long close() waits for the controller's CloseCommand answer.
  std::chrono::milliseconds close_timeout{5000};
  // How long a request waits for the stream writes that preceded it.
  std::chrono::milliseconds io_sync_timeout{30000};
  std::shared_ptr<spdlog::logger> logger;   // default: spdlog's default logger
};

// What a running callable or exported method can do with the channel. One
// context per incoming request, used only on the worker thread running it.
class CallContext {
 public:
  CallContext(Channel& channel, std::int32_t request_id, std::int32_t loader_oid,
              std::shared_ptr<std::atomic<bool>> cancelled);

  Channel& channel() { return channel_; }
  std::int32_t request_id() const { return request_id_; }
  // Export id of the controller class loader to name for non-JDK classes in the reply.
  std::int32_t loader_oid() const { return loader_oid_; }
  // Names another controller loader for the reply (e.g. the inner FileCallable's).
  void set_loader_oid(std::int32_t oid) { loader_oid_ = oid; }
  // True once the controller sent Request$Cancel for this request or the channel ended.
  bool cancelled() const { return cancelled_->load(); }
  const std::atomic<bool>& cancel_flag() const { return *cancelled_; }
  // Arena for building the reply; it lives until the reply is written.
  ser::Arena& arena() { return *arena_; }
  const std::shared_ptr<ser::Arena>& arena_ptr() const { return arena_; }
  // Highest I/O id this request's stream writes used (for Response.lastIoId).
  std::int32_t last_io_id() const { return last_io_id_; }

  // ---- exports
  // Exports `object` and returns the proxy value to put in the reply
  // (RemoteInvocationHandler written as remoting writes it).
  ser::Value export_proxy(const std::shared_ptr<ExportedObject>& object);

  // ---- writing to a stream the controller exported (RemoteOutputStream, Pipe)
  // Sends `data` as ProxyOutputStream$Chunk commands to the controller's export
  // `remote_oid`, at most 512 KiB each and within the 1 MiB window; blocks while
  // the window is exhausted. Fails when the reader died, the channel ended or the
  // request was cancelled.
  std::expected<void, std::string> write(std::int32_t remote_oid, std::span<const std::uint8_t> data);
  std::expected<void, std::string> flush(std::int32_t remote_oid);
  // Sends ProxyOutputStream$EOF: the controller closes its stream. With
  // `error` the EOF carries that exception, and the controller's reader fails
  // with it (remoting's Pipe.error).
  std::expected<void, std::string> close(std::int32_t remote_oid, const std::optional<JavaException>& error = std::nullopt);

  // ---- reading a stream the controller exported (non-greedy RemoteInputStream)
  // One ProxyInputStream$Chunk request for up to `max_bytes`; an empty vector at EOF.
  std::expected<std::vector<std::uint8_t>, std::string> read(std::int32_t remote_oid, std::int32_t max_bytes,
                                                             std::chrono::milliseconds timeout);
  // Tells the controller Kite is done reading (ProxyInputStream$EOF).
  void close_input(std::int32_t remote_oid);

  // ---- pipes the controller created with Pipe.createLocalToRemote() (it writes, Kite reads)
  // Exports `sink` as the receiving end and sends Pipe$ConnectCommand for the
  // controller's pending writer `remote_oid`; Chunks then flow into `sink`.
  std::int32_t connect_pipe(std::int32_t remote_oid, std::shared_ptr<ExportedObject> sink);

  // ---- releasing the controller's exports
  // Sends ProxyOutputStream$Unexport: Kite will not write to the stream
  // again, so the controller drops its export without closing the stream. A
  // Java agent sends it when its ProxyOutputStream is garbage-collected.
  // Without it, each stream a callable received stays in the controller's
  // export table until the channel ends.
  std::expected<void, std::string> unexport_stream(std::int32_t remote_oid);
  // Sends UnexportCommand for a proxy of the controller's object `remote_oid`
  // that Kite no longer uses (what a Java agent does when the proxy is collected).
  std::expected<void, std::string> unexport_object(std::int32_t remote_oid);

 private:
  Channel& channel_;
  std::int32_t request_id_;
  std::int32_t loader_oid_;
  std::shared_ptr<std::atomic<bool>> cancelled_;
  std::shared_ptr<ser::Arena> arena_;
  std::int32_t last_io_id_ = 0;
};

// One callable the controller sent in a UserRequest.
struct IncomingCall {
  std::int32_t request_id = 0;
  const ser::Object* callable = nullptr;  // top object of the payload
  std::string to_string;                  // UserRequest.toString, e.g. "hudson.FilePath$Exists@1a2b"
  std::shared_ptr<const void> keep_alive;  // the decoded payload stream
};

// Runs the callables that are not remoting's own. Implemented by the runner
// (runner/callables), so the protocol layer knows no Jenkins class.
class CallableHandler {
 public:
  virtual ~CallableHandler() = default;
  // Runs on a worker thread. Returns the value to send, or the Java exception
  // to throw on the controller (an unsupported callable included).
  virtual MethodResult call(const IncomingCall& call, CallContext& ctx) = 0;
};

// How a channel ended.
struct ChannelEnd {
  bool orderly = false;             // CloseCommand exchanged
  bool closed_by_peer = false;      // the controller sent CloseCommand first
  std::string reason;
};

class Channel : public std::enable_shared_from_this<Channel> {
 public:
  static std::shared_ptr<Channel> create(std::shared_ptr<transport::CommandTransport> transport,
                                         std::shared_ptr<CallableHandler> handler, ChannelConfig config);
  ~Channel();
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  // Starts the transport and serves commands until the channel ends.
  void start();
  // Blocks until the channel has ended (transport closed).
  ChannelEnd wait();
  // Waits up to `timeout`; nullopt while still running.
  std::optional<ChannelEnd> wait_for(std::chrono::milliseconds timeout);
  // Orderly close: sends CloseCommand, waits for the answer, closes the transport.
  void close(const std::string& reason);
  // Immediate close without CloseCommand (ping failure, fatal errors).
  void abort(const std::string& reason);

  // Starts (or restarts) the agent-side ping: a PingThread$Ping UserRequest every
  // `interval`; no response within `timeout` closes the channel. Zero interval stops it.
  void set_up_ping(std::chrono::seconds interval, std::chrono::seconds timeout);
  // One agent-to-controller ping; the error says why it failed.
  std::expected<void, std::string> ping(std::chrono::milliseconds timeout);

  // Sends a UserRequest A->C with `payload` and waits for the Response.
  std::expected<ReturnValue, JavaException> call(std::span<const std::uint8_t> payload, const std::string& to_string,
                                                 std::chrono::milliseconds timeout);

  // Exports an object without a request context (e.g. the class loader proxy).
  std::int32_t export_object(const std::shared_ptr<ExportedObject>& object);
  // Writes a proxy for export `oid` into `arena`.
  static ser::Value make_proxy(ser::Arena& arena, std::int32_t oid, const ExportedObject& object);
  // A StreamSink or StreamSource as an ExportedObject (RemoteOutputStream / RemoteInputStream exports).
  static std::shared_ptr<ExportedObject> sink_export(StreamSink sink);
  static std::shared_ptr<ExportedObject> source_export(StreamSource source);

  // After the channel ended: stops the worker pool and waits up to `timeout`
  // for running callables (they saw cancelled() become true).
  void drain_workers(std::chrono::milliseconds timeout);

  const ChannelConfig& config() const;
  spdlog::logger& log() const;
  bool is_closed() const;

  struct Stats {
    std::uint64_t commands_received = 0;
    std::uint64_t commands_sent = 0;
    std::uint64_t requests_served = 0;
    std::uint64_t pings_sent = 0;
    std::size_t exports = 0;
    std::size_t running = 0;
  };
  Stats stats() const;

  // Internal state, defined in channel_impl.hpp.
  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  Channel();
  std::unique_ptr<Impl> impl_;
};

}  // namespace kite::channel
