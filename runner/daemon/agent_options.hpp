// The agent's command line: agent.jar's options for inbound agents, the
// environment variables of the jenkins/inbound-agent image, and Kite's own
// --config / --log-file options.
#pragma once

#include <expected>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "runner/daemon/node_config.hpp"

namespace kite::daemon {

using EnvLookup = std::function<std::optional<std::string>(const char*)>;

// Options as written on the command line, before secrets are read and the
// .jnlp file is fetched.
struct AgentCommandLine {
  bool help = false;
  bool version = false;
  std::string config_file;  // --config FILE: everything else comes from the file

  std::optional<std::string> url;
  std::optional<std::string> name;
  std::optional<std::string> secret;  // literal or "@file"
  std::optional<std::string> jnlp_url;
  std::optional<std::string> jnlp_credentials;
  std::optional<std::string> work_dir;
  std::optional<std::string> internal_dir;
  bool fail_if_work_dir_missing = false;
  bool web_socket = false;
  bool no_reconnect = false;
  bool no_certificate_check = false;
  std::vector<std::string> certificates;  // -cert values
  std::optional<std::string> proxy_credentials;
  std::vector<std::pair<std::string, std::string>> websocket_headers;
  std::optional<std::string> agent_log;
  std::optional<std::string> log_level;
  std::optional<std::string> session;
  std::optional<long> ping_interval_seconds;
  // TCP-mode options Kite does not implement yet.
  std::optional<std::string> tunnel;
  std::optional<std::string> direct;
  std::optional<std::string> protocols;
  std::optional<std::string> instance_identity;
  std::vector<std::string> warnings;      // accepted options without effect
  std::vector<std::size_t> secret_args;   // indices of arguments that hold a literal secret
};

// Parses `args` (without the program name). Errors are one line each.
std::expected<AgentCommandLine, std::string> parse_agent_args(std::span<const std::string_view> args);

// Fills what the command line left open from the jenkins/inbound-agent
// variables (JENKINS_URL, JENKINS_SECRET, JENKINS_AGENT_NAME, JENKINS_NAME,
// JENKINS_WEB_SOCKET, JENKINS_AGENT_WORKDIR, JENKINS_DIRECT_CONNECTION,
// JENKINS_TUNNEL, JENKINS_PROTOCOLS, JENKINS_INSTANCE_IDENTITY); the command
// line wins where both are set.
void apply_environment(AgentCommandLine& command_line, const EnvLookup& env);

// Reads "@file" secrets, checks the combination of options and builds the
// single-node configuration. -jnlpUrl must have been resolved before.
std::expected<DaemonConfig, std::string> build_config(const AgentCommandLine& command_line);

// Reads a secret given as "@path" (whitespace around it is dropped); other
// values are returned as they are.
std::expected<std::string, std::string> read_secret_value(std::string_view value);

std::string usage_text();

}  // namespace kite::daemon
