// Callables a controller sends while taking the agent online
// (SlaveComputer.setChannel and the preOnline/onOnline listeners) and the
// node-page helpers of SlaveComputer and Computer.
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>

#include "protocol/serialization/jdk.hpp"
#include "runner/callables/registry.hpp"
#include "runner/callables/system_info.hpp"
#include "runner/daemon/session.hpp"

namespace kite::callables {
namespace {

// Value of a String field, or nullopt when absent or null.
std::optional<std::string> string_field(const ser::Object& o, std::string_view name) {
  const ser::Value* v = o.field(name);
  return v ? v->as_string() : std::nullopt;
}

std::optional<std::int32_t> int_field(const ser::Object& o, std::string_view name) {
  const ser::Value* v = o.field(name);
  return v ? v->as_int() : std::nullopt;
}

// The remoting release Kite's wire protocol follows; the controller rejects
// agents older than its minimum (3176.v207ec082a_8c0 for current Jenkins).
const Registration slave_version{"hudson.slaves.SlaveComputer$SlaveVersion", [](const Call&, Context& ctx) -> Result {
  return ctx.reply(ser::jdk::string(ctx.arena(), daemon::kRemotingVersion));
}};

// NOTE: Kite only speaks WebSocket today. Over a JNLP4 transport this must return "JNLP4-connect".
const Registration communication_protocol{"hudson.slaves.SlaveComputer$CommunicationProtocol",
                                          [](const Call&, Context& ctx) -> Result {
                                            return ctx.reply(ser::jdk::string(ctx.arena(), "WebSocket"));
                                          }};

// True on Unix: Java's File.pathSeparatorChar is ':'.
const Registration detect_os{"hudson.slaves.SlaveComputer$DetectOS", [](const Call&, Context& ctx) -> Result {
  return ctx.reply(ser::jdk::boolean(ctx.arena(), true));
}};

// FilePath.isUnix() and Launcher.isUnix() ask the node with this plain
// callable, with the same rule: File.pathSeparatorChar is ':'.
const Registration file_path_is_unix{"hudson.FilePath$IsUnix", [](const Call&, Context& ctx) -> Result {
  return ctx.reply(ser::jdk::boolean(ctx.arena(), true));
}};

const Registration detect_default_charset{"hudson.slaves.SlaveComputer$DetectDefaultCharset",
                                          [](const Call&, Context& ctx) -> Result {
                                            return ctx.reply(
                                                ser::jdk::string(ctx.arena(), sysinfo::java_default_charset()));
                                          }};

// new File(relativePath).getAbsolutePath(): resolved against the working directory.
const Registration absolute_path{"hudson.slaves.SlaveComputer$AbsolutePath", [](const Call& call, Context& ctx) -> Result {
  auto relative = string_field(call.callable, "relativePath");
  if (!relative) return Context::fail("SlaveComputer$AbsolutePath without relativePath");
  std::filesystem::path p(*relative);
  if (p.is_relative()) {
    std::error_code ec;
    auto cwd = std::filesystem::current_path(ec);
    if (ec) return Context::fail("cannot read the working directory: " + ec.message());
    p = cwd / p;
  }
  return ctx.reply(ser::jdk::string(ctx.arena(), p.string()));
}};

// Java installs a log ring buffer of this size for SlaveLogFetcher; Kite logs
// through spdlog and only remembers the size.
const Registration slave_initializer{"hudson.slaves.SlaveComputer$SlaveInitializer",
                                     [](const Call& call, Context& ctx) -> Result {
                                       std::lock_guard lock(ctx.node().settings->mutex);
                                       ctx.node().settings->log_ring_buffer_size =
                                           int_field(call.callable, "ringBufferSize").value_or(0);
                                       return ctx.reply_null();
                                     }};

// Starts the agent-side ping with the controller's interval and time-out.
const Registration set_up_remote_ping{"hudson.slaves.ChannelPinger$SetUpRemotePing",
                                      [](const Call& call, Context& ctx) -> Result {
                                        const auto interval = int_field(call.callable, "pingIntervalSeconds");
                                        const auto timeout = int_field(call.callable, "pingTimeoutSeconds");
                                        if (!interval || !timeout) {
                                          return Context::fail("ChannelPinger$SetUpRemotePing without interval or timeout");
                                        }
                                        ctx.channel_context().channel().set_up_ping(std::chrono::seconds(*interval),
                                                                                    std::chrono::seconds(*timeout));
                                        return ctx.reply_null();
                                      }};

// java.util.logging levels of controller log recorders; Kite's own log level is set on its command line.
const Registration log_recorder_set_level{"hudson.logging.LogRecorder$SetLevel",
                                          [](const Call& call, Context& ctx) -> Result {
                                            ctx.log().debug("controller log recorder level for {} ignored",
                                                            string_field(call.callable, "name").value_or("?"));
                                            return ctx.reply_null();
                                          }};

// The controller's system properties that Jenkins code on agents may read
// (jenkins.util.SystemProperties); GetFallbackName reads host.name from them.
const Registration copy_system_properties{
    "jenkins.util.SystemProperties$AgentCopier$CopySystemProperties", [](const Call& call, Context& ctx) -> Result {
      std::map<std::string, std::optional<std::string>> snapshot;
      const ser::Value* map = call.callable.field("snapshot");
      const ser::Object* o = map ? map->as_object() : nullptr;
      if (o != nullptr) {
        // HashMap custom data: block (buckets, size), then key/value objects.
        for (const ser::ClassData& cd : o->classes) {
          std::vector<ser::Value> objects;
          for (const ser::Content& c : cd.custom) {
            if (const auto* v = std::get_if<ser::Value>(&c)) objects.push_back(*v);
          }
          for (std::size_t i = 0; i + 1 < objects.size(); i += 2) {
            auto key = objects[i].as_string();
            if (key) snapshot[*key] = objects[i + 1].as_string();
          }
        }
      }
      ctx.log().debug("controller copied {} system properties", snapshot.size());
      std::lock_guard lock(ctx.node().settings->mutex);
      ctx.node().settings->system_properties = std::move(snapshot);
      return ctx.reply_null();
    }};

// Java dup2's stdout away from a stdio channel; a WebSocket channel has nothing to swap.
const Registration channel_swapper{"jenkins.slaves.StandardOutputSwapper$ChannelSwapper",
                                   [](const Call&, Context& ctx) -> Result {
                                     return ctx.reply(ser::jdk::boolean(ctx.arena(), false));
                                   }};

// null: "not running under a restartable launcher". Kite's reconnect loop
// already restarts the connection, and the daemon is restarted by systemd.
const Registration find_effective_restarters{
    "jenkins.slaves.restarter.JnlpSlaveRestarterInstaller$FindEffectiveRestarters",
    [](const Call&, Context& ctx) -> Result { return ctx.reply_null(); }};

// Kite keeps its log in spdlog sinks, not in a JUL ring buffer: an empty List<LogRecord>.
const Registration slave_log_fetcher{"hudson.slaves.SlaveComputer$SlaveLogFetcher",
                                     [](const Call&, Context& ctx) -> Result {
                                       return ctx.reply(ser::jdk::array_list(ctx.arena(), {}));
                                     }};

// Remote class-loading statistics: Kite loads no classes.
const Registration loading_count{"hudson.slaves.SlaveComputer$LoadingCount", [](const Call&, Context& ctx) -> Result {
  return ctx.reply(ser::jdk::integer(ctx.arena(), 0));
}};
const Registration loading_prefetch_cache_count{"hudson.slaves.SlaveComputer$LoadingPrefetchCacheCount",
                                                [](const Call&, Context& ctx) -> Result {
                                                  return ctx.reply(ser::jdk::integer(ctx.arena(), 0));
                                                }};
const Registration loading_time{"hudson.slaves.SlaveComputer$LoadingTime", [](const Call&, Context& ctx) -> Result {
  return ctx.reply(ser::jdk::long_value(ctx.arena(), 0));
}};

// Non-loopback IPv4 addresses, which the controller tries as host names for the node.
const Registration list_possible_names{"hudson.model.Computer$ListPossibleNames", [](const Call&, Context& ctx) -> Result {
  std::vector<ser::Value> names;
  for (const std::string& address : sysinfo::ipv4_addresses()) {
    names.push_back(ser::jdk::string(ctx.arena(), address));
  }
  return ctx.reply(ser::jdk::array_list(ctx.arena(), std::move(names)));
}};

// SystemProperties.getString("host.name"): only set when the controller copied it.
const Registration get_fallback_name{"hudson.model.Computer$GetFallbackName", [](const Call&, Context& ctx) -> Result {
  auto name = ctx.node().system_property("host.name");
  if (!name) return ctx.reply_null();
  return ctx.reply(ser::jdk::string(ctx.arena(), *name));
}};

}  // namespace
}  // namespace kite::callables
