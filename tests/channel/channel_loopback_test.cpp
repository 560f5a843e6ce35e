// A whole Channel with the registry's callables over an in-memory transport:
// requests, unsupported callables, cancellation, RPCs on exports, stream
// flow control, pings and teardown.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "protocol/channel/channel.hpp"
#include "protocol/channel/pipe_window.hpp"
#include "runner/callables/registry.hpp"
#include "tests/channel/channel_test_support.hpp"
#include "tests/channel/loopback_channel.hpp"

using namespace kite;
using namespace kite::channel;
using namespace kite::channel::test;
using namespace std::chrono_literals;

namespace {

std::atomic<bool> g_block_saw_cancel{false};

// Test callables: one blocks until cancelled, one writes 3 MiB to a remote
// stream, one exports an object with a method.
const callables::Registration block_handler{"kite.test.Block", [](const callables::Call&, callables::Context& ctx) -> callables::Result {
  for (int i = 0; i < 1000 && !ctx.cancelled(); ++i) std::this_thread::sleep_for(5ms);
  g_block_saw_cancel = ctx.cancelled();
  return callables::Context::interrupted();
}};

const callables::Registration write_handler{"kite.test.Write", [](const callables::Call& call, callables::Context& ctx) -> callables::Result {
  const std::int32_t oid = *call.callable.field("oid")->as_int();
  std::vector<std::uint8_t> data(3 << 20, 'x');
  if (auto w = ctx.write(oid, data); !w) return callables::Context::fail(w.error());
  if (auto c = ctx.close(oid); !c) return callables::Context::fail(c.error());
  return ctx.reply(ser::jdk::integer(ctx.arena(), static_cast<std::int32_t>(data.size())));
}};

const callables::Registration export_handler{"kite.test.Export", [](const callables::Call&, callables::Context& ctx) -> callables::Result {
  auto object = std::make_shared<ExportedObject>();
  object->interfaces = {"kite.test.Greeter"};
  object->invoke = [](const MethodCall& call, CallContext& c) -> MethodResult {
    if (call.method != "greet") return std::unexpected(JavaException{"java.lang.UnsupportedOperationException", call.method, {}});
    std::string who = call.arguments.empty() ? "?" : call.arguments[0].as_string().value_or("?");
    return ReturnValue{ser::jdk::string(c.arena(), "hi " + who), c.arena_ptr()};
  };
  return ctx.reply(ctx.export_object(object));
}};

struct Fixture : LoopbackChannel {
  Fixture() : LoopbackChannel({.name = "t1", .work_dir = {}, .close_timeout = 500ms, .drain_timeout = 2000ms}) {}

  Answer call(std::int32_t id, const ser::Value& callable, const std::string& text) {
    transport->inject(user_request(id, callable, text));
    auto sent = transport->next_sent();
    REQUIRE(sent.has_value());
    return decode_answer(*sent);
  }
};

}  // namespace

TEST_CASE("DetectOS over the loopback channel", "[channel]") {
  Fixture f;
  ser::Arena arena;
  auto a = f.call(5, static_cast<const ser::Object*>(callable_object(arena, "hudson.slaves.SlaveComputer$DetectOS")),
                  "hudson.slaves.SlaveComputer$DetectOS@1");
  CHECK(a.id == 5);
  CHECK_FALSE(a.exception);
  CHECK(a.value().class_name() == "java.lang.Boolean");
  CHECK(a.value().as_bool() == true);
}

TEST_CASE("unsupported callable gets an IOException naming it", "[channel]") {
  Fixture f;
  ser::Arena arena;
  for (int round = 0; round < 2; ++round) {
    auto a = f.call(10 + round, static_cast<const ser::Object*>(callable_object(arena, "org.example.Nope")), "org.example.Nope@2");
    CHECK(a.exception);
    CHECK(a.exception_class() == "java.io.IOException");
    CHECK_THAT(a.exception_message(), Catch::Contains("org.example.Nope") && Catch::Contains("Kite does not support"));
    REQUIRE_FALSE(a.proxy.values().empty());
    CHECK(a.proxy.values()[0].class_name() == "hudson.remoting.ProxyException");
  }
  CHECK_FALSE(f.transport->closed());
}

