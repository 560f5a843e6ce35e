// Kite's channel against recorded traffic between a controller and the Java
// agent: every controller-to-agent command must decode, every UserRequest
// must get a Response with its id, and for the connect sequence Kite's
// answers must have the Java agent's types (class names, serialVersionUIDs,
// fields, class-loader tags) and, where the value does not depend on the
// machine, its values. The Java agent's class-loading traffic is skipped.
// Exits with 77 (skipped) when the vectors directory is absent.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

#include <fmt/format.h>

#include "protocol/channel/channel.hpp"
#include "protocol/channel/commands.hpp"
#include "protocol/serialization/jdk.hpp"
#include "protocol/serialization/reader.hpp"
#include "runner/callables/registry.hpp"
#include "tests/channel/loopback_channel.hpp"
#include "tests/channel/recorded_values.hpp"
#include "tests/channel/vector_files.hpp"

namespace fs = std::filesystem;
using namespace kite;
using namespace kite::channel;
using namespace kite::channel::test;
using namespace std::chrono_literals;

namespace {

fs::path g_vectors;

struct Harness : LoopbackChannel {
  Harness() : LoopbackChannel({.name = "vectors", .work_dir = fs::temp_directory_path(), .close_timeout = 5000ms, .drain_timeout = 2000ms}) {}

  // Sends a UserRequest and returns Kite's Response to it (skipping any other command).
  std::optional<std::vector<std::uint8_t>> answer(const std::vector<std::uint8_t>& request, std::int32_t id) {
    transport->inject(request);
    for (int i = 0; i < 20; ++i) {
      auto sent = transport->next_sent(5s);
      if (!sent) return std::nullopt;
      if (response_id(*sent) == id) return sent;
    }
    return std::nullopt;
  }
};

// Callables whose recorded answer does not depend on the machine or the agent version.
const std::set<std::string> kExactAnswers = {
    "hudson.slaves.SlaveComputer$CommunicationProtocol",
    "hudson.slaves.SlaveComputer$DetectOS",
    "hudson.slaves.SlaveComputer$SlaveInitializer",
    "hudson.slaves.ChannelPinger$SetUpRemotePing",
    "jenkins.slaves.StandardOutputSwapper$ChannelSwapper",
    "jenkins.util.SystemProperties$AgentCopier$CopySystemProperties",
    "hudson.remoting.PingThread$Ping",
};

// The Java agent runs under remoting's Engine and returns the restarters
// that can work (an empty ArrayList on the recording machine). Kite answers
// null, Jenkins' value for "not running under Engine", because its reconnect
// loop and the service manager already restart it.
const std::string kFindRestarters = "jenkins.slaves.restarter.JnlpSlaveRestarterInstaller$FindEffectiveRestarters";

// The test callables of the remoting recordings (hudson.remoting.Scenarios$Ret),
// answered with the values the Java side returned, so that Kite's encoding of
// each JDK type can be compared byte for byte with the JDK's.
const callables::Registration scenarios_ret{
    "hudson.remoting.Scenarios$Ret", [](const callables::Call& call, callables::Context& ctx) -> callables::Result {
      const std::string kind = call.callable.field("kind")->as_string().value_or("");
      ser::Arena& a = ctx.arena();
      if (kind == "string") return ctx.reply(ser::jdk::string(a, "hello"));
      if (kind == "int") return ctx.reply(ser::jdk::integer(a, 42));
      if (kind == "bool") return ctx.reply(ser::jdk::boolean(a, true));
      if (kind == "long") return ctx.reply(ser::jdk::long_value(a, 1234567890123LL));
      if (kind == "bytes") return ctx.reply(ser::jdk::bytes(a, std::vector<std::uint8_t>{1, 2, 3}));
      if (kind == "list") return ctx.reply(ser::jdk::array_list(a, {ser::jdk::string(a, "a"), ser::jdk::string(a, "b")}));
      if (kind == "hashmap") return ctx.reply(ser::jdk::hash_map(a, {{ser::jdk::string(a, "K"), ser::jdk::string(a, "V")}}));
      if (kind == "treemap") return ctx.reply(ser::jdk::tree_map(a, {{ser::jdk::string(a, "K"), ser::jdk::string(a, "V")}}));
      if (kind == "file") return ctx.reply(ser::jdk::file(a, "/tmp/x"));
      if (kind == "null") return ctx.reply_null();
      if (kind == "enum") return ctx.reply(ser::jdk::enum_constant(a, "java.lang.Thread$State", "RUNNABLE"));
      if (kind == "ioex") return callables::Context::fail("boom");
      if (kind == "rtex") return callables::Context::fail("bad state", "java.lang.IllegalStateException");
      // The recorded callable wraps the InterruptedException in an IOException.
      if (kind == "interrupted") return callables::Context::fail("java.lang.InterruptedException: intr");
      return callables::Context::fail("no test value for kind " + kind);
    }};

}  // namespace

