// Channel lifecycle, sending, A->C calls and the per-request CallContext.
#include "protocol/channel/channel_impl.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "protocol/channel/commands.hpp"
#include "protocol/serialization/build.hpp"
#include "protocol/serialization/jdk.hpp"
#include "protocol/serialization/reader.hpp"

namespace kite::channel {
namespace {

// Largest ProxyOutputStream$Chunk Kite sends: half the 1 MiB window, as remoting does.
constexpr std::size_t kMaxStreamChunk = 512 * 1024;

std::span<const std::byte> as_bytes(const std::vector<std::uint8_t>& v) {
  return std::as_bytes(std::span<const std::uint8_t>(v));
}

// Kite's IClassLoader, exported in Kite's own UserRequests. The controller
// asks getName() when it wraps the proxy; Kite ships no classes, so every
// fetch fails with ClassNotFoundException and resources are absent.
std::shared_ptr<ExportedObject> make_class_loader_export() {
  auto loader = std::make_shared<ExportedObject>();
  loader->interfaces = {"hudson.remoting.RemoteClassLoader$IClassLoader"};
  loader->user_proxy = false;
  loader->invoke = [](const MethodCall& call, CallContext& ctx) -> MethodResult {
    if (call.method == "getName") {
      return ReturnValue{ser::jdk::string(ctx.arena(), "kite"), ctx.arena_ptr()};
    }
    if (call.method.starts_with("getResource")) {
      return ReturnValue{ser::Value(ser::Null{}), ctx.arena_ptr()};
    }
    std::string name = call.arguments.empty() ? std::string() : call.arguments[0].as_string().value_or("");
    return std::unexpected(JavaException{"java.io.IOException",
                                         fmt::format("Kite is a native agent and serves no classes ({})", name), {}});
  };
  return loader;
}

}  // namespace

Channel::Impl::Impl(Channel& o, std::shared_ptr<transport::CommandTransport> t, std::shared_ptr<CallableHandler> h,
                    ChannelConfig c)
    : owner(o),
      transport(std::move(t)),
      handler(std::move(h)),
      config(std::move(c)),
      logger(config.logger ? config.logger : spdlog::default_logger()),
      windows((config.peer_capability & kCapabilityPipeThrottling) ? kPipeWindowBytes : 0),
      workers(config.max_workers, config.worker_idle_timeout) {}

bool Channel::Impl::send(const std::vector<std::uint8_t>& command) {
  if (!transport->send_command(as_bytes(command))) return false;
  commands_sent.fetch_add(1, std::memory_order_relaxed);
  return true;
}

bool Channel::Impl::is_closing() const {
  std::lock_guard lock(state_mutex);
  return closing || ended;
}

std::int32_t Channel::Impl::class_loader_oid() {
  std::lock_guard lock(loader_mutex);
  if (!loader_export) loader_export = make_class_loader_export();
  return exports.export_object(loader_export);
}

Channel::Channel() = default;

Channel::~Channel() {
  if (impl_) {
    impl_->stop_ping();
    impl_->workers.shutdown(std::chrono::milliseconds(0));
    impl_->lane.stop();
  }
}

std::shared_ptr<Channel> Channel::create(std::shared_ptr<transport::CommandTransport> transport,
                                         std::shared_ptr<CallableHandler> handler, ChannelConfig config) {
  std::shared_ptr<Channel> channel(new Channel());
  channel->impl_ = std::make_unique<Impl>(*channel, std::move(transport), std::move(handler), std::move(config));
  return channel;
}

void Channel::start() {
  std::weak_ptr<Channel> weak = shared_from_this();
  transport::CommandTransport::Callbacks callbacks;
  callbacks.on_command = [weak](std::vector<std::byte> command) {
    if (auto self = weak.lock()) self->impl_->on_command(std::move(command));
  };
  callbacks.on_closed = [weak](const transport::CloseReason& reason) {
    if (auto self = weak.lock()) self->impl_->on_transport_closed(reason);
  };
  impl_->logger->info("channel {}: started (controller capability {:#x})", impl_->config.name,
                      impl_->config.peer_capability);
  impl_->transport->start(std::move(callbacks));
}

ChannelEnd Channel::wait() {
  std::unique_lock lock(impl_->state_mutex);
  impl_->state_cv.wait(lock, [this] { return impl_->ended; });
  return impl_->end;
}

std::optional<ChannelEnd> Channel::wait_for(std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->state_mutex);
  if (!impl_->state_cv.wait_for(lock, timeout, [this] { return impl_->ended; })) return std::nullopt;
  return impl_->end;
}

