// What each received command does. Runs on the transport thread: cheap
// commands are applied here, stream commands go to the ordered pipe lane, and
// requests go to the worker pool.
#include <fmt/format.h>

#include <limits>

#include "protocol/channel/channel_impl.hpp"
#include "protocol/serialization/jdk.hpp"
#include "protocol/serialization/reader.hpp"

namespace kite::channel {
namespace {

std::span<const std::uint8_t> as_u8(const std::vector<std::byte>& v) {
  return {reinterpret_cast<const std::uint8_t*>(v.data()), v.size()};
}

// Callables remoting itself sends; Kite answers them without a handler.
std::optional<MethodResult> remoting_callable(Channel::Impl& impl, const ser::Object& callable, CallContext& ctx) {
  const std::string_view cls = callable.class_name();
  if (cls == "hudson.remoting.PingThread$Ping" || cls == "hudson.remoting.Channel$SetMaximumBytecodeLevel") {
    return ReturnValue{ser::Value(ser::Null{}), ctx.arena_ptr()};
  }
  if (cls == "hudson.remoting.Channel$IOSyncer") {
    // Every stream command received before this request has been applied once
    // the lane reaches the newest id submitted so far.
    impl.lane.wait_until(std::numeric_limits<std::int32_t>::max(), impl.config.io_sync_timeout);
    return ReturnValue{ser::Value(ser::Null{}), ctx.arena_ptr()};
  }
  if (cls == "hudson.remoting.PreloadJarTask" || cls == "hudson.remoting.PreloadJarTask2") {
    // Kite loads no classes, so there is never anything to preload.
    return ReturnValue{ser::jdk::boolean(ctx.arena(), false), ctx.arena_ptr()};
  }
  return std::nullopt;
}

}  // namespace

void Channel::Impl::on_command(std::vector<std::byte> bytes) {
  commands_received.fetch_add(1, std::memory_order_relaxed);
  auto decoded = decode_command(as_u8(bytes));
  if (!decoded) {
    logger->error("channel {}: dropped an undecodable command of {} bytes: {}", config.name, bytes.size(),
                  decoded.error().describe());
    return;
  }
  auto self = owner.shared_from_this();
  std::visit(
      [&](auto&& cmd) {
        using T = std::decay_t<decltype(cmd)>;
        if constexpr (std::is_same_v<T, UserRequestCmd>) {
          if (is_closing()) {
            logger->warn("channel {}: ignoring request {} ({}) received while closing", config.name, cmd.id,
                         cmd.to_string);
            return;
          }
          const std::int32_t id = cmd.id;
          auto cancelled = requests.begin_incoming(id);
          if (!workers.submit([self, request = std::move(cmd), cancelled]() mutable {
                self->impl().serve_user_request(std::move(request), cancelled);
              })) {
            requests.end_incoming(id);
          }
        } else if constexpr (std::is_same_v<T, RpcRequestCmd>) {
          auto cancelled = requests.begin_incoming(cmd.id);
          workers.submit([self, rpc = std::move(cmd), cancelled]() mutable {
            CallContext ctx(*self, rpc.id, 0, cancelled);
            const std::int32_t id = rpc.id;
            self->impl().serve_rpc(std::move(rpc), ctx, id, false);
            self->impl().requests.end_incoming(id);
          });
        } else if constexpr (std::is_same_v<T, ResponseCmd>) {
          const std::int32_t id = cmd.id;
          if (!requests.complete(std::move(cmd))) {
            logger->debug("channel {}: response {} matches no pending request (late or abandoned)", config.name, id);
          }
        } else if constexpr (std::is_same_v<T, UnexportCmd>) {
          if (!exports.unexport(cmd.oid) && !exports.get(cmd.oid)) {
            logger->debug("channel {}: UnexportCommand for unknown oid {}", config.name, cmd.oid);
          }
        } else if constexpr (std::is_same_v<T, GcCmd>) {
          logger->debug("channel {}: GCCommand ignored", config.name);
        } else if constexpr (std::is_same_v<T, CancelCmd>) {
          const bool running = requests.cancel_incoming(cmd.id);
          logger->info("channel {}: controller cancelled request {}{}", config.name, cmd.id,
                       running ? "" : " (not running)");
        } else if constexpr (std::is_same_v<T, CloseCmd>) {
          handle_close_command();
        } else if constexpr (std::is_same_v<T, StreamChunkCmd>) {
          lane.submit(cmd.io_id, [this, chunk = std::move(cmd)] {
            auto object = exports.get(chunk.oid);
            bool ok = false;
            if (object && object->sink && object->sink->write) {
              auto written = object->sink->write(chunk.data);
              ok = written.has_value();
              if (!ok) logger->warn("channel {}: write to export {} failed: {}", config.name, chunk.oid, written.error());
            } else {
              logger->warn("channel {}: Chunk for oid {} which is not an exported stream", config.name, chunk.oid);
            }
            if (config.peer_capability & kCapabilityPipeThrottling) {
              send(encode_stream_ack(chunk.oid, static_cast<std::int32_t>(chunk.data.size())));
            }
            if (!ok) send(encode_stream_dead_writer(chunk.oid));
          });
        } else if constexpr (std::is_same_v<T, StreamFlushCmd>) {
          lane.submit(cmd.io_id, [this, oid = cmd.oid] {
            auto object = exports.get(oid);
            if (object && object->sink && object->sink->flush) object->sink->flush();
          });
        } else if constexpr (std::is_same_v<T, StreamEofCmd>) {
          lane.submit(cmd.io_id, [this, eof = std::move(cmd)] {
            auto object = exports.get(eof.oid);
            if (object && object->sink && object->sink->close) object->sink->close(eof.error);
            exports.unexport(eof.oid);
          });
        } else if constexpr (std::is_same_v<T, StreamUnexportCmd>) {
          lane.submit(cmd.io_id, [this, oid = cmd.oid] { exports.unexport(oid); });
        } else if constexpr (std::is_same_v<T, StreamAckCmd>) {
          windows.ack(cmd.oid, cmd.size);
        } else if constexpr (std::is_same_v<T, StreamDeadWriterCmd>) {
          logger->info("channel {}: controller reports the reader of stream {} is gone", config.name, cmd.oid);
          windows.dead(cmd.oid);
        } else if constexpr (std::is_same_v<T, InputReadCmd>) {
          auto cancelled = requests.begin_incoming(cmd.id);
          (void)cancelled;
          workers.submit([self, read = cmd] { self->impl().serve_input_read(read); });
        } else if constexpr (std::is_same_v<T, InputEofCmd>) {
          exports.unexport(cmd.oid);
        } else if constexpr (std::is_same_v<T, PipeConnectCmd>) {
          logger->warn("channel {}: Pipe$ConnectCommand({}, {}) for a pipe Kite did not create; ignored",
                       config.name, cmd.oid_pos, cmd.oid_ros);
        } else if constexpr (std::is_same_v<T, UnknownCmd>) {
          logger->warn("channel {}: dropped a command of unknown class {}", config.name, cmd.class_name);
        }
      },
      std::move(*decoded));
}

void Channel::Impl::serve_user_request(UserRequestCmd request, std::shared_ptr<std::atomic<bool>> cancelled) {
  const std::int32_t id = request.id;
  if (request.last_io_id > 0) lane.wait_until(request.last_io_id, config.io_sync_timeout);

  auto stream = ser::read_payload(request.payload);
  const ser::Object* callable = nullptr;
  if (stream) {
    auto values = stream->values();
    if (!values.empty()) callable = values[0].as_object();
  }
  const std::int32_t loader = callable ? loader_oid_of(callable->desc, request.class_loader_oid)
                                       : request.class_loader_oid;
  CallContext ctx(owner, id, loader, cancelled);

  MethodResult result;
  if (!stream || callable == nullptr) {
    const std::string why = stream ? std::string("the payload holds no object") : stream.error().describe();
    logger->error("channel {}: request {} ({}): cannot decode the callable: {}", config.name, id,
                  request.to_string, why);
    result = std::unexpected(JavaException{
        "java.io.IOException",
        fmt::format("Kite could not decode the callable of request {} ({}): {}", id, request.to_string, why), {}});
  } else if (callable->class_name() == "hudson.remoting.RemoteInvocationHandler$UserRPCRequest") {
    auto rpc = decode_rpc_request(*callable, stream->arena);
    if (!rpc) {
      result = std::unexpected(JavaException{"java.io.IOException",
                                             "Kite could not decode " + request.to_string + ": " +
                                                 rpc.error().describe(), {}});
    } else {
      serve_rpc(std::move(*rpc), ctx, id, true);
      requests.end_incoming(id);
      requests_served.fetch_add(1, std::memory_order_relaxed);
      return;
    }
  } else if (auto internal = remoting_callable(*this, *callable, ctx)) {
    result = std::move(*internal);
  } else {
    IncomingCall call{id, callable, request.to_string, std::shared_ptr<const void>(stream->arena)};
    result = handler ? handler->call(call, ctx)
                     : std::unexpected(JavaException{"java.io.IOException", "no callable handler", {}});
  }

  std::vector<std::uint8_t> reply;
  if (result) {
    auto payload = write_payload(result->value, ctx.loader_oid());
    if (payload) {
      reply = encode_normal_response(id, ctx.last_io_id(), *payload);
    } else {
      logger->error("channel {}: request {} ({}): cannot serialize the result: {}", config.name, id,
                    request.to_string, payload.error().describe());
      result = std::unexpected(JavaException{"java.io.IOException",
                                             "Kite could not serialize the result of " + request.to_string + ": " +
                                                 payload.error().describe(), {}});
    }
  }
  if (!result) {
    auto payloads = write_exception_payloads(result.error());
    std::optional<std::span<const std::uint8_t>> raw;
    if (payloads.raw) raw = std::span<const std::uint8_t>(*payloads.raw);
    reply = encode_exception_response(id, ctx.last_io_id(), raw, payloads.proxy);
  }
  requests.end_incoming(id);
  requests_served.fetch_add(1, std::memory_order_relaxed);
  if (!send(reply)) {
    logger->warn("channel {}: response to request {} ({}) not sent: transport closed", config.name, id,
                 request.to_string);
  }
}

void Channel::Impl::serve_rpc(RpcRequestCmd rpc, CallContext& ctx, std::int32_t reply_id, bool user_request) {
  MethodResult result;
  if (rpc.oid == 1) {
    // IChannel: getProperty/waitForProperty; Kite keeps no channel properties for the controller.
    result = ReturnValue{ser::Value(ser::Null{}), ctx.arena_ptr()};
  } else if (auto object = exports.get(rpc.oid); object && object->invoke) {
    MethodCall call{rpc.declaring_class, rpc.method, rpc.types, rpc.arguments};
    result = object->invoke(call, ctx);
  } else {
    logger->warn("channel {}: RPC {}.{} on unknown object {}", config.name, rpc.declaring_class, rpc.method, rpc.oid);
    result = std::unexpected(JavaException{
        "java.lang.IllegalStateException",
        fmt::format("Invalid object ID {} for {}.{} on {}", rpc.oid, rpc.declaring_class, rpc.method, config.name),
        {}});
  }

  std::vector<std::uint8_t> reply;
  if (user_request) {
    if (result) {
      auto payload = write_payload(result->value, ctx.loader_oid());
      if (payload) {
        reply = encode_normal_response(reply_id, ctx.last_io_id(), *payload);
      } else {
        result = std::unexpected(JavaException{"java.io.IOException",
                                               "Kite could not serialize the result of " + rpc.method + ": " +
                                                   payload.error().describe(), {}});
      }
    }
    if (!result) {
      auto payloads = write_exception_payloads(result.error());
      std::optional<std::span<const std::uint8_t>> raw;
      if (payloads.raw) raw = std::span<const std::uint8_t>(*payloads.raw);
      reply = encode_exception_response(reply_id, ctx.last_io_id(), raw, payloads.proxy);
    }
  } else {
    ser::Arena arena;
    ser::Value value = result ? result->value : ser::Value(ser::Null{});
    ser::Value exception = result ? ser::Value(ser::Null{}) : make_throwable(arena, result.error());
    auto bytes = encode_bare_response(reply_id, ctx.last_io_id(), value, exception);
    if (!bytes) {
      logger->error("channel {}: cannot serialize the result of RPC {}.{}: {}", config.name, rpc.declaring_class,
                    rpc.method, bytes.error().describe());
      bytes = encode_bare_response(
          reply_id, ctx.last_io_id(), ser::Value(ser::Null{}),
          make_throwable(arena, JavaException{"java.io.IOException", "Kite could not serialize the result", {}}));
    }
    reply = std::move(*bytes);
  }
  send(reply);
}

void Channel::Impl::serve_input_read(InputReadCmd read) {
  auto object = exports.get(read.oid);
  std::vector<std::uint8_t> reply;
  if (!object || !object->source) {
    ser::Arena arena;
    auto bytes = encode_bare_response(
        read.id, 0, ser::Value(ser::Null{}),
        make_throwable(arena, JavaException{"java.io.IOException",
                                            fmt::format("no input stream exported as oid {}", read.oid), {}}));
    reply = std::move(*bytes);
  } else {
    const std::size_t want = read.length > 0 ? static_cast<std::size_t>(read.length) : 8192;
    auto data = object->source(want);
    if (data) {
      reply = encode_input_buffer_response(read.id, 0, *data, data->empty());
    } else {
      ser::Arena arena;
      reply = *encode_bare_response(read.id, 0, ser::Value(ser::Null{}),
                                    make_throwable(arena, JavaException{"java.io.IOException", data.error(), {}}));
    }
  }
  requests.end_incoming(read.id);
  send(reply);
}

void Channel::Impl::handle_close_command() {
  bool answer = false;
  {
    std::lock_guard lock(state_mutex);
    close_received = true;
    closing = true;
    if (!close_sent) {
      close_sent = true;
      answer = true;
      end.closed_by_peer = true;
      end.reason = "the controller closed the channel";
    }
  }
  state_cv.notify_all();
  logger->info("channel {}: controller sent CloseCommand", config.name);
  if (answer) send(encode_close());
  stop_ping();
  transport->close(answer ? "the controller closed the channel" : "close acknowledged");
}

void Channel::Impl::on_transport_closed(const transport::CloseReason& reason) {
  std::string why;
  {
    std::lock_guard lock(state_mutex);
    if (ended) return;
    ended = true;
    closing = true;
    end.orderly = close_sent && close_received;
    if (end.reason.empty()) end.reason = reason.message.empty() ? "transport closed" : reason.message;
    why = end.reason;
  }
  const std::size_t running = requests.running_count();
  const std::size_t pending = requests.pending_count();
  logger->info("channel {}: transport closed ({}{}); failing {} pending and interrupting {} running requests",
               config.name, reason.message, reason.orderly ? ", orderly" : "", pending, running);
  requests.fail_all("channel closed: " + why);
  requests.cancel_all_incoming();
  windows.fail_all("channel closed: " + why);
  stop_ping();
  exports.clear();
  state_cv.notify_all();
}

}  // namespace kite::channel
