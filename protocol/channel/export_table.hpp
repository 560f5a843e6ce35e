// Objects Kite exports to the controller, by export id (oid).
//
// Remoting semantics: ids come from a per-channel counter that starts at 2
// (1 is each side's IChannel) and are never reused; exporting an object that is
// already exported returns its id and adds one reference; UnexportCommand and
// the stream commands drop references, and the entry goes away at zero.
#pragma once

#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "protocol/channel/payload.hpp"
#include "protocol/serialization/value.hpp"

namespace kite::channel {

class CallContext;

// One method call on an exported object, as the controller sent it.
struct MethodCall {
  std::string declaring_class;             // e.g. "hudson.Launcher$RemoteProcess"
  std::string method;                      // e.g. "join"
  std::vector<std::string> types;          // parameter types as Class.getName(): "int", "[B"
  std::vector<ser::Value> arguments;       // boxed arguments
};

using MethodResult = std::expected<ReturnValue, JavaException>;

// Sink for stream data the controller writes into a Kite export (a
// RemoteOutputStream Kite returned, or the reading end of a Pipe).
struct StreamSink {
  std::function<std::expected<void, std::string>(std::span<const std::uint8_t>)> write;
  std::function<void()> flush;
  // EOF from the writer; `error` is set when it closed with an error.
  std::function<void(std::optional<std::string> error)> close;
};

// Source behind a RemoteInputStream Kite exports: up to `max` bytes, empty at EOF.
using StreamSource = std::function<std::expected<std::vector<std::uint8_t>, std::string>(std::size_t max)>;

// An object whose methods are served by C++ code. `invoke` runs on a worker
// thread and may block (RemoteProcess.join waits for a process); it must
// watch ctx.cancelled() when it does.
struct ExportedObject {
  std::vector<std::string> interfaces;  // Java interfaces of the proxy, e.g. {"hudson.Launcher$RemoteProcess"}
  bool user_proxy = true;               // calls arrive as UserRPCRequest inside a UserRequest
  std::function<MethodResult(const MethodCall& call, CallContext& ctx)> invoke;
  // Called once when the last reference is dropped (unexport, EOF, channel end).
  std::function<void()> on_unexport;
  // Set for stream exports instead of `invoke`.
  std::optional<StreamSink> sink;
  StreamSource source;
};

class ExportTable {
 public:
  // Adds `object` (or one reference to it when already exported) and returns its oid.
  std::int32_t export_object(const std::shared_ptr<ExportedObject>& object);
  // Drops one reference; returns true when the entry was removed. Unknown ids return false.
  bool unexport(std::int32_t oid);
  std::shared_ptr<ExportedObject> get(std::int32_t oid) const;
  std::size_t size() const;
  // Removes every entry (channel end) and runs their on_unexport callbacks.
  void clear();

 private:
  struct Entry {
    std::shared_ptr<ExportedObject> object;
    int references = 0;
  };
  mutable std::mutex mutex_;
  std::int32_t next_oid_ = 2;
  std::unordered_map<std::int32_t, Entry> entries_;
  std::unordered_map<const ExportedObject*, std::int32_t> ids_;
};

}  // namespace kite::channel
