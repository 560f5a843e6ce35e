// The remoting commands as C++ values, and their codec.
//
// Every command travels as one Java serialization stream whose top object is
// a hudson.remoting.Command subclass, with empty class annotations (a plain
// ObjectOutputStream). decode_command() turns received bytes into one of the
// structs below; the encode_* functions write what remoting's Java classes
// write, with createdAt always null (every receiver accepts that).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "protocol/serialization/error.hpp"
#include "protocol/serialization/value.hpp"

namespace kite::channel {

// hudson.remoting.UserRequest: a callable serialized as a nested payload.
struct UserRequestCmd {
  std::int32_t id = 0;
  std::int32_t last_io_id = 0;
  // Export id of the sender's class loader named by classLoaderProxy (0 when absent).
  std::int32_t class_loader_oid = 0;
  std::vector<std::uint8_t> payload;  // MultiClassLoaderSerializer stream
  std::string to_string;              // callable.toString() on the sender
};

// hudson.remoting.Response. For a UserRequest the value is a NormalResponse or
// ExceptionResponse object; for a bare Request it is the value itself.
struct ResponseCmd {
  std::int32_t id = 0;
  std::int32_t last_io_id = 0;
  ser::Value exception;     // Throwable or null
  ser::Value return_value;  // Serializable or null
  std::shared_ptr<ser::Arena> arena;  // owns the nodes the two values point at
};

// RemoteInvocationHandler$RPCRequest (bare command) or, inside a UserRequest
// payload, $UserRPCRequest.
struct RpcRequestCmd {
  std::int32_t id = 0;
  std::int32_t last_io_id = 0;
  std::int32_t oid = 0;
  std::string declaring_class;
  std::string method;
  std::vector<std::string> types;
  std::vector<ser::Value> arguments;
  bool user_rpc = false;  // UserRPCRequest
  std::shared_ptr<ser::Arena> arena;
};

struct UnexportCmd { std::int32_t oid = 0; };
struct GcCmd {};
struct CancelCmd { std::int32_t id = 0; };
struct CloseCmd {};

// ProxyOutputStream commands: the sender writes into the receiver's export `oid`.
struct StreamChunkCmd {
  std::int32_t io_id = 0, oid = 0, request_id = 0;
  std::vector<std::uint8_t> data;
};
struct StreamFlushCmd { std::int32_t io_id = 0, oid = 0, request_id = 0; };
struct StreamEofCmd {
  std::int32_t io_id = 0, oid = 0, request_id = 0;
  std::optional<std::string> error;  // toString of the error, when one was sent
};
struct StreamUnexportCmd { std::int32_t io_id = 0, oid = 0; };
struct StreamAckCmd { std::int32_t oid = 0, size = 0; };
struct StreamDeadWriterCmd { std::int32_t oid = 0; };

// ProxyInputStream$Chunk: a read request on the receiver's export `oid` (a Request).
struct InputReadCmd { std::int32_t id = 0, last_io_id = 0, oid = 0, length = 0; };
// ProxyInputStream$EOF: the reader is done with export `oid`.
struct InputEofCmd { std::int32_t oid = 0; };
// Pipe$ConnectCommand: connect the pending writer `oid_ros` to the sink `oid_pos`.
struct PipeConnectCmd { std::int32_t oid_pos = 0, oid_ros = 0; };

// A command class Kite does not know; logged and dropped, as remoting does.
struct UnknownCmd { std::string class_name; };

using Command = std::variant<UserRequestCmd, ResponseCmd, RpcRequestCmd, UnexportCmd, GcCmd, CancelCmd,
                             CloseCmd, StreamChunkCmd, StreamFlushCmd, StreamEofCmd, StreamUnexportCmd,
                             StreamAckCmd, StreamDeadWriterCmd, InputReadCmd, InputEofCmd, PipeConnectCmd,
                             UnknownCmd>;

// Name of the command kind, for logs ("UserRequest", "ProxyOutputStream$Chunk", ...).
std::string command_name(const Command& command);

// Parses one received command. Malformed streams and fields of the wrong type
// are errors with the offset or field involved.
ser::Result<Command> decode_command(std::span<const std::uint8_t> bytes);

// Reads an RPCRequest/UserRPCRequest object (from a command or a payload).
ser::Result<RpcRequestCmd> decode_rpc_request(const ser::Object& object, std::shared_ptr<ser::Arena> arena);

// ---------------------------------------------------------------- encoding

// A UserRequest from Kite. `class_loader_oid` is Kite's export of its
// IClassLoader, written as a proxy with userProxy=false.
std::vector<std::uint8_t> encode_user_request(std::int32_t id, std::int32_t last_io_id,
                                              std::int32_t class_loader_oid,
                                              std::span<const std::uint8_t> payload,
                                              const std::string& to_string);
// Response to a UserRequest: a NormalResponse with the payload of the value.
std::vector<std::uint8_t> encode_normal_response(std::int32_t id, std::int32_t last_io_id,
                                                 std::span<const std::uint8_t> payload);
// Response to a UserRequest whose callable threw: both payloads as remoting
// writes them (rawResponse may be absent; proxyResponse holds a ProxyException).
std::vector<std::uint8_t> encode_exception_response(std::int32_t id, std::int32_t last_io_id,
                                                    std::optional<std::span<const std::uint8_t>> raw,
                                                    std::span<const std::uint8_t> proxy);
// Response to a bare Request: the value or the exception at command level.
// Returns an error when the value graph cannot be written.
ser::Result<std::vector<std::uint8_t>> encode_bare_response(std::int32_t id, std::int32_t last_io_id,
                                                            const ser::Value& return_value,
                                                            const ser::Value& exception);
// A bare RPCRequest from Kite (calls on the controller's internal exports).
std::vector<std::uint8_t> encode_rpc_request(std::int32_t id, std::int32_t oid, const std::string& declaring_class,
                                             const std::string& method);
std::vector<std::uint8_t> encode_unexport(std::int32_t oid);
std::vector<std::uint8_t> encode_close();
std::vector<std::uint8_t> encode_stream_chunk(std::int32_t io_id, std::int32_t oid, std::int32_t request_id,
                                              std::span<const std::uint8_t> data);
std::vector<std::uint8_t> encode_stream_flush(std::int32_t io_id, std::int32_t oid, std::int32_t request_id);
// `error`, when given, is the Throwable the reader's stream fails with, as
// remoting's Pipe.error sends it.
std::vector<std::uint8_t> encode_stream_eof(std::int32_t io_id, std::int32_t oid, std::int32_t request_id,
                                            const ser::Value* error = nullptr);
std::vector<std::uint8_t> encode_stream_ack(std::int32_t oid, std::int32_t size);
std::vector<std::uint8_t> encode_stream_dead_writer(std::int32_t oid);
// ProxyOutputStream$Unexport: the writer drops the controller's export of
// stream `oid` without closing the stream.
std::vector<std::uint8_t> encode_stream_unexport(std::int32_t io_id, std::int32_t oid);
std::vector<std::uint8_t> encode_input_read(std::int32_t id, std::int32_t last_io_id, std::int32_t oid,
                                            std::int32_t length);
std::vector<std::uint8_t> encode_input_eof(std::int32_t oid);
// Response to a ProxyInputStream$Chunk: a ProxyInputStream$Buffer holding
// `data` (len = data size, or -1 at EOF).
std::vector<std::uint8_t> encode_input_buffer_response(std::int32_t id, std::int32_t last_io_id,
                                                       std::span<const std::uint8_t> data, bool eof);
// A PingThread$Ping object (the callable of remoting pings) in `arena`.
ser::Value make_ping(ser::Arena& arena);
std::vector<std::uint8_t> encode_pipe_connect(std::int32_t oid_pos, std::int32_t oid_ros);

// Export id inside a RemoteInvocationHandler proxy object (the `h` field of a
// java.lang.reflect.Proxy), or nullopt for another shape.
std::optional<std::int32_t> proxy_oid(const ser::Value& proxy);

}  // namespace kite::channel
