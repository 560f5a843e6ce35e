#include "runner/daemon/agent_options.hpp"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "protocol/transport/http_client.hpp"

namespace kite::daemon {

namespace {

enum class Kind { kFlag, kValue };

struct OptionSpec {
  std::string_view name;  // canonical agent.jar spelling, with one dash
  Kind kind;
};

// agent.jar's option names (args4j matches them exactly, including case) and
// aliases, plus Kite's own long options.
const std::map<std::string_view, OptionSpec>& option_table() {
  static const std::map<std::string_view, OptionSpec> table = {
      {"-url", {"-url", Kind::kValue}},
      {"-name", {"-name", Kind::kValue}},
      {"-secret", {"-secret", Kind::kValue}},
      {"-jnlpUrl", {"-jnlpUrl", Kind::kValue}},
      {"-credentials", {"-credentials", Kind::kValue}},
      {"-jnlpCredentials", {"-credentials", Kind::kValue}},
      {"-workDir", {"-workDir", Kind::kValue}},
      {"-internalDir", {"-internalDir", Kind::kValue}},
      {"-failIfWorkDirIsMissing", {"-failIfWorkDirIsMissing", Kind::kFlag}},
      {"-webSocket", {"-webSocket", Kind::kFlag}},
      {"-webSocketHeader", {"-webSocketHeader", Kind::kValue}},
      {"-noReconnect", {"-noReconnect", Kind::kFlag}},
      {"-noreconnect", {"-noReconnect", Kind::kFlag}},
      {"-cert", {"-cert", Kind::kValue}},
      {"-noCertificateCheck", {"-noCertificateCheck", Kind::kFlag}},
      {"-disableHttpsCertValidation", {"-noCertificateCheck", Kind::kFlag}},
      {"-proxyCredentials", {"-proxyCredentials", Kind::kValue}},
      {"-agentLog", {"-agentLog", Kind::kValue}},
      {"-log-file", {"-agentLog", Kind::kValue}},
      {"-headless", {"-headless", Kind::kFlag}},
      {"-noKeepAlive", {"-noKeepAlive", Kind::kFlag}},
      {"-help", {"-help", Kind::kFlag}},
      {"-h", {"-help", Kind::kFlag}},
      {"-version", {"-version", Kind::kFlag}},
      {"-tunnel", {"-tunnel", Kind::kValue}},
      {"-direct", {"-direct", Kind::kValue}},
      {"-directConnection", {"-direct", Kind::kValue}},
      {"-protocols", {"-protocols", Kind::kValue}},
      {"-instanceIdentity", {"-instanceIdentity", Kind::kValue}},
      {"-config", {"-config", Kind::kValue}},
      {"-log-level", {"-log-level", Kind::kValue}},
      {"-session", {"-session", Kind::kValue}},
      {"-ping-interval", {"-ping-interval", Kind::kValue}},
  };
  return table;
}

bool is_true(std::string_view value) {
  std::string text(value);
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text == "true" || text == "1" || text == "yes";
}

}  // namespace

std::expected<std::string, std::string> normalize_controller_url(std::string_view url) {
  std::string text(url);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  std::string lower = text;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (!lower.starts_with("http://") && !lower.starts_with("https://")) {
    return std::unexpected(fmt::format("invalid controller URL '{}': it must start with http:// or https://", text));
  }
  const auto host_start = text.find("://") + 3;
  if (host_start >= text.size() || text[host_start] == '/') {
    return std::unexpected(fmt::format("invalid controller URL '{}': no host", text));
  }
  if (text.find_first_of("?#") != std::string::npos) {
    return std::unexpected(fmt::format("invalid controller URL '{}': a query or fragment is not allowed", text));
  }
  // Collapse repeated trailing slashes ("https://host/jenkins//") to one.
  while (text.size() > host_start + 1 && text.ends_with("//")) text.pop_back();
  if (!text.ends_with('/')) text += '/';
  return text;
}

std::expected<AgentCommandLine, std::string> parse_agent_args(std::span<const std::string_view> args) {
  AgentCommandLine out;
  std::vector<std::string> positional;
  std::vector<std::size_t> positional_index;

  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "--") {
      for (++i; i < args.size(); ++i) {
        positional.emplace_back(args[i]);
        positional_index.push_back(i);
      }
      break;
    }
    if (!arg.starts_with('-') || arg == "-") {
      positional.emplace_back(arg);
      positional_index.push_back(i);
      continue;
    }

