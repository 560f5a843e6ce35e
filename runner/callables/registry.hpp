// The callable registry: how Kite maps a Java callable the controller sends to
// the C++ code that runs it.
//
// A controller runs code on an agent by sending a serialized
// hudson.remoting.Callable in a UserRequest. Kite cannot load Java classes, so
// every callable it answers has a handler here, registered under the
// callable's binary class name ("hudson.slaves.SlaveComputer$DetectOS").
// FilePath operations arrive wrapped, as hudson.FilePath$FileCallableWrapper
// (FilePath.act) or hudson.FilePath$CallableWith (FilePath.asCallableWith);
// their handlers are registered under the inner FileCallable's class name in
// a second table and receive the path.
//
// Registering (at namespace scope in any file linked into the runner; the
// runner library is linked whole, so static registrations always run):
//
//   namespace {
//   using namespace kite::callables;
//   const Registration exists_handler{"hudson.FilePath$Exists",
//       [](const FileCall& call, Context& ctx) -> Result {
//         return ctx.reply(ser::jdk::boolean(ctx.arena(), std::filesystem::exists(call.path)));
//       }};
//   }
//
// A handler runs on a channel worker thread, never on the transport thread,
// so it may block (a process join, a large upload); several handlers run at
// once and responses go out in any order. A long-running handler must poll
// ctx.cancelled() (set by Request$Cancel or the channel ending) and then
// return an InterruptedException (ctx.interrupted()).
//
// Return values: a ser::Value graph built in ctx.arena() with the helpers of
// protocol/serialization (jdk.hpp for JDK types, build.hpp for other
// classes). The value must have the exact Java class the controller casts to,
// with that class's serialVersionUID. When the reply's class is one the
// controller sent (echoing a descriptor), point at the request's own
// descriptor: the request stays alive until the reply is written. Non-JDK
// classes in the reply are annotated with the class loader of the callable,
// as the Java agent does.
//
// Errors: return a JavaException (any class listed by
// ser::jdk::throwable_classes(), usually java.io.IOException,
// hudson.AbortException, java.nio.file.NoSuchFileException or
// java.lang.InterruptedException); the channel sends it with the ProxyException
// copy remoting expects. A callable no handler claims is answered with an
// IOException naming its class; the channel stays up.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <expected>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/channel/channel.hpp"
#include "protocol/channel/export_table.hpp"
#include "protocol/channel/payload.hpp"
#include "protocol/serialization/value.hpp"

namespace spdlog {
class logger;
}

namespace kite::callables {

using channel::ExportedObject;
using channel::JavaException;
using channel::MethodCall;
using channel::ReturnValue;
using channel::StreamSink;
using channel::StreamSource;

// What a handler returns: the value to send, or the Java exception to throw.
using Result = std::expected<ReturnValue, JavaException>;

// The node this channel serves, as configured on the command line or in the
// JSON configuration. Shared by every request of one connection.
struct NodeInfo {
  std::string name;                     // agent name on the controller
  std::string controller_url;           // ends with '/'
  std::filesystem::path work_dir;       // -workDir; empty when not given
  std::filesystem::path internal_dir;   // <work_dir>/remoting, empty without work_dir
  std::string sandbox_policy;           // sandbox policy name, may be empty
  std::vector<std::string> labels;
  // Settings the controller sent during the connection; writers hold `mutex`.
  struct ControllerSettings {
    std::mutex mutex;
    // jenkins.util.SystemProperties snapshot (CopySystemProperties); a value may be absent (null).
    std::map<std::string, std::optional<std::string>> system_properties;
    int log_ring_buffer_size = 0;  // SlaveInitializer.ringBufferSize
  };
  std::shared_ptr<ControllerSettings> settings = std::make_shared<ControllerSettings>();

  // System property the controller copied to the agent, if any.
  std::optional<std::string> system_property(const std::string& key) const;
};

// Everything a handler may use besides the callable itself.
class Context {
 public:
  Context(channel::CallContext& call, const NodeInfo& node, spdlog::logger& log, std::string_view callable_class)
      : call_(call), node_(node), log_(log), callable_class_(callable_class) {}

  // ---- request state
  std::int32_t request_id() const { return call_.request_id(); }
  // True once the controller cancelled this request or the channel ended.
  bool cancelled() const { return call_.cancelled(); }
  const std::atomic<bool>& cancel_flag() const { return call_.cancel_flag(); }
  const NodeInfo& node() const { return node_; }
  spdlog::logger& log() const { return log_; }
  std::string_view callable_class() const { return callable_class_; }

  // ---- building the reply
  ser::Arena& arena() { return call_.arena(); }
  Result reply(ser::Value value) { return ReturnValue{value, call_.arena_ptr()}; }
  Result reply_null() { return ReturnValue{ser::Value(ser::Null{}), call_.arena_ptr()}; }
  static std::unexpected<JavaException> fail(std::string message, std::string java_class = "java.io.IOException") {
    return std::unexpected(JavaException{std::move(java_class), std::move(message), {}});
  }
  // The exception a cancelled handler returns.
  static std::unexpected<JavaException> interrupted() {
    return std::unexpected(JavaException{"java.lang.InterruptedException", "interrupted by the controller", {}});
  }

