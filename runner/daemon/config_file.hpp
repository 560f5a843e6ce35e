// The JSON configuration file (kite --config FILE) for systemd use: several
// nodes served by one process. Secrets come from files or environment
// variables named in the file, never from the file itself.
#pragma once

#include <expected>
#include <string>
#include <string_view>

#include "runner/daemon/agent_options.hpp"
#include "runner/daemon/node_config.hpp"

namespace kite::daemon {

// Parses the text of a configuration file. `env` resolves secretEnv and
// proxyCredentialsEnv. Errors name the node index and key.
std::expected<DaemonConfig, std::string> parse_config_text(std::string_view text, const EnvLookup& env);

std::expected<DaemonConfig, std::string> load_config_file(const std::string& path, const EnvLookup& env);

}  // namespace kite::daemon