TEST_CASE("undecodable payload gets an IOException", "[channel]") {
  Fixture f;
  f.transport->inject(encode_user_request(21, 0, 2, std::vector<std::uint8_t>{1, 2, 3}, "junk@1"));
  auto sent = f.transport->next_sent();
  REQUIRE(sent.has_value());
  auto a = decode_answer(*sent);
  CHECK(a.id == 21);
  CHECK(a.exception);
  CHECK_THAT(a.exception_message(), Catch::Contains("junk@1"));
}

TEST_CASE("Request$Cancel interrupts a running callable", "[channel]") {
  Fixture f;
  ser::Arena arena;
  g_block_saw_cancel = false;
  f.transport->inject(user_request(30, static_cast<const ser::Object*>(callable_object(arena, "kite.test.Block")), "block@1"));
  std::this_thread::sleep_for(50ms);
  // Request$Cancel(30), built with the codec's descriptors.
  auto* desc = ser::make_class_desc(arena, ser::ClassSpec{"hudson.remoting.Request$Cancel", -1709992419006993208LL,
                                                          ser::kScSerializable, {{'I', "id", ""}}, nullptr});
  ser::Object* cancel = ser::make_object(arena, desc);
  cancel->set("id", 30);
  ser::WriterOptions options;
  options.annotations = ser::AnnotationMode::Empty;
  const ser::Value top = static_cast<const ser::Object*>(cancel);
  f.transport->inject(ser::write_values(std::span<const ser::Value>(&top, 1), options).value());
  auto sent = f.transport->next_sent(5s);
  REQUIRE(sent.has_value());
  auto a = decode_answer(*sent);
  CHECK(a.id == 30);
  CHECK(a.exception_class() == "java.lang.InterruptedException");
  CHECK(g_block_saw_cancel.load());
}

TEST_CASE("dropped transport interrupts running callables", "[channel]") {
  Fixture f;
  ser::Arena arena;
  g_block_saw_cancel = false;
  f.transport->inject(user_request(31, static_cast<const ser::Object*>(callable_object(arena, "kite.test.Block")), "block@2"));
  std::this_thread::sleep_for(50ms);
  f.transport->drop("connection reset");
  auto end = f.channel->wait_for(2s);
  REQUIRE(end.has_value());
  CHECK_FALSE(end->orderly);
  CHECK_THAT(end->reason, Catch::Contains("connection reset"));
  for (int i = 0; i < 200 && !g_block_saw_cancel; ++i) std::this_thread::sleep_for(5ms);
  CHECK(g_block_saw_cancel.load());
}

