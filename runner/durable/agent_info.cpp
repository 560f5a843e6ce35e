#include "runner/durable/agent_info.hpp"

namespace kite::durable {

std::string architecture_for_machine(std::string_view machine) {
  if (machine == "x86_64" || machine == "amd64") return "64";
  if (machine == "aarch64" || machine == "arm64") return "aarch64";
  if (machine == "ppc64le") return "ppc64le";
  if (machine == "i386" || machine == "i486" || machine == "i586" || machine == "i686") return "32";
  return "NOTSUPPORTED";
}

AgentInfoValues agent_info(std::string_view plugin_version, std::string_view machine) {
  AgentInfoValues info;
  info.architecture = architecture_for_machine(machine);
  // Without caching the plugin uses the bare file name (relative to the control directory).
  info.binary_path = "durable_task_monitor_" + std::string(plugin_version) + "_linux_" + info.architecture;
  return info;
}

}  // namespace kite::durable