  // ---- exports: objects the controller can call methods on later
  // Exports an object whose methods are C++ lambdas (ExportedObject::invoke)
  // and returns the proxy to put in the reply. The controller calls it with
  // UserRPCRequests (user_proxy = true, the default) that arrive on worker
  // threads; the export lives until the controller unexports it or the
  // channel ends (on_unexport is called then).
  ser::Value export_object(std::shared_ptr<ExportedObject> object) { return call_.export_proxy(object); }
  // Exports a sink (the controller writes: WritePipe, IOTriplet.stdin) or a
  // source (the controller reads: IOTriplet.stdout) and returns its oid, for
  // RemoteOutputStream / RemoteInputStream values that the handler writes.
  std::int32_t export_sink(StreamSink sink) { return call_.channel().export_object(channel::Channel::sink_export(std::move(sink))); }
  std::int32_t export_source(StreamSource source) {
    return call_.channel().export_object(channel::Channel::source_export(std::move(source)));
  }

  // ---- streams the controller exported
  // Writes to a RemoteOutputStream / Pipe the controller exported (its oid),
  // with remoting's flow control; blocks while the 1 MiB window is used up.
  std::expected<void, std::string> write(std::int32_t remote_oid, std::span<const std::uint8_t> data) {
    return call_.write(remote_oid, data);
  }
  std::expected<void, std::string> flush(std::int32_t remote_oid) { return call_.flush(remote_oid); }
  // Ends the stream (ProxyOutputStream$EOF): the controller closes it.
  // With `error` the controller's reader fails with that exception (Pipe.error).
  std::expected<void, std::string> close(std::int32_t remote_oid, const std::optional<JavaException>& error = std::nullopt) {
    return call_.close(remote_oid, error);
  }
  // Reads from a non-greedy RemoteInputStream the controller exported; an
  // empty vector at EOF.
  std::expected<std::vector<std::uint8_t>, std::string> read(std::int32_t remote_oid, std::int32_t max_bytes = 8192,
                                                             std::chrono::milliseconds timeout = std::chrono::minutes(5)) {
    return call_.read(remote_oid, max_bytes, timeout);
  }
  void close_input(std::int32_t remote_oid) { call_.close_input(remote_oid); }
  // Connects a Pipe the controller created with Pipe.createLocalToRemote()
  // (or a greedy RemoteInputStream): `sink` receives its data.
  std::int32_t connect_pipe(std::int32_t remote_oid, StreamSink sink) {
    return call_.connect_pipe(remote_oid, channel::Channel::sink_export(std::move(sink)));
  }

  // The underlying channel context, for what the helpers above do not cover.
  channel::CallContext& channel_context() { return call_; }

 private:
  channel::CallContext& call_;
  const NodeInfo& node_;
  spdlog::logger& log_;
  std::string_view callable_class_;
};

// A plain callable (MasterToSlaveCallable and friends).
struct Call {
  const ser::Object& callable;  // the decoded callable; fields by name: callable.field("relativePath")
  std::string_view to_string;   // the controller's toString of the callable, for logs
};

// A FileCallable, unwrapped from FileCallableWrapper or CallableWith.
struct FileCall {
  const ser::Object& callable;  // the inner FileCallable (e.g. hudson.FilePath$Mkdirs)
  std::filesystem::path path;   // FilePath.remote: the file the operation applies to
  std::string_view to_string;
};

using Handler = std::function<Result(const Call& call, Context& ctx)>;
using FileHandler = std::function<Result(const FileCall& call, Context& ctx)>;

class Registry {
 public:
  // The process-wide registry that Registration fills and the channel session uses.
  static Registry& global();

  // Adds or replaces the handler for `class_name`.
  void add(std::string class_name, Handler handler);
  void add_file(std::string class_name, FileHandler handler);

  const Handler* find(std::string_view class_name) const;
  const FileHandler* find_file(std::string_view class_name) const;
  std::vector<std::string> class_names() const;       // sorted
  std::vector<std::string> file_class_names() const;  // sorted

 private:
  mutable std::mutex mutex_;
  std::map<std::string, Handler, std::less<>> handlers_;
  std::map<std::string, FileHandler, std::less<>> file_handlers_;
};

// Registers a handler in Registry::global() during static initialization.
struct Registration {
  Registration(std::string class_name, Handler handler);
  Registration(std::string class_name, FileHandler handler);
};

// Runs `call` through `registry`: unwraps FilePath wrappers, finds the
// handler and runs it, or returns the "not supported" IOException (logging
// each unsupported class once). The channel session's CallableHandler.
class RegistryDispatcher final : public channel::CallableHandler {
 public:
  RegistryDispatcher(const Registry& registry, NodeInfo node, std::shared_ptr<spdlog::logger> log);
  channel::MethodResult call(const channel::IncomingCall& call, channel::CallContext& ctx) override;
  const NodeInfo& node() const { return node_; }

 private:
  const Registry& registry_;
  NodeInfo node_;
  std::shared_ptr<spdlog::logger> log_;
  std::mutex logged_mutex_;
  std::vector<std::string> logged_unsupported_;
};

// Message of the IOException sent for a callable no handler implements.
std::string unsupported_message(std::string_view class_name);

}  // namespace kite::callables