TEST_CASE("connect sequence answers match the Java agent's", "[vectors]") {
  auto session = read_session(g_vectors / "jenkins" / "connect.jsonl");
  REQUIRE(session.size() > 100);

  std::map<std::int32_t, std::vector<std::uint8_t>> recorded_responses;
  for (const auto& c : session) {
    if (c.controller_to_agent) continue;
    if (auto id = response_id(c.bytes)) recorded_responses[*id] = c.bytes;
  }

  // The disk monitors ran on the recording machine's node root; make that
  // path exist here so both agents measure a real directory.
  std::vector<fs::path> created;
  for (const auto& c : session) {
    if (!c.controller_to_agent) continue;
    auto command = decode_command(c.bytes);
    if (!command || !std::holds_alternative<UserRequestCmd>(*command)) continue;
    auto p = ser::read_payload(std::get<UserRequestCmd>(*command).payload);
    if (!p || p->values().empty() || p->values()[0].class_name() != "hudson.FilePath$CallableWith") continue;
    const ser::Object* file_path = p->values()[0].as_object()->field("this$0")->as_object();
    fs::path root = *file_path->field("remote")->as_string();
    if (!fs::exists(root) && root.string().starts_with("/tmp/")) {
      fs::create_directories(root);
      created.push_back(root);
    }
  }
  struct Cleanup {
    std::vector<fs::path>& paths;
    ~Cleanup() {
      for (const auto& p : paths) fs::remove_all(p.parent_path());
    }
  } cleanup{created};

  Harness h;
  std::set<std::string> compared;
  for (const auto& c : session) {
    if (!c.controller_to_agent) continue;
    auto command = decode_command(c.bytes);
    INFO("controller command at " << c.t_ms << " ms");
    REQUIRE(command.has_value());
    const auto* request = std::get_if<UserRequestCmd>(&*command);
    if (request == nullptr) continue;  // responses to the Java agent's class loading, jar chunks, close
    const std::string cls = callable_class(*request);
    INFO("request " << request->id << ": " << cls);
    auto ours = h.answer(c.bytes, request->id);
    REQUIRE(ours.has_value());
    auto theirs_it = recorded_responses.find(request->id);
    REQUIRE(theirs_it != recorded_responses.end());
    auto mine = reply_of(*ours);
    auto theirs = reply_of(theirs_it->second);
    REQUIRE(mine.has_value());
    REQUIRE(theirs.has_value());
    CHECK(mine->exception == theirs->exception);
    REQUIRE(mine->payload.values().size() == 1);
    REQUIRE(theirs->payload.values().size() == 1);
    const ser::Value a = mine->payload.values()[0];
    const ser::Value b = theirs->payload.values()[0];
    compared.insert(cls);
    if (cls == kFindRestarters) {
      CHECK(a.is_null());
      continue;
    }
    CHECK(shape(a, 3) == shape(b, 3));
    if (kExactAnswers.contains(cls)) CHECK(leaf(a) == leaf(b));
    if (cls == "hudson.model.Slave$GetClockDifference2" || cls == "hudson.node_monitors.ResponseTimeMonitor$Step2") {
      const char* echoed = cls.ends_with("Step2") ? "start" : "startTime";
      CHECK(leaf(*a.as_object()->field(echoed)) == leaf(*b.as_object()->field(echoed)));
    }
  }
  // Every connect-time and monitor callable of the recording was compared.
  for (const char* expected : {"hudson.slaves.SlaveComputer$SlaveVersion", "hudson.slaves.SlaveComputer$DetectDefaultCharset",
                               "hudson.node_monitors.ArchitectureMonitor$GetArchTask",
                               "hudson.node_monitors.DiskSpaceMonitorDescriptor$GetUsableSpace",
                               "hudson.node_monitors.TemporarySpaceMonitor$GetTempSpace",
                               "hudson.node_monitors.SwapSpaceMonitor$MonitorTask", "hudson.EnvVars$GetEnvVars"}) {
    CHECK(compared.contains(expected));
  }
  CHECK(compared.size() >= 17);
}