void Channel::close(const std::string& reason) {
  {
    std::lock_guard lock(impl_->state_mutex);
    if (impl_->ended) return;
    impl_->closing = true;
    if (impl_->close_sent) return;
    impl_->close_sent = true;
    impl_->end.reason = reason;
  }
  impl_->logger->info("channel {}: closing ({})", impl_->config.name, reason);
  impl_->stop_ping();
  if (impl_->send(encode_close())) {
    std::unique_lock lock(impl_->state_mutex);
    impl_->state_cv.wait_for(lock, impl_->config.close_timeout,
                             [this] { return impl_->close_received || impl_->ended; });
  }
  impl_->transport->close(reason);
}

void Channel::abort(const std::string& reason) {
  {
    std::lock_guard lock(impl_->state_mutex);
    if (impl_->ended) return;
    impl_->closing = true;
    if (impl_->end.reason.empty()) impl_->end.reason = reason;
  }
  impl_->transport->close(reason);
}

std::expected<ReturnValue, JavaException> Channel::call(std::span<const std::uint8_t> payload,
                                                        const std::string& to_string,
                                                        std::chrono::milliseconds timeout) {
  if (impl_->is_closing()) return std::unexpected(JavaException{"java.io.IOException", "channel is closing", {}});
  auto [id, pending] = impl_->requests.start();
  const std::int32_t loader = impl_->class_loader_oid();
  if (!impl_->send(encode_user_request(id, 0, loader, payload, to_string))) {
    impl_->requests.abandon(id);
    return std::unexpected(JavaException{"java.io.IOException", "transport is closed", {}});
  }
  auto response = pending->wait(timeout);
  if (!response) {
    impl_->requests.abandon(id);
    return std::unexpected(JavaException{"java.io.IOException",
                                         fmt::format("request {} ({}) failed: {}", id, to_string, response.error()),
                                         {}});
  }
  const ser::Object* value = response->return_value.as_object();
  if (value != nullptr && value->class_name() == "hudson.remoting.UserRequest$NormalResponse") {
    const ser::Value* bytes = value->field("response");
    auto data = bytes ? bytes->as_bytes() : std::nullopt;
    if (!data) return ReturnValue{ser::Value(ser::Null{}), response->arena};
    auto stream = ser::read_payload(*data);
    if (!stream) {
      return std::unexpected(JavaException{"java.io.IOException",
                                           "undecodable response payload: " + stream.error().describe(), {}});
    }
    auto values = stream->values();
    return ReturnValue{values.empty() ? ser::Value(ser::Null{}) : values[0], stream->arena};
  }
  if (value != nullptr && value->class_name() == "hudson.remoting.UserRequest$ExceptionResponse") {
    std::string text = "the controller threw an exception";
    for (const char* field : {"rawResponse", "proxyResponse"}) {
      const ser::Value* bytes = value->field(field);
      auto data = bytes ? bytes->as_bytes() : std::nullopt;
      if (!data) continue;
      auto stream = ser::read_payload(*data);
      if (!stream || stream->values().empty()) continue;
      const ser::Object* t = stream->values()[0].as_object();
      if (t == nullptr) continue;
      text = std::string(t->class_name());
      if (const ser::Value* m = t->field("detailMessage"); m && m->as_string()) text += ": " + *m->as_string();
      break;
    }
    return std::unexpected(JavaException{"java.io.IOException", text, {}});
  }
  if (!response->exception.is_null()) {
    return std::unexpected(JavaException{"java.io.IOException",
                                         fmt::format("request {} failed on the controller", id), {}});
  }
  return ReturnValue{response->return_value, response->arena};
}

