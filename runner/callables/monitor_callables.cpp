// The default node monitors: architecture, clock difference, disk space,
// temporary space, swap space and response time. Each return value has the
// exact class the monitor's controller side casts to.
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/utsname.h>

#include "protocol/serialization/build.hpp"
#include "protocol/serialization/jdk.hpp"
#include "runner/callables/registry.hpp"
#include "runner/callables/system_info.hpp"

namespace kite::callables {
namespace {

struct MonitorDescriptors {
  ser::Arena arena;
  const ser::ClassDesc* clock_difference = nullptr;
  const ser::ClassDesc* disk_space = nullptr;
  const ser::ClassDesc* memory_usage = nullptr;
  const ser::ClassDesc* memory_usage2 = nullptr;

  MonitorDescriptors() {
    // serialVersionUID computed by the JDK for Jenkins' class (it declares none).
    clock_difference = ser::make_class_desc(
        arena, {"hudson.model.Slave$GetClockDifference3", -6655128034486338777LL, ser::kScSerializable,
                {{'J', "remoteTime", ""}, {'J', "startTime", ""}}, nullptr});
    // DiskSpace's superclasses (MonitorOfflineCause, OfflineCause) declare no
    // serialVersionUID, so the chain stops here. The controller then leaves
    // OfflineCause.timestamp at 0, which nothing reads for a monitor value.
    disk_space = ser::make_class_desc(
        arena, {"hudson.node_monitors.DiskSpaceMonitorDescriptor$DiskSpace", 2, ser::kScSerializable,
                {{'J', "size", ""},
                 {'J', "threshold", ""},
                 {'J', "totalSize", ""},
                 {'J', "warningThreshold", ""},
                 {'L', "path", "Ljava/lang/String;"},
                 {'L', "trigger", "Ljava/lang/Class;"}},
                nullptr});
    memory_usage = ser::make_class_desc(
        arena, {"org.jvnet.hudson.MemoryUsage", 1, ser::kScSerializable,
                {{'J', "availablePhysicalMemory", ""},
                 {'J', "availableSwapSpace", ""},
                 {'J', "totalPhysicalMemory", ""},
                 {'J', "totalSwapSpace", ""}},
                nullptr});
    memory_usage2 = ser::make_class_desc(
        arena, {"hudson.node_monitors.SwapSpaceMonitor$MemoryUsage2", 2216994637932270352LL, ser::kScSerializable, {},
                memory_usage});
  }
};

const MonitorDescriptors& descriptors() {
  static const MonitorDescriptors d;
  return d;
}

std::optional<std::int64_t> long_field(const ser::Object& o, std::string_view name) {
  const ser::Value* v = o.field(name);
  return v ? v->as_long() : std::nullopt;
}

// "<os.name> (<os.arch>)", e.g. "Linux (amd64)".
const Registration get_arch{"hudson.node_monitors.ArchitectureMonitor$GetArchTask", [](const Call&, Context& ctx) -> Result {
  utsname u{};
  const std::string os = uname(&u) == 0 ? u.sysname : "Linux";
  return ctx.reply(ser::jdk::string(ctx.arena(), fmt::format("{} ({})", os, sysinfo::java_os_arch())));
}};

// GetClockDifference1 reaches the agent as GetClockDifference2 (writeReplace);
// the response echoes startTime with the agent's clock.
const Registration clock_difference{"hudson.model.Slave$GetClockDifference2", [](const Call& call, Context& ctx) -> Result {
  auto start = long_field(call.callable, "startTime");
  if (!start) return Context::fail("Slave$GetClockDifference2 without startTime");
  ser::Object* o = ser::make_object(ctx.arena(), descriptors().clock_difference);
  o->set("remoteTime", sysinfo::current_time_millis());
  o->set("startTime", *start);
  return ctx.reply(static_cast<const ser::Object*>(o));
}};

// DiskSpace for `path`, or null when the usable space is 0 as in Jenkins'
// GetUsableSpace. File.getUsableSpace() is 0 for a missing path too.
Result disk_space(const std::filesystem::path& path, Context& ctx) {
  std::error_code ec;
  std::filesystem::path canonical = std::filesystem::canonical(path, ec);
  if (ec) canonical = path;
  auto usage = sysinfo::disk_usage(canonical);
  if (!usage) {
    ctx.log().warn("disk space monitor: {}", usage.error());
    return ctx.reply_null();
  }
  if (usage->usable <= 0) return ctx.reply_null();
  ser::Object* o = ser::make_object(ctx.arena(), descriptors().disk_space);
  o->set("size", usage->usable);
  o->set("totalSize", usage->total);
  o->set("path", ser::jdk::string(ctx.arena(), canonical.string()));
  return ctx.reply(static_cast<const ser::Object*>(o));
}

const Registration usable_space{"hudson.node_monitors.DiskSpaceMonitorDescriptor$GetUsableSpace",
                                FileHandler([](const FileCall& call, Context& ctx) -> Result {
                                  return disk_space(call.path, ctx);
                                })};

// java.io.tmpdir of a Linux JVM, which ignores TMPDIR.
const Registration temp_space{"hudson.node_monitors.TemporarySpaceMonitor$GetTempSpace",
                              FileHandler([](const FileCall&, Context& ctx) -> Result {
                                return disk_space("/tmp", ctx);
                              })};

const Registration swap_space{"hudson.node_monitors.SwapSpaceMonitor$MonitorTask", [](const Call&, Context& ctx) -> Result {
  auto memory = sysinfo::memory_info();
  if (!memory) return Context::fail(memory.error());
  ser::Object* o = ser::make_object(ctx.arena(), descriptors().memory_usage2);
  o->set("org.jvnet.hudson.MemoryUsage", "availablePhysicalMemory", memory->available_physical);
  o->set("org.jvnet.hudson.MemoryUsage", "availableSwapSpace", memory->available_swap);
  o->set("org.jvnet.hudson.MemoryUsage", "totalPhysicalMemory", memory->total_physical);
  o->set("org.jvnet.hudson.MemoryUsage", "totalSwapSpace", memory->total_swap);
  return ctx.reply(static_cast<const ser::Object*>(o));
}};

// ResponseTimeMonitor: Step1 reaches the agent as Step2 {start, cur}; the
// agent answers Step3 {start, cur} echoing both. Step3 lives in the same
// class as Step2, so its descriptor is built here with Jenkins' svuid 1 and
// the Data value keeps the descriptors the controller sent.
const Registration response_time{"hudson.node_monitors.ResponseTimeMonitor$Step2", [](const Call& call, Context& ctx) -> Result {
  static ser::Arena arena;
  static const ser::ClassDesc* step3 = ser::make_class_desc(
      arena, {"hudson.node_monitors.ResponseTimeMonitor$Step3", 1, ser::kScSerializable,
              {{'J', "start", ""}, {'L', "cur", "Lhudson/node_monitors/ResponseTimeMonitor$Data;"}}, nullptr});
  auto start = long_field(call.callable, "start");
  if (!start) return Context::fail("ResponseTimeMonitor$Step2 without start");
  ser::Object* o = ser::make_object(ctx.arena(), step3);
  o->set("start", *start);
  if (const ser::Value* cur = call.callable.field("cur")) o->set("cur", *cur);
  return ctx.reply(static_cast<const ser::Object*>(o));
}};

}  // namespace
}  // namespace kite::callables