TEST_CASE("connect sequence ends with the close exchange", "[vectors]") {
  auto session = read_session(g_vectors / "jenkins" / "connect.jsonl");
  Harness h;
  const RecordedCommand* close = nullptr;
  for (const auto& c : session) {
    auto command = decode_command(c.bytes);
    if (c.controller_to_agent && command && std::holds_alternative<CloseCmd>(*command)) close = &c;
  }
  REQUIRE(close != nullptr);
  h.transport->inject(close->bytes);
  auto answer = h.transport->next_sent();
  REQUIRE(answer.has_value());
  auto decoded = decode_command(*answer);
  REQUIRE(decoded.has_value());
  CHECK(std::holds_alternative<CloseCmd>(*decoded));
  CHECK(h.channel->wait_for(2s).has_value());
}

TEST_CASE("every recorded controller command decodes and requests get answers", "[vectors]") {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(g_vectors / "remoting")) {
    const std::string name = e.path().filename().string();
    if (name.ends_with("-C2A.bin")) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() > 30);
  for (const auto& path : files) {
    INFO(path.filename().string());
    auto bytes = read_binary(path);
    auto command = decode_command(bytes);
    REQUIRE(command.has_value());
    CHECK_FALSE(std::holds_alternative<UnknownCmd>(*command));
    if (const auto* request = std::get_if<UserRequestCmd>(&*command)) {
      Harness h;
      auto answer = h.answer(bytes, request->id);
      REQUIRE(answer.has_value());
      auto reply = reply_of(*answer);
      REQUIRE(reply.has_value());
      if (callable_class(*request) == "hudson.remoting.PingThread$Ping") {
        CHECK_FALSE(reply->exception);
        CHECK(reply->payload.values()[0].is_null());
      }
    }
  }
}

std::vector<std::uint8_t> payload_bytes(const std::vector<std::uint8_t>& response, bool exception) {
  auto command = decode_command(response);
  const ser::Object* o = std::get<ResponseCmd>(*command).return_value.as_object();
  const ser::Value* bytes = o->field(exception ? "rawResponse" : "response");
  auto span = bytes->as_bytes();
  return std::vector<std::uint8_t>(span->begin(), span->end());
}

TEST_CASE("JDK return values are byte-identical to the JDK's", "[vectors]") {
  // Request and answer files; in the first case the Java agent's own class-loading call came between.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"001-ret-string", "004-ret-string"}, {"005-ret-int", "006-ret-int"},         {"007-ret-bool", "008-ret-bool"},
      {"009-ret-long", "010-ret-long"},     {"011-ret-bytes", "012-ret-bytes"},     {"013-ret-list", "014-ret-list"},
      {"015-ret-hashmap", "016-ret-hashmap"}, {"017-ret-treemap", "018-ret-treemap"}, {"019-ret-file", "020-ret-file"},
      {"021-ret-null", "022-ret-null"},     {"023-ret-enum", "024-ret-enum"},
  };
  for (const auto& [request_name, answer_name] : cases) {
    INFO(request_name);
    const fs::path dir = g_vectors / "remoting";
    auto request = read_binary(dir / (request_name + "-C2A.bin"));
    auto recorded = read_binary(dir / (answer_name + "-A2C.bin"));
    auto command = decode_command(request);
    REQUIRE(command.has_value());
    Harness h;
    auto ours = h.answer(request, std::get<UserRequestCmd>(*command).id);
    REQUIRE(ours.has_value());
    CHECK(payload_bytes(*ours, false) == payload_bytes(recorded, false));
  }
}

