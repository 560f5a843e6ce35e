// kite [agent] [options]: the agent daemon, started the way agent.jar or the
// jenkins/inbound-agent image is started, or with --config FILE.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <curl/curl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "kite_config.h"
#include "runner/commands.hpp"
#include "runner/daemon/agent_options.hpp"
#include "runner/daemon/config_file.hpp"
#include "runner/daemon/daemon.hpp"
#include "runner/daemon/jnlp.hpp"
#include "runner/daemon/logging.hpp"
#include "runner/daemon/node_runner.hpp"
#include "runner/daemon/test_sessions.hpp"
#include "runner/daemon/work_dir.hpp"

#if __has_include("runner/callables/channel_session.hpp")
#include "runner/callables/channel_session.hpp"
#define KITE_HAS_CHANNEL_SESSION 1
#endif

namespace kite::cmd {

namespace {

std::optional<std::string> getenv_value(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

// Overwrites literal secrets in the process's argument memory, so they no
// longer show in ps or /proc/<pid>/cmdline. The views point into argv.
void scrub_arguments(std::span<const std::string_view> args, const std::vector<std::size_t>& indices) {
  for (std::size_t index : indices) {
    if (index >= args.size()) continue;
    std::string_view arg = args[index];
    std::size_t from = 0;
    if (arg.starts_with('-')) {
      const auto eq = arg.find('=');
      if (eq == std::string_view::npos) continue;  // the option name; its value is the next argument
      from = eq + 1;
    }
    char* text = const_cast<char*>(arg.data());
    std::memset(text + from, 'x', arg.size() - from);
  }
}

int fail(const std::string& message, int status = daemon::kExitConfiguration) {
  std::fprintf(stderr, "kite: %s\n", message.c_str());
  return status;
}

std::expected<std::unique_ptr<daemon::SessionFactory>, std::string> make_factory(const std::string& session) {
  if (session == "echo") return daemon::make_echo_session_factory();
  if (session == "count") return daemon::make_count_session_factory();
#ifdef KITE_HAS_CHANNEL_SESSION
  return callables::make_channel_session_factory();
#else
  return std::unexpected(
      "this kite build has no remoting channel yet; only the transport diagnostics --session echo|count are available");
#endif
}

}  // namespace

int agent(std::span<const std::string_view> args) {
  auto parsed = daemon::parse_agent_args(args);
  if (!parsed) return fail(parsed.error() + " (see kite -help)");
  daemon::AgentCommandLine command_line = std::move(*parsed);
  scrub_arguments(args, command_line.secret_args);

  if (command_line.help) {
    std::fputs(daemon::usage_text().c_str(), stdout);
    return 0;
  }
  if (command_line.version) {
    std::printf("kite %s (remoting %s)\n", KITE_VERSION, daemon::kRemotingVersion);
    return 0;
  }

  curl_global_init(CURL_GLOBAL_DEFAULT);
  const daemon::EnvLookup env = &getenv_value;
  if (auto logging = daemon::setup_logging("", command_line.log_level.value_or("info")); !logging) {
    return fail(logging.error());
  }

  daemon::DaemonConfig config;
  if (!command_line.config_file.empty()) {
    auto loaded = daemon::load_config_file(command_line.config_file, env);
    if (!loaded) return fail(loaded.error());
    config = std::move(*loaded);
    if (command_line.agent_log) config.log_file = *command_line.agent_log;
    if (command_line.log_level) config.log_level = *command_line.log_level;
    if (command_line.session) config.session = *command_line.session;
  } else {
    daemon::apply_environment(command_line, env);
    if (command_line.jnlp_url) {
      transport::NetOptions net;
      for (const std::string& cert : command_line.certificates) {
        auto pem = transport::load_certificate_option(cert);
        if (!pem) return fail("-cert: " + pem.error());
        net.extra_ca_pem.push_back(*pem);
      }
      net.no_certificate_check = command_line.no_certificate_check;
      net.proxy_credentials = command_line.proxy_credentials.value_or("");
      spdlog::warn("-jnlpUrl is deprecated in agent.jar; prefer -url, -name and -secret @FILE");
      const std::atomic<bool> never_stop{false};
      if (auto resolved = daemon::resolve_jnlp(command_line, net, never_stop); !resolved) return fail(resolved.error());
    }
    if (!command_line.web_socket && !(command_line.direct || command_line.tunnel || command_line.protocols ||
                                      command_line.instance_identity)) {
      spdlog::warn("-webSocket not given: Kite implements only WebSocket connections and uses one");
      command_line.web_socket = true;
    } else if (command_line.web_socket && (command_line.direct || command_line.tunnel || command_line.protocols ||
                                           command_line.instance_identity)) {
      spdlog::warn("WebSocket is selected, so the TCP options (-direct, -tunnel, -protocols, -instanceIdentity and "
                   "their JENKINS_* variables) are ignored");
      command_line.direct.reset();
      command_line.tunnel.reset();
      command_line.protocols.reset();
      command_line.instance_identity.reset();
    }
    auto built = daemon::build_config(command_line);
    if (!built) return fail(built.error());
    config = std::move(*built);

    // As agent.jar does, log into <workDir>/<internalDir>/logs unless -agentLog names another file.
    const daemon::NodeConfig& node = config.nodes.front();
    if (!node.work_dir.empty()) {
      auto layout = daemon::initialize_work_dir(node.work_dir, node.internal_dir, node.fail_if_work_dir_missing);
      if (!layout) return fail(layout.error());
      if (config.log_file.empty()) config.log_file = (layout->logs_dir / "kite.log").string();
    }
  }
  for (const std::string& warning : command_line.warnings) spdlog::warn("{}", warning);

  if (auto logging = daemon::setup_logging(config.log_file, config.log_level); !logging) return fail(logging.error());

  auto factory = make_factory(config.session);
  if (!factory) return fail(factory.error());

  spdlog::info("kite {} starting: {} node(s), remoting {}", KITE_VERSION, config.nodes.size(), daemon::kRemotingVersion);
  const int status = daemon::run_daemon(config, **factory);
  curl_global_cleanup();
  return status;
}

}  // namespace kite::cmd