    // "--name" is accepted for "-name"; "--name=value" and "-name=value" too.
    std::string_view key = arg.starts_with("--") ? arg.substr(1) : arg;
    std::optional<std::string_view> inline_value;
    if (const auto eq = key.find('='); eq != std::string_view::npos) {
      inline_value = key.substr(eq + 1);
      key = key.substr(0, eq);
    }
    const auto found = option_table().find(key);
    if (found == option_table().end()) {
      return std::unexpected(fmt::format("unknown option '{}'", arg.substr(0, arg.find('='))));
    }
    const OptionSpec& spec = found->second;

    std::string value;
    if (spec.kind == Kind::kValue) {
      if (inline_value) {
        value = std::string(*inline_value);
      } else {
        if (i + 1 >= args.size()) return std::unexpected(fmt::format("option '{}' needs a value", arg));
        value = std::string(args[++i]);
      }
    } else if (inline_value) {
      return std::unexpected(fmt::format("option '{}' takes no value", spec.name));
    }

    const std::string_view name = spec.name;
    if (name == "-url") {
      if (out.url) return std::unexpected("-url given twice: a WebSocket agent connects to exactly one controller URL");
      out.url = value;
    } else if (name == "-name") {
      out.name = value;
    } else if (name == "-secret") {
      out.secret = value;
      if (!value.starts_with('@')) out.secret_args.push_back(i);
    } else if (name == "-jnlpUrl") {
      out.jnlp_url = value;
    } else if (name == "-credentials") {
      out.jnlp_credentials = value;
    } else if (name == "-workDir") {
      out.work_dir = value;
    } else if (name == "-internalDir") {
      out.internal_dir = value;
    } else if (name == "-failIfWorkDirIsMissing") {
      out.fail_if_work_dir_missing = true;
    } else if (name == "-webSocket") {
      out.web_socket = true;
    } else if (name == "-webSocketHeader") {
      const auto eq = value.find('=');
      if (eq == std::string::npos || eq == 0) {
        return std::unexpected(fmt::format("-webSocketHeader '{}' is not NAME=VALUE", value));
      }
      out.websocket_headers.emplace_back(value.substr(0, eq), value.substr(eq + 1));
    } else if (name == "-noReconnect") {
      out.no_reconnect = true;
    } else if (name == "-cert") {
      out.certificates.push_back(value);
    } else if (name == "-noCertificateCheck") {
      out.no_certificate_check = true;
    } else if (name == "-proxyCredentials") {
      if (value.find(':') == std::string::npos) return std::unexpected("-proxyCredentials must be USER:PASSWORD");
      out.proxy_credentials = value;
      out.secret_args.push_back(i);
    } else if (name == "-agentLog") {
      out.agent_log = value;
    } else if (name == "-headless") {
      out.warnings.emplace_back("-headless has no effect (Kite is always headless)");
    } else if (name == "-noKeepAlive") {
      out.warnings.emplace_back("-noKeepAlive has no effect on WebSocket connections");
    } else if (name == "-help") {
      out.help = true;
    } else if (name == "-version") {
      out.version = true;
    } else if (name == "-tunnel") {
      out.tunnel = value;
    } else if (name == "-direct") {
      out.direct = value;
    } else if (name == "-protocols") {
      out.protocols = value;
    } else if (name == "-instanceIdentity") {
      out.instance_identity = value;
    } else if (name == "-config") {
      out.config_file = value;
    } else if (name == "-log-level") {
      out.log_level = value;
    } else if (name == "-session") {
      if (value != "channel" && value != "echo" && value != "count") {
        return std::unexpected(fmt::format("--session '{}' is not one of channel, echo, count", value));
      }
      out.session = value;
    } else if (name == "-ping-interval") {
      long seconds = 0;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
      if (ec != std::errc() || end != value.data() + value.size() || seconds < 1 || seconds > 3600) {
        return std::unexpected(fmt::format("--ping-interval '{}' must be a number of seconds from 1 to 3600", value));
      }
      out.ping_interval_seconds = seconds;
    }
  }

  // agent.jar's original calling convention: <secret> <agent name>.
  if (!positional.empty()) {
    if (positional.size() != 2) {
      return std::unexpected(fmt::format("expected two positional arguments <secret> <agent name>, got {}", positional.size()));
    }
    if (out.secret) return std::unexpected("the secret is given both with -secret and as a positional argument");
    if (out.name) return std::unexpected("the agent name is given both with -name and as a positional argument");
    out.secret = positional[0];
    out.name = positional[1];
    if (!positional[0].starts_with('@')) out.secret_args.push_back(positional_index[0]);
  }

  if (out.jnlp_url && (out.url || out.name || out.web_socket || out.tunnel || out.direct)) {
    return std::unexpected("-jnlpUrl cannot be combined with -url, -name, -webSocket, -tunnel or -direct");
  }
  if (out.jnlp_credentials && out.secret && out.jnlp_url) {
    return std::unexpected("-jnlpCredentials and -secret are mutually exclusive");
  }
  if (out.no_certificate_check && !out.certificates.empty()) {
    return std::unexpected("-cert and -noCertificateCheck cannot be combined");
  }
  if (!out.config_file.empty() && (out.url || out.name || out.secret || out.jnlp_url)) {
    return std::unexpected("--config cannot be combined with -url, -name, -secret or -jnlpUrl; declare nodes in the file");
  }
  return out;
}