TEST_CASE("exported object answers UserRPCRequest", "[channel]") {
  Fixture f;
  ser::Arena arena;
  auto exported = f.call(40, static_cast<const ser::Object*>(callable_object(arena, "kite.test.Export")), "export@1");
  REQUIRE_FALSE(exported.exception);
  auto oid = proxy_oid(exported.value());
  REQUIRE(oid.has_value());
  CHECK(*oid >= 2);
  const ser::Object* proxy = exported.value().as_object();
  REQUIRE(proxy->desc->proxy);
  CHECK(proxy->desc->interfaces == std::vector<std::string>{"kite.test.Greeter", "hudson.remoting.IReadResolve"});
  // The proxy descriptor names the controller's loader (TAG_LOCAL 2), as remoting requires.
  REQUIRE(proxy->desc->loader.has_value());
  CHECK(proxy->desc->loader->tag == ser::kTagLocalClassLoader);
  CHECK(proxy->desc->loader->oid == 2);
  const ser::Object* handler = proxy->field("h")->as_object();
  CHECK(handler->field("userProxy")->as_bool() == true);

  // UserRPCRequest greet("bob") inside a UserRequest.
  auto* rpc_desc = ser::make_class_desc(
      arena, ser::ClassSpec{"hudson.remoting.RemoteInvocationHandler$RPCRequest", 1, ser::kScSerializable,
                            {{'I', "oid", ""}, {'[', "arguments", "[Ljava/lang/Object;"},
                             {'L', "declaringClassName", "Ljava/lang/String;"}, {'L', "methodName", "Ljava/lang/String;"},
                             {'[', "types", "[Ljava/lang/String;"}},
                            ser::make_class_desc(arena, ser::ClassSpec{"hudson.remoting.Request", 1, ser::kScSerializable,
                                                                       {{'I', "id", ""}, {'I', "lastIoId", ""}}, nullptr})});
  auto* user_rpc_desc = ser::make_class_desc(
      arena, ser::ClassSpec{"hudson.remoting.RemoteInvocationHandler$UserRPCRequest", -9185841650347902580LL,
                            ser::kScSerializable, {}, rpc_desc});
  ser::Object* rpc = ser::make_object(arena, user_rpc_desc);
  rpc->set("id", 99);
  rpc->set("oid", *oid);
  rpc->set("declaringClassName", ser::jdk::string(arena, "kite.test.Greeter"));
  rpc->set("methodName", ser::jdk::string(arena, "greet"));
  std::vector<std::string> types = {"java.lang.String"};
  rpc->set("types", ser::jdk::string_array(arena, types));
  rpc->set("arguments", ser::jdk::object_array(arena, {ser::jdk::string(arena, "bob")}));
  auto greeting = f.call(41, static_cast<const ser::Object*>(rpc), "UserRPCRequest:kite.test.Greeter.greet[java.lang.String](2)");
  CHECK(greeting.id == 41);
  REQUIRE_FALSE(greeting.exception);
  CHECK(greeting.value().as_string() == "hi bob");

  rpc->set("oid", 777);
  auto missing = f.call(42, static_cast<const ser::Object*>(rpc), "UserRPCRequest:kite.test.Greeter.greet(777)");
  CHECK(missing.exception);
  CHECK_THAT(missing.exception_message(), Catch::Contains("777"));
}

TEST_CASE("stream writes respect the window and one ack per chunk", "[channel]") {
  Fixture f;
  ser::Arena arena;
  ser::Object* write = callable_object(arena, "kite.test.Write", {{'I', "oid", ""}});
  write->set("oid", 7);
  f.transport->inject(user_request(50, static_cast<const ser::Object*>(write), "write@1"));

  std::size_t received = 0;
  std::int32_t last_io = 0;
  int chunks_in_flight = 0;
  std::size_t bytes_in_flight = 0;
  while (true) {
    auto sent = f.transport->next_sent(5s);
    REQUIRE(sent.has_value());
    auto command = decode_command(*sent);
    REQUIRE(command.has_value());
    if (auto* chunk = std::get_if<StreamChunkCmd>(&*command)) {
      CHECK(chunk->oid == 7);
      CHECK(chunk->request_id == 50);
      CHECK(chunk->data.size() <= 512u * 1024);
      CHECK(chunk->io_id > last_io);
      last_io = chunk->io_id;
      received += chunk->data.size();
      bytes_in_flight += chunk->data.size();
      ++chunks_in_flight;
      CHECK(bytes_in_flight <= std::size_t(kPipeWindowBytes));
      if (bytes_in_flight >= std::size_t(kPipeWindowBytes) && received < std::size_t(3 << 20)) {
        // Nothing more may come until the reader acknowledges.
        CHECK_FALSE(f.transport->next_sent(200ms).has_value());
        f.transport->inject(encode_stream_ack(7, static_cast<std::int32_t>(bytes_in_flight)));
        bytes_in_flight = 0;
        chunks_in_flight = 0;
      }
      continue;
    }
    if (auto* eof = std::get_if<StreamEofCmd>(&*command)) {
      CHECK(eof->oid == 7);
      last_io = eof->io_id;
      continue;
    }
    auto a = decode_answer(*sent);
    CHECK(a.id == 50);
    CHECK(a.last_io_id == last_io);
    CHECK(a.value().as_int() == (3 << 20));
    break;
  }
  CHECK(received == std::size_t(3 << 20));
}

