// AgentInfo$GetAgentInfo: what durable-task learns about the agent before a
// launch. Kite reports LINUX and the architecture name the plugin uses, but
// binaryCompatible=false, so the controller never ships its Go wrapper binary
// and always uses the shell wrapper Kite runs natively.
#pragma once

#include <string>
#include <string_view>

namespace kite::durable {

struct AgentInfoValues {
  std::string os = "LINUX";       // AgentInfo$OsType constant
  std::string architecture;       // "64", "32", "aarch64", "ppc64le" or "NOTSUPPORTED"
  std::string binary_path;        // durable_task_monitor_<version>_linux_<architecture>
  bool binary_compatible = false;
  bool binary_cached = false;
  bool caching_available = false;
};

// The plugin's architecture name for a uname(2) machine, via the JVM's os.arch
// (x86_64 is "amd64" there, hence "64").
std::string architecture_for_machine(std::string_view machine);

AgentInfoValues agent_info(std::string_view plugin_version, std::string_view machine);

}  // namespace kite::durable