void apply_environment(AgentCommandLine& command_line, const EnvLookup& env) {
  auto get = [&](const char* name) -> std::optional<std::string> {
    auto value = env(name);
    if (value && value->empty()) return std::nullopt;
    return value;
  };
  if (!command_line.config_file.empty() || command_line.jnlp_url) return;

  if (!command_line.url) command_line.url = get("JENKINS_URL");
  if (!command_line.secret) command_line.secret = get("JENKINS_SECRET");
  // As in the image's jenkins-agent script, JENKINS_NAME overrides JENKINS_AGENT_NAME.
  if (!command_line.name) {
    command_line.name = get("JENKINS_NAME");
    if (!command_line.name) command_line.name = get("JENKINS_AGENT_NAME");
  }
  if (auto web_socket = get("JENKINS_WEB_SOCKET"); web_socket && is_true(*web_socket)) command_line.web_socket = true;
  if (!command_line.work_dir) command_line.work_dir = get("JENKINS_AGENT_WORKDIR");
  if (!command_line.direct) command_line.direct = get("JENKINS_DIRECT_CONNECTION");
  if (!command_line.tunnel) command_line.tunnel = get("JENKINS_TUNNEL");
  if (!command_line.protocols) command_line.protocols = get("JENKINS_PROTOCOLS");
  if (!command_line.instance_identity) command_line.instance_identity = get("JENKINS_INSTANCE_IDENTITY");
}

std::expected<std::string, std::string> read_secret_value(std::string_view value) {
  if (!value.starts_with('@')) return std::string(value);
  const std::string path(value.substr(1));
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return std::unexpected(fmt::format("cannot read the secret file '{}': it is a directory", path));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::unexpected(fmt::format("cannot read the secret file '{}'", path));
  constexpr std::size_t kMaxSecretFileBytes = 4096;
  // Reading one byte more than the maximum separates a file of exactly 4 KiB from a larger one.
  std::string text;
  text.resize(kMaxSecretFileBytes + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) return std::unexpected(fmt::format("cannot read the secret file '{}'", path));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > kMaxSecretFileBytes) {
    return std::unexpected(fmt::format("secret file '{}' is larger than 4 KiB", path));
  }
  const auto first = text.find_first_not_of(" \t\r\n");
  const auto last = text.find_last_not_of(" \t\r\n");
  if (first == std::string::npos) return std::unexpected(fmt::format("secret file '{}' is empty", path));
  return text.substr(first, last - first + 1);
}