TEST_CASE("received chunks are written to the export and acknowledged", "[channel]") {
  Fixture f;
  std::string collected;
  std::optional<std::string> closed;
  StreamSink sink;
  sink.write = [&](std::span<const std::uint8_t> data) -> std::expected<void, std::string> {
    collected.append(data.begin(), data.end());
    return {};
  };
  sink.close = [&](std::optional<std::string> error) { closed = error.value_or("clean"); };
  const std::int32_t oid = f.channel->export_object(Channel::sink_export(sink));
  f.transport->inject(encode_stream_chunk(1, oid, 0, std::vector<std::uint8_t>{'a', 'b', 'c'}));
  auto ack = f.transport->next_sent();
  REQUIRE(ack.has_value());
  auto decoded = decode_command(*ack);
  REQUIRE(decoded.has_value());
  REQUIRE(std::holds_alternative<StreamAckCmd>(*decoded));
  CHECK(std::get<StreamAckCmd>(*decoded).oid == oid);
  CHECK(std::get<StreamAckCmd>(*decoded).size == 3);
  f.transport->inject(encode_stream_eof(2, oid, 0));
  for (int i = 0; i < 200 && !closed; ++i) std::this_thread::sleep_for(5ms);
  CHECK(collected == "abc");
  CHECK(closed == "clean");

  // A chunk for an export that is gone: Ack, then NotifyDeadWriter.
  f.transport->inject(encode_stream_chunk(3, oid, 0, std::vector<std::uint8_t>{'z'}));
  auto first = decode_command(*f.transport->next_sent());
  auto second = decode_command(*f.transport->next_sent());
  REQUIRE(first.has_value());
  REQUIRE(second.has_value());
  CHECK(std::holds_alternative<StreamAckCmd>(*first));
  CHECK(std::holds_alternative<StreamDeadWriterCmd>(*second));
}

TEST_CASE("controller close is answered and ends the channel", "[channel]") {
  Fixture f;
  f.transport->inject(encode_close());
  auto answer = f.transport->next_sent();
  REQUIRE(answer.has_value());
  CHECK(std::holds_alternative<CloseCmd>(*decode_command(*answer)));
  auto end = f.channel->wait_for(2s);
  REQUIRE(end.has_value());
  CHECK(end->closed_by_peer);
  CHECK(f.transport->closed());
}

TEST_CASE("unanswered agent ping closes the channel", "[channel]") {
  Fixture f;
  f.channel->set_up_ping(1s, 1s);
  auto ping = f.transport->next_sent(3s);
  REQUIRE(ping.has_value());
  auto command = decode_command(*ping);
  REQUIRE(command.has_value());
  const auto& request = std::get<UserRequestCmd>(*command);
  CHECK(request.class_loader_oid >= 2);
  auto payload = ser::read_payload(request.payload);
  REQUIRE(payload.has_value());
  CHECK(payload->values()[0].class_name() == "hudson.remoting.PingThread$Ping");
  // No answer: after the 1 s time-out the channel closes itself.
  auto end = f.channel->wait_for(5s);
  REQUIRE(end.has_value());
  CHECK_THAT(end->reason, Catch::Contains("ping failed"));
}

TEST_CASE("answered agent pings keep the channel up", "[channel]") {
  Fixture f;
  f.channel->set_up_ping(1s, 2s);
  for (int i = 0; i < 2; ++i) {
    auto ping = f.transport->next_sent(3s);
    REQUIRE(ping.has_value());
    auto decoded = decode_command(*ping);
    REQUIRE(decoded.has_value());
    const auto& request = std::get<UserRequestCmd>(*decoded);
    f.transport->inject(encode_normal_response(request.id, 0, std::vector<std::uint8_t>{0xac, 0xed, 0x00, 0x05, 0x70}));
  }
  CHECK_FALSE(f.channel->wait_for(300ms).has_value());
  CHECK(f.channel->stats().pings_sent >= 2);
}
