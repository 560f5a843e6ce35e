#include "protocol/channel/commands.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string_view>
#include <utility>

#include "protocol/serialization/build.hpp"
#include "protocol/serialization/jdk.hpp"
#include "protocol/serialization/reader.hpp"
#include "protocol/serialization/writer.hpp"

namespace kite::channel {
namespace {

using ser::ClassSpec;
using ser::FieldSpec;

// Descriptors of the commands Kite writes, built once with remoting's
// serialVersionUIDs and field lists, and kept for the life of the process.
struct Descriptors {
  ser::Arena arena;
  const ser::ClassDesc* command = nullptr;
  const ser::ClassDesc* request = nullptr;
  const ser::ClassDesc* user_request = nullptr;
  const ser::ClassDesc* response = nullptr;
  const ser::ClassDesc* normal_response = nullptr;
  const ser::ClassDesc* exception_response = nullptr;
  const ser::ClassDesc* rpc_request = nullptr;
  const ser::ClassDesc* invocation_handler = nullptr;
  const ser::ClassDesc* unexport = nullptr;
  const ser::ClassDesc* close = nullptr;
  const ser::ClassDesc* chunk = nullptr;
  const ser::ClassDesc* flush = nullptr;
  const ser::ClassDesc* eof = nullptr;
  const ser::ClassDesc* ack = nullptr;
  const ser::ClassDesc* dead_writer = nullptr;
  const ser::ClassDesc* stream_unexport = nullptr;
  const ser::ClassDesc* input_chunk = nullptr;
  const ser::ClassDesc* input_eof = nullptr;
  const ser::ClassDesc* pipe_connect = nullptr;
  const ser::ClassDesc* input_buffer = nullptr;
  const ser::ClassDesc* ping = nullptr;