TEST_CASE("thrown exceptions match the JDK's class and message", "[vectors]") {
  for (const char* name : {"025-exc-ioex", "027-exc-rtex", "029-exc-interrupted"}) {
    INFO(name);
    const fs::path dir = g_vectors / "remoting";
    auto request = read_binary(dir / (std::string(name) + "-C2A.bin"));
    const int number = std::stoi(std::string(name).substr(0, 3)) + 1;
    auto recorded = read_binary(dir / fmt::format("{:03d}{}-A2C.bin", number, std::string(name).substr(3)));
    auto command = decode_command(request);
    REQUIRE(command.has_value());
    Harness h;
    auto ours = h.answer(request, std::get<UserRequestCmd>(*command).id);
    REQUIRE(ours.has_value());
    auto mine = reply_of(*ours);
    auto theirs = reply_of(recorded);
    REQUIRE(mine.has_value());
    REQUIRE(theirs.has_value());
    CHECK(mine->exception);
    CHECK(theirs->exception);
    const ser::Value a = mine->payload.values()[0];
    const ser::Value b = theirs->payload.values()[0];
    CHECK(a.class_name() == b.class_name());
    CHECK(leaf(*a.as_object()->field("detailMessage")) == leaf(*b.as_object()->field("detailMessage")));
  }
}

TEST_CASE("ping answer matches the recorded one", "[vectors]") {
  auto request = read_binary(g_vectors / "remoting" / "033-ping-C2A.bin");
  auto recorded = read_binary(g_vectors / "remoting" / "034-ping-A2C.bin");
  auto command = decode_command(request);
  REQUIRE(command.has_value());
  Harness h;
  auto ours = h.answer(request, std::get<UserRequestCmd>(*command).id);
  REQUIRE(ours.has_value());
  auto mine = reply_of(*ours);
  auto theirs = reply_of(recorded);
  REQUIRE(mine.has_value());
  REQUIRE(theirs.has_value());
  CHECK(shape(mine->payload.values()[0], 2) == shape(theirs->payload.values()[0], 2));
  CHECK(response_id(*ours) == response_id(recorded));
}

TEST_CASE("damaged recorded commands are errors, not crashes", "[vectors]") {
  std::size_t decoded = 0;
  std::size_t rejected = 0;
  for (const auto& e : fs::directory_iterator(g_vectors / "remoting")) {
    if (e.path().extension() != ".bin") continue;
    const auto bytes = read_binary(e.path());
    auto check = [&](std::span<const std::uint8_t> input) {
      auto command = decode_command(input);
      if (!command) {
        ++rejected;
        return;
      }
      ++decoded;
      if (const auto* request = std::get_if<UserRequestCmd>(&*command)) (void)ser::read_payload(request->payload);
    };
    // Every prefix length in 64 steps, and every seventh byte inverted.
    for (std::size_t cut = 0; cut < bytes.size(); cut += bytes.size() / 64 + 1) {
      check(std::span<const std::uint8_t>(bytes).first(cut));
    }
    for (std::size_t k = 0; k < bytes.size(); k += 7) {
      auto damaged = bytes;
      damaged[k] ^= 0xff;
      check(damaged);
    }
  }
  CHECK(rejected > 0);
  CHECK(decoded > 0);
}

int main(int argc, char* argv[]) {
  const char* dir = std::getenv("KITE_SHARED_VECTORS");
  g_vectors = dir ? fs::path(dir) : fs::path("../shared/vectors");
  if (!fs::exists(g_vectors / "jenkins" / "connect.jsonl") || !fs::exists(g_vectors / "remoting")) {
    std::printf("SKIP: recorded vectors not found at %s\n", g_vectors.c_str());
    return 77;
  }
  return Catch::Session().run(argc, argv);
}
