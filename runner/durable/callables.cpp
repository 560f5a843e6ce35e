// Channel glue of durable-task: AgentInfo$GetAgentInfo,
// FileMonitoringController$StatusCheck, $WriteLog, $GetOutput,
// $TranscodingCharsetForSystemDefault, FileMonitoringTask$StartWatching, and
// the launch adjuster that runs the shell wrapper detached.
// Stopping a task needs nothing here: the controller sends
// Launcher$RemoteLauncher$KillTask with JENKINS_SERVER_COOKIE=durable-<hash>,
// which the launcher serves.
#include <sys/utsname.h>

#include <atomic>

#include <spdlog/spdlog.h>

#include "protocol/channel/commands.hpp"
#include "protocol/serialization/build.hpp"
#include "protocol/serialization/jdk.hpp"
#include "protocol/serialization/writer.hpp"
#include "runner/callables/registry.hpp"
#include "runner/callables/system_info.hpp"
#include "runner/durable/agent_info.hpp"
#include "runner/durable/control_files.hpp"
#include "runner/durable/watcher.hpp"
#include "runner/durable/wrapper.hpp"
#include "runner/launcher/channel_streams.hpp"
#include "runner/launcher/java_values.hpp"
#include "runner/launcher/remote_launch.hpp"

namespace kite::durable {
namespace {

using callables::Context;
using callables::FileCall;
using callables::Registration;
using callables::Result;

constexpr const char* kController = "org.jenkinsci.plugins.durabletask.FileMonitoringTask$FileMonitoringController";

// Writes through the request's own context, so the chunks carry its request
// id and the Response's lastIoId covers them (the controller counts what
// arrived as soon as the call returns).
class RequestSink final : public ByteSink {
 public:
  RequestSink(Context& ctx, std::int32_t oid) : ctx_(ctx), oid_(oid) {}
  std::expected<void, Error> write(std::string_view bytes) override {
    auto written = ctx_.write(oid_, {reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
    if (!written) return std::unexpected(Error::io("sending the log failed: " + written.error()));
    return {};
  }

 private:
  Context& ctx_;
  std::int32_t oid_;
};

Result fail(const Error& error) {
  if (error.errno_value == ENOENT) return Context::fail(error.message, "java.io.FileNotFoundException");
  return Context::fail(error.message);
}

const ser::ClassDesc* agent_info_desc() {
  static ser::Arena arena;
  static const ser::ClassDesc* desc = ser::make_class_desc(
      arena, ser::ClassSpec{"org.jenkinsci.plugins.durabletask.AgentInfo", 7599995179651071957LL, ser::kScSerializable,
                            {{'Z', "binaryCached", ""},
                             {'Z', "binaryCompatible", ""},
                             {'Z', "cachingAvailable", ""},
                             {'L', "architecture", "Ljava/lang/String;"},
                             {'L', "binaryPath", "Ljava/lang/String;"},
                             {'L', "os", "Lorg/jenkinsci/plugins/durabletask/AgentInfo$OsType;"}}});
  return desc;
}

std::string machine_name() {
  utsname name{};
  if (::uname(&name) != 0) return "unknown";
  return name.machine;
}

const Registration get_agent_info{
    "org.jenkinsci.plugins.durabletask.AgentInfo$GetAgentInfo", [](const FileCall& call, Context& ctx) -> Result {
      const ser::Value* version = call.callable.field("binaryVersion");
      const AgentInfoValues info =
          agent_info(version != nullptr ? version->as_string().value_or("") : "", machine_name());
      auto& arena = ctx.arena();
      ser::Object* object = ser::make_object(arena, agent_info_desc());
      object->set("binaryCached", ser::Value(info.binary_cached));
      object->set("binaryCompatible", ser::Value(info.binary_compatible));
      object->set("cachingAvailable", ser::Value(info.caching_available));
      object->set("architecture", ser::jdk::string(arena, info.architecture));
      object->set("binaryPath", ser::jdk::string(arena, info.binary_path));
      object->set("os", ser::jdk::enum_constant(arena, "org.jenkinsci.plugins.durabletask.AgentInfo$OsType", info.os));
      return ctx.reply(static_cast<const ser::Object*>(object));
    }};

const Registration status_check_callable{std::string(kController) + "$StatusCheck",
                                         [](const FileCall& call, Context& ctx) -> Result {
                                           auto status = status_check(call.path);
                                           if (!status) return fail(status.error());
                                           if (!*status) return ctx.reply_null();
                                           return ctx.reply(ser::jdk::integer(ctx.arena(), **status));
                                         }};

const Registration write_log_callable{
    std::string(kController) + "$WriteLog", [](const FileCall& call, Context& ctx) -> Result {
      const ser::Value* last = call.callable.field("lastLocation");
      const ser::Value* sink_value = call.callable.field("sink");
      auto last_location = last != nullptr ? last->as_long() : std::nullopt;
      auto oid = sink_value != nullptr ? launcher::java::remote_output_stream_oid(*sink_value) : std::nullopt;
      if (!last_location || *last_location < 0 || !oid) {
        return Context::fail("Kite cannot read WriteLog: expected lastLocation >= 0 and a RemoteOutputStream sink");
      }
      RequestSink sink(ctx, *oid);
      auto sent = write_log(call.path, static_cast<std::uint64_t>(*last_location), sink);
      // The controller exports a new sink for every WriteLog, so releasing it
      // here keeps its export table from growing with each poll. A Java agent
      // releases it when the stream is garbage-collected.
      if (auto released = ctx.channel_context().unexport_stream(*oid); !released) {
        ctx.log().debug("durable: request {} could not unexport stream {}: {}", ctx.request_id(), *oid, released.error());
      }
      if (!sent) return fail(sent.error());
      return ctx.reply_null();
    }};

// Charset.defaultCharset() of a Java agent, or null when it is UTF-8.
const Registration transcoding_charset{std::string(kController) + "$TranscodingCharsetForSystemDefault",
                                       [](const callables::Call&, Context& ctx) -> Result {
                                         const std::string charset = callables::sysinfo::java_default_charset();
                                         if (charset == "UTF-8") return ctx.reply_null();
                                         return ctx.reply(ser::jdk::string(ctx.arena(), charset));
                                       }};

std::optional<std::string> charset_field(const ser::Object& object) {
  const ser::Value* charset = object.field("charset");
  if (charset == nullptr) return std::nullopt;
  auto name = charset->as_string();
  // "SYSTEM_DEFAULT" is the plugin's marker for the agent's default charset.
  if (name && *name == "SYSTEM_DEFAULT") return callables::sysinfo::java_default_charset();
  return name;
}

const Registration get_output_callable{std::string(kController) + "$GetOutput",
                                       [](const FileCall& call, Context& ctx) -> Result {
                                         auto output = get_output(call.path, charset_field(call.callable));
                                         if (!output) return fail(output.error());
                                         return ctx.reply(ser::jdk::bytes(
                                             ctx.arena(), {reinterpret_cast<const std::uint8_t*>(output->data()),
                                                           output->size()}));
                                       }};

// ---- watch mode

const ser::ClassDesc* command_desc() {
  static ser::Arena arena;
  static const ser::ClassDesc* desc = ser::make_class_desc(
      arena, ser::ClassSpec{"hudson.remoting.Command", 1, ser::kScSerializable,
                            {{'L', "createdAt", "Ljava/lang/Exception;"}}});
  return desc;
}

const ser::ClassDesc* user_rpc_request_desc() {
  static ser::Arena arena;
  static const ser::ClassDesc* request = ser::make_class_desc(
      arena, ser::ClassSpec{"hudson.remoting.Request", 1, ser::kScSerializable,
                            {{'I', "id", ""}, {'I', "lastIoId", ""}, {'L', "response", "Lhudson/remoting/Response;"}},
                            command_desc()});
  static const ser::ClassDesc* rpc = ser::make_class_desc(
      arena, ser::ClassSpec{"hudson.remoting.RemoteInvocationHandler$RPCRequest", 1, ser::kScSerializable,
                            {{'I', "oid", ""},
                             {'[', "arguments", "[Ljava/lang/Object;"},
                             {'L', "declaringClassName", "Ljava/lang/String;"},
                             {'L', "methodName", "Ljava/lang/String;"},
                             {'[', "types", "[Ljava/lang/String;"}},
                            request});
  static const ser::ClassDesc* user_rpc = ser::make_class_desc(
      arena, ser::ClassSpec{"hudson.remoting.RemoteInvocationHandler$UserRPCRequest", -9185841650347902580LL,
                            ser::kScSerializable, {}, rpc});
  return user_rpc;
}

// Ids of the UserRPCRequests Kite sends; remoting only needs them unique.
std::atomic<std::int32_t> next_rpc_request_id{1 << 24};

// ExecutionRemotable.exited(int, byte[]) on the controller's proxy `oid`.
std::expected<void, Error> call_exited(const std::shared_ptr<channel::Channel>& channel, std::int32_t oid,
                                       std::int32_t status, const std::optional<std::string>& output) {
  static const std::string kDeclaringClass =
      "org.jenkinsci.plugins.workflow.steps.durable_task.DurableTaskStep$ExecutionRemotable";
  ser::Arena arena;
  ser::Object* request = ser::make_object(arena, user_rpc_request_desc());
  const std::int32_t id = next_rpc_request_id.fetch_add(1);
  request->set("hudson.remoting.Request", "id", ser::Value(id));
  request->set("oid", ser::Value(oid));
  ser::Value output_value = ser::Value(ser::Null{});
  if (output) {
    output_value = ser::jdk::bytes(arena, {reinterpret_cast<const std::uint8_t*>(output->data()), output->size()});
  }
  request->set("arguments", ser::jdk::object_array(arena, {ser::jdk::integer(arena, status), output_value}));
  request->set("declaringClassName", ser::jdk::string(arena, kDeclaringClass));
  request->set("methodName", ser::jdk::string(arena, "exited"));
  const std::string types[] = {"int", "[B"};
  request->set("types", ser::jdk::string_array(arena, types));

  auto payload = channel::write_payload(static_cast<const ser::Object*>(request), 0);
  if (!payload) return std::unexpected(Error::io("cannot encode ExecutionRemotable.exited: " + payload.error().describe()));
  const std::string to_string = "UserRPCRequest:" + kDeclaringClass + ".exited[int,[B](" + std::to_string(id) + ")";
  auto result = channel->call(*payload, to_string, std::chrono::minutes(5));
  if (!result) return std::unexpected(Error::io("ExecutionRemotable.exited failed: " + result.error().describe()));
  return {};
}

const Registration start_watching{
    "org.jenkinsci.plugins.durabletask.FileMonitoringTask$StartWatching",
    [](const FileCall& call, Context& ctx) -> Result {
      const ser::Value* controller_value = call.callable.field("controller");
      const ser::Value* handler_value = call.callable.field("handler");
      const ser::Object* controller = controller_value ? controller_value->as_object() : nullptr;
      const ser::Object* handler = handler_value ? handler_value->as_object() : nullptr;
      if (controller == nullptr || handler == nullptr) return Context::fail("StartWatching without controller or handler");

      const ser::Value* control_dir = controller->field("controlDir");
      auto dir = control_dir != nullptr ? control_dir->as_string() : std::nullopt;
      if (!dir) return Context::fail("Kite needs ShellController.controlDir (control directories of durable-task 1.7 and older are not supported)");
      const ser::Value* execution = handler->field("execution");
      auto execution_oid = execution != nullptr ? channel::proxy_oid(*execution) : std::nullopt;
      const ser::Value* listener = handler->field("listener");
      auto listener_oid = listener != nullptr ? launcher::java::listener_stream_oid(*listener) : std::nullopt;
      if (!execution_oid || !listener_oid) {
        return Context::fail("Kite cannot find the ExecutionRemotable proxy or the listener stream in StartWatching");
      }

      auto channel = ctx.channel_context().channel().shared_from_this();
      auto sink = std::make_shared<launcher::RemoteStreamSink>(channel, *listener_oid);
      std::weak_ptr<channel::Channel> weak_channel = channel;
      const std::int32_t oid = *execution_oid;
      auto report = [weak_channel, oid](std::int32_t status, std::optional<std::string> output) -> std::expected<void, Error> {
        auto live = weak_channel.lock();
        if (!live) return std::unexpected(Error::io("the channel is gone"));
        return call_exited(live, oid, status, output);
      };
      // The plugin's watcher looks the charset up when it starts, so an unknown one fails the request.
      auto charset = charset_field(*controller);
      if (needs_transcoding(charset)) {
        class Discard final : public ByteSink {
          std::expected<void, Error> write(std::string_view) override { return {}; }
        } discard;
        if (auto probe = Utf8TranscodingSink::open(*charset, discard); !probe) return fail(probe.error());
      }
      auto watcher = std::make_shared<Watcher>(WatchTarget{std::filesystem::path(*dir), charset},
                                               sink, report);
      // Once the watch ends, release the two controller exports this
      // StartWatching brought (the listener's stream and the execution
      // proxy), as a Java agent does when it collects them. A watch that
      // ends with the channel has nothing left to release.
      const std::int32_t listener_stream = *listener_oid;
      auto release = [weak_channel, oid, listener_stream] {
        auto live = weak_channel.lock();
        if (!live || live->is_closed()) return;
        channel::CallContext context(*live, 0, 0, std::make_shared<std::atomic<bool>>(false));
        (void)context.unexport_stream(listener_stream);
        (void)context.unexport_object(oid);
      };
      Watcher::start(watcher, std::make_shared<std::atomic<bool>>(false), release);
      ctx.log().info("durable: request {} started watching {}", ctx.request_id(), *dir);
      return ctx.reply_null();
    }};

// Runs the shell wrapper in the foreground of a detached step (see wrapper.hpp).
[[maybe_unused]] const bool wrapper_adjuster_added = [] {
  launcher::add_launch_adjuster([](const launcher::RemoteLaunchRequest&, launcher::SpawnRequest& spawn) {
    if (!foreground_wrapper(spawn.argv)) return;
    spawn.detached = true;
    spawn.label = "durable-task wrapper";
  });
  return true;
}();

}  // namespace
}  // namespace kite::durable