std::expected<DaemonConfig, std::string> build_config(const AgentCommandLine& command_line) {
  // TCP modes are not implemented; with WebSocket selected their options are ignored.
  const bool tcp_selected = command_line.direct || command_line.tunnel || command_line.protocols || command_line.instance_identity;
  if (tcp_selected && !command_line.web_socket) {
    return std::unexpected(
        "TCP agent connections (-direct, -tunnel, -protocols, -instanceIdentity, JENKINS_DIRECT_CONNECTION, "
        "JENKINS_TUNNEL, JENKINS_PROTOCOLS) are not implemented in Kite yet; use a WebSocket connection "
        "(-webSocket or JENKINS_WEB_SOCKET=true)");
  }

  if (!command_line.url) return std::unexpected("no controller URL: give -url, -jnlpUrl or JENKINS_URL");
  if (!command_line.name) return std::unexpected("no agent name: give -name, the positional <secret> <name>, or JENKINS_AGENT_NAME");
  if (!command_line.secret) return std::unexpected("no secret: give -secret @FILE, the positional <secret> <name>, or JENKINS_SECRET");

  NodeConfig node;
  auto url = normalize_controller_url(*command_line.url);
  if (!url) return std::unexpected(url.error());
  node.url = *url;
  node.name = *command_line.name;
  if (node.name.empty()) return std::unexpected("the agent name is empty");
  auto secret = read_secret_value(*command_line.secret);
  if (!secret) return std::unexpected(secret.error());
  node.secret = *secret;
  if (command_line.work_dir) node.work_dir = *command_line.work_dir;
  if (command_line.internal_dir) {
    if (!command_line.work_dir) return std::unexpected("-internalDir needs -workDir");
    node.internal_dir = *command_line.internal_dir;
  }
  if (command_line.fail_if_work_dir_missing && !command_line.work_dir) {
    return std::unexpected("-failIfWorkDirIsMissing needs -workDir");
  }
  node.fail_if_work_dir_missing = command_line.fail_if_work_dir_missing;
  node.websocket_headers = command_line.websocket_headers;
  for (const std::string& cert : command_line.certificates) {
    auto pem = transport::load_certificate_option(cert);
    if (!pem) return std::unexpected("-cert: " + pem.error());
    node.certificates_pem.push_back(*pem);
  }
  node.no_certificate_check = command_line.no_certificate_check;
  if (command_line.proxy_credentials) node.proxy_credentials = *command_line.proxy_credentials;
  node.no_reconnect = command_line.no_reconnect;
  if (command_line.ping_interval_seconds) {
    node.ping_interval = std::chrono::seconds(*command_line.ping_interval_seconds);
    node.pong_timeout = std::min(node.pong_timeout, node.ping_interval);
  }

  DaemonConfig config;
  config.nodes.push_back(std::move(node));
  if (command_line.agent_log) config.log_file = *command_line.agent_log;
  if (command_line.log_level) config.log_level = *command_line.log_level;
  if (command_line.session) config.session = *command_line.session;
  return config;
}

std::string usage_text() {
  return R"(Usage: kite [options]                        connect one agent (agent.jar compatible)
       kite [options] <secret> <agent name>
       kite --config FILE                       serve the nodes declared in a JSON file
       kite dump-stream FILE | exec ... | check

Connection (agent.jar options; --option and -option=value forms are accepted):
  -url URL                  controller root URL, e.g. https://ci.example.com/jenkins/
  -name NAME                agent name as configured on the controller
  -secret SECRET|@FILE      agent secret; @FILE reads it from a file (preferred:
                            a literal secret is visible to other users until Kite
                            overwrites it in its argument list at startup)
  -webSocket                connect over WebSocket (the only mode Kite implements)
  -webSocketHeader N=V      extra header for the WebSocket upgrade (repeatable)
  -jnlpUrl URL              read -url, -name and -secret from the agent's .jnlp file
  -credentials USER:PASS    HTTP basic credentials for -jnlpUrl (alias -jnlpCredentials)
  -noReconnect              exit when the connection ends instead of reconnecting
  -cert PEM|@FILE           extra trusted CA certificate (repeatable)
  -noCertificateCheck       do not verify the controller's TLS certificate
                            (alias -disableHttpsCertValidation; last resort only)
  -proxyCredentials U:P     credentials for the HTTP proxy from http_proxy/https_proxy
Work directory:
  -workDir DIR              creates DIR/<internalDir>/logs
  -internalDir NAME         name of the internal directory (default: remoting)
  -failIfWorkDirIsMissing   fail when DIR does not exist instead of creating it
Kite:
  --config FILE             JSON configuration with one or more nodes
  -agentLog FILE            also log to FILE (alias --log-file); SIGHUP reopens it
  --log-level LEVEL         trace, debug, info (default), warn, error
  --ping-interval SECONDS   WebSocket keep-alive ping interval (default 20)
  --session echo|count      transport diagnostics instead of the remoting channel
  -help, -version
Environment (jenkins/inbound-agent image): JENKINS_URL, JENKINS_SECRET,
  JENKINS_AGENT_NAME, JENKINS_NAME, JENKINS_WEB_SOCKET, JENKINS_AGENT_WORKDIR;
  http_proxy, https_proxy, no_proxy (and upper-case forms).
)";
}

}  // namespace kite::daemon