std::int32_t Channel::export_object(const std::shared_ptr<ExportedObject>& object) {
  return impl_->exports.export_object(object);
}

ser::Value Channel::make_proxy(ser::Arena& arena, std::int32_t oid, const ExportedObject& object) {
  static ser::Arena desc_arena;
  static const ser::ClassDesc* handler_desc = ser::make_class_desc(
      desc_arena, ser::ClassSpec{"hudson.remoting.RemoteInvocationHandler", 1,
                                 static_cast<std::uint8_t>(ser::kScSerializable | ser::kScWriteMethod),
                                 {{'Z', "autoUnexportByCaller", ""},
                                  {'Z', "goingHome", ""},
                                  {'I', "oid", ""},
                                  {'Z', "recordCreatedAt", ""},
                                  {'Z', "userProxy", ""},
                                  {'Z', "userSpace", ""},
                                  {'L', "origin", "Ljava/lang/Throwable;"}},
                                 nullptr});
  ser::Object* handler = ser::make_object(arena, handler_desc);
  handler->set("oid", oid);
  handler->set("userProxy", object.user_proxy);
  handler->set("userSpace", object.user_proxy);
  std::vector<std::string> interfaces = object.interfaces;
  interfaces.emplace_back("hudson.remoting.IReadResolve");
  return static_cast<const ser::Object*>(
      ser::make_proxy(arena, std::move(interfaces), static_cast<const ser::Object*>(handler)));
}

std::shared_ptr<ExportedObject> Channel::sink_export(StreamSink sink) {
  auto object = std::make_shared<ExportedObject>();
  object->interfaces = {"java.io.OutputStream"};
  object->sink = std::move(sink);
  return object;
}

std::shared_ptr<ExportedObject> Channel::source_export(StreamSource source) {
  auto object = std::make_shared<ExportedObject>();
  object->interfaces = {"java.io.InputStream"};
  object->source = std::move(source);
  return object;
}

void Channel::drain_workers(std::chrono::milliseconds timeout) { impl_->workers.shutdown(timeout); }

const ChannelConfig& Channel::config() const { return impl_->config; }
spdlog::logger& Channel::log() const { return *impl_->logger; }
bool Channel::is_closed() const { return impl_->is_closing(); }

Channel::Stats Channel::stats() const {
  Stats s;
  s.commands_received = impl_->commands_received.load();
  s.commands_sent = impl_->commands_sent.load();
  s.requests_served = impl_->requests_served.load();
  s.pings_sent = impl_->pings_sent.load();
  s.exports = impl_->exports.size();
  s.running = impl_->requests.running_count();
  return s;
}

// ---------------------------------------------------------------- CallContext

CallContext::CallContext(Channel& channel, std::int32_t request_id, std::int32_t loader_oid,
                         std::shared_ptr<std::atomic<bool>> cancelled)
    : channel_(channel),
      request_id_(request_id),
      loader_oid_(loader_oid),
      cancelled_(std::move(cancelled)),
      arena_(std::make_shared<ser::Arena>()) {}

ser::Value CallContext::export_proxy(const std::shared_ptr<ExportedObject>& object) {
  const std::int32_t oid = channel_.export_object(object);
  return Channel::make_proxy(*arena_, oid, *object);
}

std::expected<void, std::string> CallContext::write(std::int32_t remote_oid, std::span<const std::uint8_t> data) {
  auto& impl = channel_.impl();
  auto window = impl.windows.get(remote_oid);
  while (!data.empty()) {
    auto grant = window->acquire(std::min(data.size(), kMaxStreamChunk), cancelled_.get());
    if (!grant) return std::unexpected(grant.error());
    const std::int32_t io = impl.new_io_id();
    if (!impl.send(encode_stream_chunk(io, remote_oid, request_id_, data.first(*grant)))) {
      return std::unexpected("transport is closed");
    }
    last_io_id_ = io;
    data = data.subspan(*grant);
  }
  return {};
}