  Descriptors() {
    auto make = [this](ClassSpec spec) { return ser::make_class_desc(arena, spec); };
    command = make({"hudson.remoting.Command", 1, ser::kScSerializable,
                    {{'L', "createdAt", "Ljava/lang/Exception;"}}, nullptr});
    request = make({"hudson.remoting.Request", 1, ser::kScSerializable,
                    {{'I', "id", ""}, {'I', "lastIoId", ""}, {'L', "response", "Lhudson/remoting/Response;"}},
                    command});
    user_request = make({"hudson.remoting.UserRequest", 1, ser::kScSerializable,
                         {{'L', "classLoaderProxy", "Lhudson/remoting/RemoteClassLoader$IClassLoader;"},
                          {'[', "request", "[B"},
                          {'L', "toString", "Ljava/lang/String;"}},
                         request});
    response = make({"hudson.remoting.Response", 1, ser::kScSerializable,
                     {{'I', "id", ""}, {'I', "lastIoId", ""}, {'L', "exception", "Ljava/lang/Throwable;"},
                      {'L', "returnValue", "Ljava/io/Serializable;"}},
                     command});
    normal_response = make({"hudson.remoting.UserRequest$NormalResponse", 1, ser::kScSerializable,
                            {{'[', "response", "[B"}}, nullptr});
    exception_response = make({"hudson.remoting.UserRequest$ExceptionResponse", 1, ser::kScSerializable,
                               {{'[', "proxyResponse", "[B"}, {'[', "rawResponse", "[B"}}, nullptr});
    rpc_request = make({"hudson.remoting.RemoteInvocationHandler$RPCRequest", 1, ser::kScSerializable,
                        {{'I', "oid", ""}, {'[', "arguments", "[Ljava/lang/Object;"},
                         {'L', "declaringClassName", "Ljava/lang/String;"},
                         {'L', "methodName", "Ljava/lang/String;"}, {'[', "types", "[Ljava/lang/String;"}},
                        request});
    invocation_handler = make({"hudson.remoting.RemoteInvocationHandler", 1,
                               ser::kScSerializable | ser::kScWriteMethod,
                               {{'Z', "autoUnexportByCaller", ""}, {'Z', "goingHome", ""}, {'I', "oid", ""},
                                {'Z', "recordCreatedAt", ""}, {'Z', "userProxy", ""}, {'Z', "userSpace", ""},
                                {'L', "origin", "Ljava/lang/Throwable;"}},
                               nullptr});
    unexport = make({"hudson.remoting.UnexportCommand", 1, ser::kScSerializable, {{'I', "oid", ""}}, command});
    close = make({"hudson.remoting.Channel$CloseCommand", 972857271608138115LL, ser::kScSerializable, {}, command});
    chunk = make({"hudson.remoting.ProxyOutputStream$Chunk", 1, ser::kScSerializable,
                  {{'I', "ioId", ""}, {'I', "oid", ""}, {'I', "requestId", ""}, {'[', "buf", "[B"}}, command});
    flush = make({"hudson.remoting.ProxyOutputStream$Flush", 1, ser::kScSerializable,
                  {{'I', "ioId", ""}, {'I', "oid", ""}, {'I', "requestId", ""}}, command});
    eof = make({"hudson.remoting.ProxyOutputStream$EOF", 1, ser::kScSerializable,
                {{'I', "ioId", ""}, {'I', "oid", ""}, {'I', "requestId", ""},
                 {'L', "error", "Ljava/lang/Throwable;"}},
                command});
    ack = make({"hudson.remoting.ProxyOutputStream$Ack", 1, ser::kScSerializable,
                {{'I', "oid", ""}, {'I', "size", ""}}, command});
    dead_writer = make({"hudson.remoting.ProxyOutputStream$NotifyDeadWriter", 1, ser::kScSerializable,
                        {{'I', "oid", ""}}, command});
    stream_unexport = make({"hudson.remoting.ProxyOutputStream$Unexport", 1, ser::kScSerializable,
                            {{'I', "ioId", ""}, {'I', "oid", ""}}, command});
    input_chunk = make({"hudson.remoting.ProxyInputStream$Chunk", 1, ser::kScSerializable,
                        {{'I', "len", ""}, {'I', "oid", ""}}, request});
    input_eof = make({"hudson.remoting.ProxyInputStream$EOF", 1, ser::kScSerializable, {{'I', "oid", ""}}, command});
    pipe_connect = make({"hudson.remoting.Pipe$ConnectCommand", -9128735897846418140LL, ser::kScSerializable,
                         {{'I', "oidPos", ""}, {'I', "oidRos", ""}}, command});
    input_buffer = make({"hudson.remoting.ProxyInputStream$Buffer", 1, ser::kScSerializable,
                         {{'I', "len", ""}, {'[', "buf", "[B"}}, nullptr});
    ping = make({"hudson.remoting.PingThread$Ping", 1, ser::kScSerializable, {}, nullptr});
  }
};

const Descriptors& descriptors() {
  static const Descriptors d;
  return d;
}

// Writes one command-level stream (empty class annotations). The graphs built
// here only hold values the descriptors allow, so a writer error is a bug.
std::vector<std::uint8_t> write_command(const ser::Value& command) {
  ser::WriterOptions options;
  options.annotations = ser::AnnotationMode::Empty;
  auto bytes = ser::write_values(std::span<const ser::Value>(&command, 1), options);
  if (!bytes) {
    throw std::logic_error("remoting command graph rejected by the writer: " + bytes.error().describe());
  }
  return std::move(*bytes);
}

ser::Object* new_command(ser::Arena& arena, const ser::ClassDesc* desc) { return ser::make_object(arena, desc); }

void set(ser::Object* o, std::string_view field, ser::Value v) {
  if (!o->set(field, v)) {
    throw std::logic_error(fmt::format("no field {} in {}", field, o->class_name()));
  }
}

ser::Error field_error(std::string_view cls, std::string_view field) {
  return ser::Error{ser::ErrorCode::InvalidGraph, 0,
                    fmt::format("{}: field {} is missing or has the wrong type", cls, field)};
}

ser::Result<std::int32_t> int_field(const ser::Object& o, std::string_view field) {
  const ser::Value* v = o.field(field);
  if (v == nullptr || !v->as_int()) return std::unexpected(field_error(o.class_name(), field));
  return *v->as_int();
}

// A String field; null gives an empty string.
ser::Result<std::string> string_field(const ser::Object& o, std::string_view field) {
  const ser::Value* v = o.field(field);
  if (v == nullptr) return std::unexpected(field_error(o.class_name(), field));
  if (v->is_null()) return std::string();
  auto s = v->as_string();
  if (!s) return std::unexpected(field_error(o.class_name(), field));
  return *s;
}

ser::Result<std::vector<std::uint8_t>> bytes_field(const ser::Object& o, std::string_view field) {
  const ser::Value* v = o.field(field);
  if (v == nullptr) return std::unexpected(field_error(o.class_name(), field));
  if (v->is_null()) return std::vector<std::uint8_t>();
  auto b = v->as_bytes();
  if (!b) return std::unexpected(field_error(o.class_name(), field));
  return std::vector<std::uint8_t>(b->begin(), b->end());
}

template <class T>
ser::Result<Command> ok(T value) {
  return Command(std::move(value));
}

}  // namespace

std::string command_name(const Command& command) {
  struct Namer {
    std::string operator()(const UserRequestCmd&) const { return "UserRequest"; }
    std::string operator()(const ResponseCmd&) const { return "Response"; }
    std::string operator()(const RpcRequestCmd& c) const { return c.user_rpc ? "UserRPCRequest" : "RPCRequest"; }
    std::string operator()(const UnexportCmd&) const { return "UnexportCommand"; }
    std::string operator()(const GcCmd&) const { return "GCCommand"; }
    std::string operator()(const CancelCmd&) const { return "Request$Cancel"; }
    std::string operator()(const CloseCmd&) const { return "Channel$CloseCommand"; }
    std::string operator()(const StreamChunkCmd&) const { return "ProxyOutputStream$Chunk"; }
    std::string operator()(const StreamFlushCmd&) const { return "ProxyOutputStream$Flush"; }
    std::string operator()(const StreamEofCmd&) const { return "ProxyOutputStream$EOF"; }
    std::string operator()(const StreamUnexportCmd&) const { return "ProxyOutputStream$Unexport"; }
    std::string operator()(const StreamAckCmd&) const { return "ProxyOutputStream$Ack"; }
    std::string operator()(const StreamDeadWriterCmd&) const { return "ProxyOutputStream$NotifyDeadWriter"; }
    std::string operator()(const InputReadCmd&) const { return "ProxyInputStream$Chunk"; }
    std::string operator()(const InputEofCmd&) const { return "ProxyInputStream$EOF"; }
    std::string operator()(const PipeConnectCmd&) const { return "Pipe$ConnectCommand"; }
    std::string operator()(const UnknownCmd& c) const { return c.class_name; }
  };
  return std::visit(Namer{}, command);
}

std::optional<std::int32_t> proxy_oid(const ser::Value& proxy) {
  const ser::Object* p = proxy.as_object();
  if (p == nullptr || p->desc == nullptr || !p->desc->proxy) return std::nullopt;
  const ser::Value* h = p->field("h");
  if (h == nullptr) return std::nullopt;
  const ser::Object* handler = h->as_object();
  if (handler == nullptr || handler->class_name() != "hudson.remoting.RemoteInvocationHandler") return std::nullopt;
  const ser::Value* oid = handler->field("oid");
  if (oid == nullptr) return std::nullopt;
  return oid->as_int();
}

ser::Result<RpcRequestCmd> decode_rpc_request(const ser::Object& o, std::shared_ptr<ser::Arena> arena) {
  RpcRequestCmd c;
  c.user_rpc = o.class_name() == "hudson.remoting.RemoteInvocationHandler$UserRPCRequest";
  auto id = int_field(o, "id");
  auto io = int_field(o, "lastIoId");
  auto oid = int_field(o, "oid");
  auto decl = string_field(o, "declaringClassName");
  auto method = string_field(o, "methodName");
  if (!id) return std::unexpected(id.error());
  if (!io) return std::unexpected(io.error());
  if (!oid) return std::unexpected(oid.error());
  if (!decl) return std::unexpected(decl.error());
  if (!method) return std::unexpected(method.error());
  c.id = *id;
  c.last_io_id = *io;
  c.oid = *oid;
  c.declaring_class = std::move(*decl);
  c.method = std::move(*method);
  if (const ser::Value* types = o.field("types"); types != nullptr && !types->is_null()) {
    const ser::Array* a = types->as_array();
    if (a == nullptr) return std::unexpected(field_error(o.class_name(), "types"));
    for (const ser::Value& t : a->elements) {
      auto s = t.as_string();
      if (!s) return std::unexpected(field_error(o.class_name(), "types"));
      c.types.push_back(std::move(*s));
    }
  }
  if (const ser::Value* args = o.field("arguments"); args != nullptr && !args->is_null()) {
    const ser::Array* a = args->as_array();
    if (a == nullptr || a->is_primitive()) return std::unexpected(field_error(o.class_name(), "arguments"));
    c.arguments = a->elements;
  }
  c.arena = std::move(arena);
  return c;
}

ser::Result<Command> decode_command(std::span<const std::uint8_t> bytes) {
  auto stream = ser::read_stream(bytes);
  if (!stream) return std::unexpected(stream.error());
  auto values = stream->values();
  if (values.size() != 1 || values[0].as_object() == nullptr) {
    return std::unexpected(ser::Error{ser::ErrorCode::InvalidGraph, 0,
                                      fmt::format("a command stream must hold exactly one object, found {} values",
                                                  values.size())});
  }
  const ser::Object& o = *values[0].as_object();
  const std::string_view cls = o.class_name();

  if (cls == "hudson.remoting.UserRequest") {
    UserRequestCmd c;
    auto id = int_field(o, "id");
    auto io = int_field(o, "lastIoId");
    auto payload = bytes_field(o, "request");
    auto text = string_field(o, "toString");
    if (!id) return std::unexpected(id.error());
    if (!io) return std::unexpected(io.error());
    if (!payload) return std::unexpected(payload.error());
    if (!text) return std::unexpected(text.error());
    c.id = *id;
    c.last_io_id = *io;
    c.payload = std::move(*payload);
    c.to_string = std::move(*text);
    if (const ser::Value* proxy = o.field("classLoaderProxy"); proxy != nullptr) {
      c.class_loader_oid = proxy_oid(*proxy).value_or(0);
    }
    return ok(std::move(c));
  }
  if (cls == "hudson.remoting.Response") {
    ResponseCmd c;
    auto id = int_field(o, "id");
    auto io = int_field(o, "lastIoId");
    if (!id) return std::unexpected(id.error());
    if (!io) return std::unexpected(io.error());
    c.id = *id;
    c.last_io_id = *io;
    if (const ser::Value* v = o.field("exception")) c.exception = *v;
    if (const ser::Value* v = o.field("returnValue")) c.return_value = *v;
    c.arena = stream->arena;
    return ok(std::move(c));
  }
  if (cls == "hudson.remoting.RemoteInvocationHandler$RPCRequest" ||
      cls == "hudson.remoting.RemoteInvocationHandler$UserRPCRequest") {
    auto c = decode_rpc_request(o, stream->arena);
    if (!c) return std::unexpected(c.error());
    return ok(std::move(*c));
  }
  if (cls == "hudson.remoting.UnexportCommand") {
    auto oid = int_field(o, "oid");
    if (!oid) return std::unexpected(oid.error());
    return ok(UnexportCmd{*oid});
  }
  if (cls == "hudson.remoting.GCCommand") return ok(GcCmd{});
  if (cls == "hudson.remoting.Request$Cancel") {
    auto id = int_field(o, "id");
    if (!id) return std::unexpected(id.error());
    return ok(CancelCmd{*id});
  }
  if (cls == "hudson.remoting.Channel$CloseCommand") return ok(CloseCmd{});
  if (cls == "hudson.remoting.ProxyOutputStream$Chunk") {
    auto io = int_field(o, "ioId");
    auto oid = int_field(o, "oid");
    auto rid = int_field(o, "requestId");
    auto buf = bytes_field(o, "buf");
    if (!io) return std::unexpected(io.error());
    if (!oid) return std::unexpected(oid.error());
    if (!rid) return std::unexpected(rid.error());
    if (!buf) return std::unexpected(buf.error());
    return ok(StreamChunkCmd{*io, *oid, *rid, std::move(*buf)});
  }
  if (cls == "hudson.remoting.ProxyOutputStream$Flush" || cls == "hudson.remoting.ProxyOutputStream$EOF") {
    auto io = int_field(o, "ioId");
    auto oid = int_field(o, "oid");
    auto rid = int_field(o, "requestId");
    if (!io) return std::unexpected(io.error());
    if (!oid) return std::unexpected(oid.error());
    if (!rid) return std::unexpected(rid.error());
    if (cls.ends_with("Flush")) return ok(StreamFlushCmd{*io, *oid, *rid});
    StreamEofCmd c{*io, *oid, *rid, std::nullopt};
    if (const ser::Value* e = o.field("error"); e != nullptr && !e->is_null()) {
      const ser::Object* t = e->as_object();
      std::string text = t ? std::string(t->class_name()) : "error";
      if (t) {
        if (const ser::Value* m = t->field("detailMessage"); m && m->as_string()) text += ": " + *m->as_string();
      }
      c.error = text;
    }
    return ok(std::move(c));
  }
  if (cls == "hudson.remoting.ProxyOutputStream$Unexport") {
    auto io = int_field(o, "ioId");
    auto oid = int_field(o, "oid");
    if (!io) return std::unexpected(io.error());
    if (!oid) return std::unexpected(oid.error());
    return ok(StreamUnexportCmd{*io, *oid});
  }
  if (cls == "hudson.remoting.ProxyOutputStream$Ack") {
    auto oid = int_field(o, "oid");
    auto size = int_field(o, "size");
    if (!oid) return std::unexpected(oid.error());
    if (!size) return std::unexpected(size.error());
    return ok(StreamAckCmd{*oid, *size});
  }
  if (cls == "hudson.remoting.ProxyOutputStream$NotifyDeadWriter") {
    auto oid = int_field(o, "oid");
    if (!oid) return std::unexpected(oid.error());
    return ok(StreamDeadWriterCmd{*oid});
  }
  if (cls == "hudson.remoting.ProxyInputStream$Chunk") {
    auto id = int_field(o, "id");
    auto io = int_field(o, "lastIoId");
    auto oid = int_field(o, "oid");
    auto len = int_field(o, "len");
    if (!id) return std::unexpected(id.error());
    if (!io) return std::unexpected(io.error());
    if (!oid) return std::unexpected(oid.error());
    if (!len) return std::unexpected(len.error());
    return ok(InputReadCmd{*id, *io, *oid, *len});
  }
  if (cls == "hudson.remoting.ProxyInputStream$EOF") {
    auto oid = int_field(o, "oid");
    if (!oid) return std::unexpected(oid.error());
    return ok(InputEofCmd{*oid});
  }
  if (cls == "hudson.remoting.Pipe$ConnectCommand") {
    auto pos = int_field(o, "oidPos");
    auto ros = int_field(o, "oidRos");
    if (!pos) return std::unexpected(pos.error());
    if (!ros) return std::unexpected(ros.error());
    return ok(PipeConnectCmd{*pos, *ros});
  }
  return ok(UnknownCmd{std::string(cls)});
}

// ---------------------------------------------------------------- encoding

namespace {

ser::Object* invocation_handler(ser::Arena& arena, std::int32_t oid, bool user_proxy) {
  ser::Object* h = ser::make_object(arena, descriptors().invocation_handler);
  set(h, "oid", oid);
  set(h, "userProxy", user_proxy);
  set(h, "userSpace", user_proxy);
  return h;
}

}  // namespace

std::vector<std::uint8_t> encode_user_request(std::int32_t id, std::int32_t last_io_id,
                                              std::int32_t class_loader_oid,
                                              std::span<const std::uint8_t> payload,
                                              const std::string& to_string) {
  ser::Arena arena;
  ser::Object* o = new_command(arena, descriptors().user_request);
  set(o, "id", id);
  set(o, "lastIoId", last_io_id);
  ser::Object* proxy = ser::make_proxy(
      arena, {"hudson.remoting.RemoteClassLoader$IClassLoader", "hudson.remoting.IReadResolve"},
      invocation_handler(arena, class_loader_oid, false));
  set(o, "classLoaderProxy", static_cast<const ser::Object*>(proxy));
  set(o, "request", ser::jdk::bytes(arena, payload));
  set(o, "toString", ser::jdk::string(arena, to_string));
  return write_command(static_cast<const ser::Object*>(o));
}

namespace {

ser::Object* response_object(ser::Arena& arena, std::int32_t id, std::int32_t last_io_id) {
  ser::Object* o = new_command(arena, descriptors().response);
  set(o, "id", id);
  set(o, "lastIoId", last_io_id);
  return o;
}

}  // namespace

std::vector<std::uint8_t> encode_normal_response(std::int32_t id, std::int32_t last_io_id,
                                                 std::span<const std::uint8_t> payload) {
  ser::Arena arena;
  ser::Object* o = response_object(arena, id, last_io_id);
  ser::Object* normal = ser::make_object(arena, descriptors().normal_response);
  set(normal, "response", ser::jdk::bytes(arena, payload));
  set(o, "returnValue", static_cast<const ser::Object*>(normal));
  return write_command(static_cast<const ser::Object*>(o));
}

std::vector<std::uint8_t> encode_exception_response(std::int32_t id, std::int32_t last_io_id,
                                                    std::optional<std::span<const std::uint8_t>> raw,
                                                    std::span<const std::uint8_t> proxy) {
  ser::Arena arena;
  ser::Object* o = response_object(arena, id, last_io_id);
  ser::Object* ex = ser::make_object(arena, descriptors().exception_response);
  if (raw) set(ex, "rawResponse", ser::jdk::bytes(arena, *raw));
  set(ex, "proxyResponse", ser::jdk::bytes(arena, proxy));
  set(o, "returnValue", static_cast<const ser::Object*>(ex));
  return write_command(static_cast<const ser::Object*>(o));
}

ser::Result<std::vector<std::uint8_t>> encode_bare_response(std::int32_t id, std::int32_t last_io_id,
                                                            const ser::Value& return_value,
                                                            const ser::Value& exception) {
  ser::Arena arena;
  ser::Object* o = response_object(arena, id, last_io_id);
  set(o, "returnValue", return_value);
  set(o, "exception", exception);
  ser::WriterOptions options;
  options.annotations = ser::AnnotationMode::Empty;
  const ser::Value top = static_cast<const ser::Object*>(o);
  return ser::write_values(std::span<const ser::Value>(&top, 1), options);
}

std::vector<std::uint8_t> encode_rpc_request(std::int32_t id, std::int32_t oid, const std::string& declaring_class,
                                             const std::string& method) {
  ser::Arena arena;
  ser::Object* o = new_command(arena, descriptors().rpc_request);
  set(o, "id", id);
  set(o, "oid", oid);
  set(o, "declaringClassName", ser::jdk::string(arena, declaring_class));
  set(o, "methodName", ser::jdk::string(arena, method));
  set(o, "arguments", ser::jdk::object_array(arena, {}));
  set(o, "types", ser::jdk::string_array(arena, {}));
  return write_command(static_cast<const ser::Object*>(o));
}

namespace {

std::vector<std::uint8_t> simple(const ser::ClassDesc* desc,
                                 std::initializer_list<std::pair<std::string_view, std::int32_t>> ints) {
  ser::Arena arena;
  ser::Object* o = new_command(arena, desc);
  for (const auto& [name, value] : ints) set(o, name, value);
  return write_command(static_cast<const ser::Object*>(o));
}

}  // namespace

std::vector<std::uint8_t> encode_unexport(std::int32_t oid) { return simple(descriptors().unexport, {{"oid", oid}}); }
std::vector<std::uint8_t> encode_close() { return simple(descriptors().close, {}); }

namespace {

std::vector<std::uint8_t> encode_stream_chunk_generic(std::int32_t io_id, std::int32_t oid, std::int32_t request_id,
                                                      std::span<const std::uint8_t> data) {
  ser::Arena arena;
  ser::Object* o = new_command(arena, descriptors().chunk);
  set(o, "ioId", io_id);
  set(o, "oid", oid);
  set(o, "requestId", request_id);
  set(o, "buf", ser::jdk::bytes(arena, data));
  return write_command(static_cast<const ser::Object*>(o));
}

// The bytes of a ProxyOutputStream$Chunk command up to its byte array's
// length, which the writer produces identically for every chunk except for
// the three int fields. The array is the last value of the stream.
struct ChunkTemplate {
  std::vector<std::uint8_t> prefix;  // ends just before the array length
  std::size_t io_id_at = 0;
  std::size_t oid_at = 0;
  std::size_t request_id_at = 0;
  bool usable = false;
};

void put_int(std::uint8_t* at, std::int32_t value) {
  const auto v = static_cast<std::uint32_t>(value);
  at[0] = static_cast<std::uint8_t>(v >> 24);
  at[1] = static_cast<std::uint8_t>(v >> 16);
  at[2] = static_cast<std::uint8_t>(v >> 8);
  at[3] = static_cast<std::uint8_t>(v);
}

// Finds the only occurrence of `value` (big-endian) in `bytes`; npos when absent or repeated.
std::size_t find_int_once(const std::vector<std::uint8_t>& bytes, std::int32_t value) {
  std::uint8_t pattern[4];
  put_int(pattern, value);
  std::size_t found = std::string_view::npos;
  for (std::size_t i = 0; i + 4 <= bytes.size(); ++i) {
    if (std::equal(pattern, pattern + 4, bytes.begin() + static_cast<std::ptrdiff_t>(i))) {
      if (found != std::string_view::npos) return std::string_view::npos;
      found = i;
    }
  }
  return found;
}

// Encodes an empty chunk with marker values through the generic writer and
// records where the fields are. Any surprise leaves the template unusable,
// and every chunk then takes the generic path.
ChunkTemplate make_chunk_template() {
  constexpr std::int32_t kIoMarker = 0x4B1A0001;
  constexpr std::int32_t kOidMarker = 0x4B1A0002;
  constexpr std::int32_t kRequestMarker = 0x4B1A0003;
  ChunkTemplate t;
  auto bytes = encode_stream_chunk_generic(kIoMarker, kOidMarker, kRequestMarker, {});
  if (bytes.size() < 4 || !std::all_of(bytes.end() - 4, bytes.end(), [](std::uint8_t b) { return b == 0; })) return t;
  bytes.resize(bytes.size() - 4);
  t.io_id_at = find_int_once(bytes, kIoMarker);
  t.oid_at = find_int_once(bytes, kOidMarker);
  t.request_id_at = find_int_once(bytes, kRequestMarker);
  if (t.io_id_at == std::string_view::npos || t.oid_at == std::string_view::npos ||
      t.request_id_at == std::string_view::npos) {
    return t;
  }
  t.prefix = std::move(bytes);
  t.usable = true;
  return t;
}

std::vector<std::uint8_t> encode_from_template(const ChunkTemplate& t, std::int32_t io_id, std::int32_t oid,
                                               std::int32_t request_id, std::span<const std::uint8_t> data) {
  std::vector<std::uint8_t> out;
  out.reserve(t.prefix.size() + 4 + data.size());
  out.insert(out.end(), t.prefix.begin(), t.prefix.end());
  put_int(out.data() + t.io_id_at, io_id);
  put_int(out.data() + t.oid_at, oid);
  put_int(out.data() + t.request_id_at, request_id);
  std::uint8_t length[4];
  put_int(length, static_cast<std::int32_t>(data.size()));
  out.insert(out.end(), length, length + 4);
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

// The template, kept only when it reproduces the generic writer's bytes for a sample chunk.
ChunkTemplate verified_chunk_template() {
  ChunkTemplate t = make_chunk_template();
  const std::uint8_t sample[] = {0x00, 0x7f, 0x80, 0xff, 0x0a};
  if (t.usable && encode_from_template(t, 7, 300, 70000, sample) != encode_stream_chunk_generic(7, 300, 70000, sample)) {
    t.usable = false;
  }
  return t;
}

}  // namespace

// Output streaming sends one Chunk per pump read, so this skips the object
// graph and the generic writer: the data is copied once, after a template of
// the bytes the writer produces (verified once against a sample chunk).
std::vector<std::uint8_t> encode_stream_chunk(std::int32_t io_id, std::int32_t oid, std::int32_t request_id,
                                              std::span<const std::uint8_t> data) {
  static const ChunkTemplate t = verified_chunk_template();
  if (!t.usable || data.size() > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())) {
    return encode_stream_chunk_generic(io_id, oid, request_id, data);
  }
  return encode_from_template(t, io_id, oid, request_id, data);
}

std::vector<std::uint8_t> encode_stream_flush(std::int32_t io_id, std::int32_t oid, std::int32_t request_id) {
  return simple(descriptors().flush, {{"ioId", io_id}, {"oid", oid}, {"requestId", request_id}});
}
std::vector<std::uint8_t> encode_stream_eof(std::int32_t io_id, std::int32_t oid, std::int32_t request_id,
                                            const ser::Value* error) {
  if (error == nullptr) return simple(descriptors().eof, {{"ioId", io_id}, {"oid", oid}, {"requestId", request_id}});
  ser::Arena arena;
  ser::Object* o = new_command(arena, descriptors().eof);
  set(o, "ioId", io_id);
  set(o, "oid", oid);
  set(o, "requestId", request_id);
  set(o, "error", *error);
  return write_command(static_cast<const ser::Object*>(o));
}
std::vector<std::uint8_t> encode_stream_ack(std::int32_t oid, std::int32_t size) {
  return simple(descriptors().ack, {{"oid", oid}, {"size", size}});
}
std::vector<std::uint8_t> encode_stream_dead_writer(std::int32_t oid) {
  return simple(descriptors().dead_writer, {{"oid", oid}});
}
std::vector<std::uint8_t> encode_stream_unexport(std::int32_t io_id, std::int32_t oid) {
  return simple(descriptors().stream_unexport, {{"ioId", io_id}, {"oid", oid}});
}
std::vector<std::uint8_t> encode_input_read(std::int32_t id, std::int32_t last_io_id, std::int32_t oid,
                                            std::int32_t length) {
  return simple(descriptors().input_chunk, {{"id", id}, {"lastIoId", last_io_id}, {"oid", oid}, {"len", length}});
}
std::vector<std::uint8_t> encode_input_eof(std::int32_t oid) { return simple(descriptors().input_eof, {{"oid", oid}}); }
std::vector<std::uint8_t> encode_pipe_connect(std::int32_t oid_pos, std::int32_t oid_ros) {
  return simple(descriptors().pipe_connect, {{"oidPos", oid_pos}, {"oidRos", oid_ros}});
}

std::vector<std::uint8_t> encode_input_buffer_response(std::int32_t id, std::int32_t last_io_id,
                                                       std::span<const std::uint8_t> data, bool eof) {
  ser::Arena arena;
  ser::Object* buffer = ser::make_object(arena, descriptors().input_buffer);
  set(buffer, "len", eof ? -1 : static_cast<std::int32_t>(data.size()));
  set(buffer, "buf", ser::jdk::bytes(arena, data));
  ser::Object* o = response_object(arena, id, last_io_id);
  set(o, "returnValue", static_cast<const ser::Object*>(buffer));
  return write_command(static_cast<const ser::Object*>(o));
}

ser::Value make_ping(ser::Arena& arena) {
  return static_cast<const ser::Object*>(ser::make_object(arena, descriptors().ping));
}

}  // namespace kite::channel
