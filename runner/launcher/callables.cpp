// Channel glue of the launcher: hudson.Launcher$RemoteLaunchCallable with its
// exported Launcher$RemoteProcess, Launcher$RemoteLauncher$KillTask and
// Shell$DescriptorImpl$Shellinterpreter.
//
// ProcessTree's own remoting classes (ProcessTree$Remote, IProcessTree
// proxies) only cross the wire when an agent returns a ProcessTree, and no
// core callable requests one. The agent-to-controller calls a Java agent makes
// while killing (ProcessTree$DoVetoersExist, $ListAll, OSProcess$CheckVetoes)
// consult ProcessKillingVeto and ProcessKiller extensions, which Kite does
// not support: it kills without asking.
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

#include "protocol/serialization/build.hpp"
#include "protocol/serialization/jdk.hpp"
#include "runner/callables/registry.hpp"
#include "runner/launcher/channel_streams.hpp"
#include "runner/launcher/java_values.hpp"
#include "runner/launcher/remote_launch.hpp"
#include "runner/launcher/sandbox_spawner.hpp"

namespace kite::launcher {
namespace {

using callables::Call;
using callables::Context;
using callables::Registration;
using callables::Result;

constexpr std::string_view kRemoteProcessInterface = "hudson.Launcher$RemoteProcess";

const ser::ClassDesc* io_triplet_desc() {
  static ser::Arena arena;
  static const ser::ClassDesc* desc = ser::make_class_desc(
      arena, ser::ClassSpec{"hudson.Launcher$IOTriplet", 1, ser::kScSerializable,
                            {{'L', "stderr", "Ljava/io/InputStream;"},
                             {'L', "stdin", "Ljava/io/OutputStream;"},
                             {'L', "stdout", "Ljava/io/InputStream;"}}});
  return desc;
}

const ser::ClassDesc* remote_input_stream_desc() {
  static ser::Arena arena;
  static const ser::ClassDesc* desc = ser::make_class_desc(
      arena, ser::ClassSpec{"hudson.remoting.RemoteInputStream", 1,
                            static_cast<std::uint8_t>(ser::kScSerializable | ser::kScWriteMethod),
                            {{'Z', "autoUnexport", ""}, {'Z', "greedy", ""}}});
  return desc;
}

const ser::ClassDesc* remote_output_stream_desc() {
  static ser::Arena arena;
  static const ser::ClassDesc* desc = ser::make_class_desc(
      arena, ser::ClassSpec{"hudson.remoting.RemoteOutputStream", 1,
                            static_cast<std::uint8_t>(ser::kScSerializable | ser::kScWriteMethod), {}});
  return desc;
}

// RemoteInputStream in its non-greedy form: custom data (greedy=false, oid), no field values.
ser::Value make_remote_input_stream(ser::Arena& arena, std::int32_t oid) {
  ser::Object* object = ser::make_object(arena, remote_input_stream_desc());
  ser::ClassData* data = object->class_data("hudson.remoting.RemoteInputStream");
  data->fields.clear();
  data->has_fields = false;
  data->custom.emplace_back(ser::BlockBuilder().write_bool(false).write_int(oid).build());
  return static_cast<const ser::Object*>(object);
}

ser::Value make_remote_output_stream(ser::Arena& arena, std::int32_t oid) {
  ser::Object* object = ser::make_object(arena, remote_output_stream_desc());
  ser::ClassData* data = object->class_data("hudson.remoting.RemoteOutputStream");
  data->custom.emplace_back(ser::BlockBuilder().write_int(oid).build());
  return static_cast<const ser::Object*>(object);
}

channel::StreamSource source_for(std::shared_ptr<ByteSource> source) {
  return [source](std::size_t max) -> std::expected<std::vector<std::uint8_t>, std::string> {
    auto chunk = source->read(max);
    if (!chunk) return std::unexpected(chunk.error().message);
    return std::vector<std::uint8_t>(chunk->begin(), chunk->end());
  };
}

channel::StreamSink sink_for(std::shared_ptr<ByteSink> sink) {
  channel::StreamSink result;
  result.write = [sink](std::span<const std::uint8_t> data) -> std::expected<void, std::string> {
    auto written = sink->write(std::string_view(reinterpret_cast<const char*>(data.data()), data.size()));
    if (!written) return std::unexpected(written.error().message);
    return {};
  };
  result.flush = [sink] { (void)sink->flush(); };
  result.close = [sink](std::optional<std::string>) { (void)sink->close(); };
  return result;
}

callables::JavaException to_java(const Error& error) {
  if (error.kind == ErrorKind::kInterrupted) return {"java.lang.InterruptedException", error.message, {}};
  return {"java.io.IOException", error.message, {}};
}

// Joins `proc` while polling the request's cancel flag, so Request$Cancel
// (the user aborted the build) kills the process tree as Java's join does.
std::expected<int, Error> join_cancellable(LocalProc& proc, channel::CallContext& ctx) {
  std::stop_source stop;
  std::jthread watcher([&ctx, &stop](std::stop_token done) {
    std::mutex mutex;
    std::condition_variable_any wakeup;
    std::unique_lock lock(mutex);
    while (!done.stop_requested()) {
      if (ctx.cancelled()) {
        stop.request_stop();
        return;
      }
      // The cancel flag sends no notification, so it is polled. The wait ends
      // as soon as the join returns, so a short step never waits for a poll.
      wakeup.wait_for(lock, done, std::chrono::milliseconds(100), [] { return false; });
    }
  });
  auto status = proc.join(stop.get_token());
  watcher.request_stop();
  return status;
}

// Export of the launched process; the controller calls it through a Launcher$RemoteProcess proxy.
std::shared_ptr<channel::ExportedObject> export_process(std::shared_ptr<LocalProc> proc,
                                                        std::optional<std::int32_t> out_oid) {
  auto object = std::make_shared<channel::ExportedObject>();
  object->interfaces = {std::string(kRemoteProcessInterface)};
  object->invoke = [proc, out_oid](const channel::MethodCall& call,
                                   channel::CallContext& ctx) -> channel::MethodResult {
    auto& arena = ctx.arena();
    if (call.method == "join") {
      auto status = join_cancellable(*proc, ctx);
      if (!status) return std::unexpected(to_java(status.error()));
      // A Flush after the pumped output gives this response a lastIoId that
      // covers every chunk, which a Java agent achieves with Channel$IOSyncer.
      if (out_oid) (void)ctx.flush(*out_oid);
      return channel::ReturnValue{ser::jdk::integer(arena, *status), ctx.arena_ptr()};
    }
    if (call.method == "kill") {
      auto status = proc->kill();
      if (!status) return std::unexpected(to_java(status.error()));
      return channel::ReturnValue{ser::Value(ser::Null{}), ctx.arena_ptr()};
    }
    if (call.method == "isAlive") {
      return channel::ReturnValue{ser::jdk::boolean(arena, proc->is_alive()), ctx.arena_ptr()};
    }
    if (call.method == "getIOtriplet") {
      ser::Object* triplet = ser::make_object(arena, io_triplet_desc());
      auto& exports = ctx.channel();
      if (auto reader = proc->stdout_reader()) {
        triplet->set("stdout", make_remote_input_stream(arena, exports.export_object(channel::Channel::source_export(source_for(reader)))));
      }
      if (auto reader = proc->stderr_reader()) {
        triplet->set("stderr", make_remote_input_stream(arena, exports.export_object(channel::Channel::source_export(source_for(reader)))));
      }
      if (auto writer = proc->stdin_writer()) {
        triplet->set("stdin", make_remote_output_stream(arena, exports.export_object(channel::Channel::sink_export(sink_for(writer)))));
      }
      return channel::ReturnValue{static_cast<const ser::Object*>(triplet), ctx.arena_ptr()};
    }
    return std::unexpected(callables::JavaException{
        "java.lang.UnsupportedOperationException", "hudson.Launcher$RemoteProcess." + call.method + " is not implemented by Kite", {}});
  };
  return object;
}

// Decodes the record's fields into a RemoteLaunchRequest.
std::expected<RemoteLaunchRequest, std::string> decode_request(const ser::Object& callable) {
  RemoteLaunchRequest request;
  auto field = [&](std::string_view name) -> ser::Value {
    const ser::Value* value = callable.field(name);
    return value != nullptr ? *value : ser::Value(ser::Null{});
  };
  auto flag = [&](std::string_view name) { return field(name).as_bool().value_or(false); };

  auto cmd = java::string_list(field("cmd"));
  if (!cmd) return std::unexpected("cmd: " + cmd.error());
  request.cmd = std::move(*cmd);
  auto masks = java::boolean_array(field("masks"));
  if (!masks) return std::unexpected("masks: " + masks.error());
  request.masks = std::move(*masks);
  auto env = java::string_array(field("env"));
  if (!env) return std::unexpected("env: " + env.error());
  request.env = std::move(*env);
  request.work_dir = field("workDir").as_string();
  request.quiet = flag("quiet");
  request.reverse_stdin = flag("reverseStdin");
  request.reverse_stdout = flag("reverseStdout");
  request.reverse_stderr = flag("reverseStderr");
  if (const ser::Object* wrapper = field("envVarsFilterRuleWrapper").as_object()) {
    const ser::Value* rules = wrapper->field("rules");
    auto count = java::list_size(rules != nullptr ? *rules : ser::Value(ser::Null{}));
    if (!count) return std::unexpected("envVarsFilterRuleWrapper.rules: " + count.error());
    request.filter_rule_count = *count;
  }
  return request;
}

const Registration remote_launch_callable{
    "hudson.Launcher$RemoteLaunchCallable", [](const Call& call, Context& ctx) -> Result {
      auto request = decode_request(call.callable);
      if (!request) return Context::fail("Kite cannot read Launcher$RemoteLaunchCallable: " + request.error());

      auto channel = ctx.channel_context().channel().shared_from_this();
      auto field = [&](std::string_view name) -> ser::Value {
        const ser::Value* value = call.callable.field(name);
        return value != nullptr ? *value : ser::Value(ser::Null{});
      };

      // One sink per controller stream: listener and stdoutListener are often
      // the same object, exported once, so it must be released only once,
      // after the last write.
      std::map<std::int32_t, std::shared_ptr<RemoteStreamSink>> sinks;
      auto sink_for = [&](std::int32_t oid) {
        auto& sink = sinks[oid];
        if (!sink) sink = std::make_shared<RemoteStreamSink>(channel, oid, 0, true);
        return sink;
      };

      StreamPlan streams;
      std::optional<std::int32_t> out_oid;
      if (!field("stdoutListener").is_null()) {
        out_oid = java::listener_stream_oid(field("stdoutListener"));
        if (!out_oid) return Context::fail("Kite cannot find the output stream of stdoutListener");
      } else {
        out_oid = java::remote_output_stream_oid(field("out"));
      }
      if (out_oid) streams.out = sink_for(*out_oid);
      if (auto err_oid = java::remote_output_stream_oid(field("err"))) streams.err = sink_for(*err_oid);
      if (!field("in").is_null()) {
        auto in = java::remote_input_stream(field("in"));
        if (!in || in->greedy) return Context::fail("Kite supports only a non-greedy RemoteInputStream as stdin");
        streams.in = std::make_shared<RemoteStreamSource>(channel, in->oid);
      }
      // A quiet launch writes nothing to the listener, but its sink is still
      // created, so that its destruction releases the controller's export.
      // NOTE: ConsoleLogFilters of a decorated listener are not applied to
      // the command line (it is masked already, and nothing else is printed).
      std::shared_ptr<RemoteStreamSink> listener;
      if (auto listener_oid = java::listener_stream_oid(field("listener"))) listener = sink_for(*listener_oid);

      auto spawner = spawner_for_policy(ctx.node().sandbox_policy, ctx.node().name);
      if (!spawner) {
        return Context::fail("sandbox policy '" + ctx.node().sandbox_policy +
                             "' of this node is not configured in Kite; refusing to run the step without it");
      }
      auto proc = remote_launch(*request, agent_environment(), request->quiet ? nullptr : listener.get(),
                                std::move(streams), *spawner);
      if (!proc) {
        ctx.log().warn("launcher: request {} failed to launch {}: {}", ctx.request_id(),
                       request->cmd.empty() ? std::string() : request->cmd.front(), proc.error().message);
        return std::unexpected(to_java(proc.error()));
      }
      ctx.log().info("launcher: request {} started pid={} in {}", ctx.request_id(), (*proc)->pid(),
                     request->work_dir.value_or("(agent directory)"));
      return ctx.reply(ctx.export_object(export_process(*proc, out_oid)));
    }};

const Registration kill_task{
    "hudson.Launcher$RemoteLauncher$KillTask", [](const Call& call, Context& ctx) -> Result {
      const ser::Value* model_value = call.callable.field("modelEnvVars");
      auto model = java::string_map(model_value != nullptr ? *model_value : ser::Value(ser::Null{}));
      if (!model) return Context::fail("Kite cannot read KillTask.modelEnvVars: " + model.error());
      std::string keys;
      for (const auto& [key, value] : *model) keys += (keys.empty() ? "" : ",") + key;
      const std::size_t killed = process_tree::kill_all(*model);
      // Only the names: values such as JENKINS_SERVER_COOKIE identify builds.
      ctx.log().info("launcher: KillTask request {} on [{}] signalled {} processes", ctx.request_id(), keys, killed);
      return ctx.reply_null();
    }};

const Registration shell_interpreter{"hudson.tasks.Shell$DescriptorImpl$Shellinterpreter",
                                     [](const Call&, Context& ctx) -> Result {
                                       return ctx.reply(ser::jdk::string(ctx.arena(), "/bin/sh"));
                                     }};

}  // namespace
}  // namespace kite::launcher