std::expected<void, std::string> CallContext::flush(std::int32_t remote_oid) {
  auto& impl = channel_.impl();
  const std::int32_t io = impl.new_io_id();
  if (!impl.send(encode_stream_flush(io, remote_oid, request_id_))) return std::unexpected("transport is closed");
  last_io_id_ = io;
  return {};
}

std::expected<void, std::string> CallContext::close(std::int32_t remote_oid,
                                                   const std::optional<JavaException>& error) {
  auto& impl = channel_.impl();
  const std::int32_t io = impl.new_io_id();
  ser::Arena arena;
  const ser::Value throwable = error ? make_throwable(arena, *error) : ser::Value();
  if (!impl.send(encode_stream_eof(io, remote_oid, request_id_, error ? &throwable : nullptr))) {
    return std::unexpected("transport is closed");
  }
  impl.windows.forget(remote_oid);
  last_io_id_ = io;
  return {};
}

std::expected<void, std::string> CallContext::unexport_stream(std::int32_t remote_oid) {
  auto& impl = channel_.impl();
  const std::int32_t io = impl.new_io_id();
  if (!impl.send(encode_stream_unexport(io, remote_oid))) return std::unexpected("transport is closed");
  impl.windows.forget(remote_oid);
  last_io_id_ = io;
  return {};
}

std::expected<void, std::string> CallContext::unexport_object(std::int32_t remote_oid) {
  if (!channel_.impl().send(encode_unexport(remote_oid))) return std::unexpected("transport is closed");
  return {};
}

std::expected<std::vector<std::uint8_t>, std::string> CallContext::read(std::int32_t remote_oid,
                                                                        std::int32_t max_bytes,
                                                                        std::chrono::milliseconds timeout) {
  auto& impl = channel_.impl();
  auto [id, pending] = impl.requests.start();
  if (!impl.send(encode_input_read(id, last_io_id_, remote_oid, max_bytes))) {
    impl.requests.abandon(id);
    return std::unexpected("transport is closed");
  }
  auto response = pending->wait(timeout);
  if (!response) {
    impl.requests.abandon(id);
    return std::unexpected(response.error());
  }
  if (!response->exception.is_null()) {
    const ser::Object* t = response->exception.as_object();
    return std::unexpected(fmt::format("reading remote stream {} failed: {}", remote_oid,
                                       t ? std::string(t->class_name()) : "exception"));
  }
  const ser::Object* buffer = response->return_value.as_object();
  if (buffer == nullptr) return std::unexpected("ProxyInputStream response without a Buffer");
  const ser::Value* len = buffer->field("len");
  const ser::Value* buf = buffer->field("buf");
  if (len == nullptr || !len->as_int()) return std::unexpected("ProxyInputStream$Buffer without len");
  if (*len->as_int() < 0) return std::vector<std::uint8_t>();
  auto bytes = buf ? buf->as_bytes() : std::nullopt;
  if (!bytes || static_cast<std::size_t>(*len->as_int()) > bytes->size()) {
    return std::unexpected("ProxyInputStream$Buffer len exceeds its buffer");
  }
  return std::vector<std::uint8_t>(bytes->begin(), bytes->begin() + *len->as_int());
}

void CallContext::close_input(std::int32_t remote_oid) { channel_.impl().send(encode_input_eof(remote_oid)); }

std::int32_t CallContext::connect_pipe(std::int32_t remote_oid, std::shared_ptr<ExportedObject> sink) {
  auto& impl = channel_.impl();
  const std::int32_t local = impl.exports.export_object(sink);
  impl.send(encode_pipe_connect(local, remote_oid));
  return local;
}

}  // namespace kite::channel
