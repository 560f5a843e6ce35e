#include "runner/daemon/config_file.hpp"

#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "protocol/transport/http_client.hpp"

namespace kite::daemon {

namespace {

using nlohmann::json;

constexpr std::size_t kMaxConfigSize = 1 << 20;

const std::set<std::string> kTopLevelKeys = {"logFile", "logLevel", "session", "nodes"};
const std::set<std::string> kNodeKeys = {
    "url", "name", "secretFile", "secretEnv", "workDir", "internalDir", "failIfWorkDirIsMissing",
    "labels", "sandboxPolicy", "webSocketHeaders", "certificates", "noCertificateCheck",
    "proxyCredentialsFile", "proxyCredentialsEnv", "noReconnect", "pingIntervalSeconds"};

template <typename T>
std::expected<T, std::string> get(const json& object, const char* key, const std::string& where, T fallback) {
  const auto it = object.find(key);
  if (it == object.end()) return fallback;
  try {
    return it->get<T>();
  } catch (const json::exception&) {
    return std::unexpected(fmt::format("{}: '{}' has the wrong type ({})", where, key, it->type_name()));
  }
}

std::expected<std::string, std::string> read_small_file(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::unexpected(fmt::format("cannot read {} '{}'", what, path));
  std::ostringstream text;
  text << in.rdbuf();
  std::string value = text.str();
  const auto first = value.find_first_not_of(" \t\r\n");
  const auto last = value.find_last_not_of(" \t\r\n");
  if (first == std::string::npos) return std::unexpected(fmt::format("{} '{}' is empty", what, path));
  return value.substr(first, last - first + 1);
}

std::expected<std::string, std::string> secret_from(const json& node, const std::string& where, const char* file_key,
                                                    const char* env_key, const EnvLookup& env, bool required) {
  auto file = get<std::string>(node, file_key, where, "");
  if (!file) return std::unexpected(file.error());
  auto variable = get<std::string>(node, env_key, where, "");
  if (!variable) return std::unexpected(variable.error());
  if (!file->empty() && !variable->empty()) {
    return std::unexpected(fmt::format("{}: give either '{}' or '{}', not both", where, file_key, env_key));
  }
  if (!file->empty()) return read_small_file(*file, fmt::format("{} {}", where, file_key));
  if (!variable->empty()) {
    auto value = env(variable->c_str());
    if (!value || value->empty()) {
      return std::unexpected(fmt::format("{}: environment variable '{}' named by '{}' is not set", where, *variable, env_key));
    }
    return *value;
  }
  if (required) return std::unexpected(fmt::format("{}: no secret; set '{}' or '{}'", where, file_key, env_key));
  return std::string();
}

std::expected<NodeConfig, std::string> parse_node(const json& node, std::size_t index, const EnvLookup& env) {
  std::string where = fmt::format("nodes[{}]", index);
  if (!node.is_object()) return std::unexpected(where + " is not an object");
  for (const auto& [key, value] : node.items()) {
    if (key == "secret" || key == "proxyCredentials") {
      return std::unexpected(fmt::format("{}: '{}' must not be written in the file; use '{}File' or '{}Env'", where, key, key, key));
    }
    if (!kNodeKeys.contains(key)) return std::unexpected(fmt::format("{}: unknown key '{}'", where, key));
  }

  NodeConfig out;
  auto name = get<std::string>(node, "name", where, "");
  if (!name) return std::unexpected(name.error());
  if (name->empty()) return std::unexpected(where + ": 'name' is missing");
  out.name = *name;
  where = fmt::format("nodes[{}] ({})", index, out.name);

  auto url = get<std::string>(node, "url", where, "");
  if (!url) return std::unexpected(url.error());
  if (url->empty()) return std::unexpected(where + ": 'url' is missing");
  auto normalized = normalize_controller_url(*url);
  if (!normalized) return std::unexpected(where + ": " + normalized.error());
  out.url = *normalized;

  auto secret = secret_from(node, where, "secretFile", "secretEnv", env, true);
  if (!secret) return std::unexpected(secret.error());
  out.secret = *secret;
  auto proxy = secret_from(node, where, "proxyCredentialsFile", "proxyCredentialsEnv", env, false);
  if (!proxy) return std::unexpected(proxy.error());
  out.proxy_credentials = *proxy;

  auto work_dir = get<std::string>(node, "workDir", where, "");
  if (!work_dir) return std::unexpected(work_dir.error());
  out.work_dir = *work_dir;
  auto internal_dir = get<std::string>(node, "internalDir", where, "remoting");
  if (!internal_dir) return std::unexpected(internal_dir.error());
  out.internal_dir = *internal_dir;
  auto fail_missing = get<bool>(node, "failIfWorkDirIsMissing", where, false);
  if (!fail_missing) return std::unexpected(fail_missing.error());
  out.fail_if_work_dir_missing = *fail_missing;

  auto labels = get<std::vector<std::string>>(node, "labels", where, {});
  if (!labels) return std::unexpected(labels.error());
  out.labels = *labels;
  auto policy = get<std::string>(node, "sandboxPolicy", where, "");
  if (!policy) return std::unexpected(policy.error());
  out.sandbox_policy = *policy;

  auto headers = get<std::map<std::string, std::string>>(node, "webSocketHeaders", where, {});
  if (!headers) return std::unexpected(headers.error());
  for (const auto& [key, value] : *headers) out.websocket_headers.emplace_back(key, value);

  auto certificates = get<std::vector<std::string>>(node, "certificates", where, {});
  if (!certificates) return std::unexpected(certificates.error());
  for (const std::string& cert : *certificates) {
    auto pem = transport::load_certificate_option(cert.starts_with("-----BEGIN") ? cert : "@" + cert);
    if (!pem) return std::unexpected(fmt::format("{}: certificates: {}", where, pem.error()));
    out.certificates_pem.push_back(*pem);
  }
  auto no_check = get<bool>(node, "noCertificateCheck", where, false);
  if (!no_check) return std::unexpected(no_check.error());
  out.no_certificate_check = *no_check;
  if (out.no_certificate_check && !out.certificates_pem.empty()) {
    return std::unexpected(where + ": 'certificates' and 'noCertificateCheck' cannot be combined");
  }
  auto no_reconnect = get<bool>(node, "noReconnect", where, false);
  if (!no_reconnect) return std::unexpected(no_reconnect.error());
  out.no_reconnect = *no_reconnect;
  auto ping = get<long>(node, "pingIntervalSeconds", where, 20);
  if (!ping) return std::unexpected(ping.error());
  if (*ping < 1 || *ping > 3600) return std::unexpected(where + ": 'pingIntervalSeconds' must be 1..3600");
  out.ping_interval = std::chrono::seconds(*ping);
  out.pong_timeout = std::min(out.pong_timeout, out.ping_interval);
  return out;
}

}  // namespace

std::expected<DaemonConfig, std::string> parse_config_text(std::string_view text, const EnvLookup& env) {
  json root;
  try {
    root = json::parse(text);
  } catch (const json::parse_error& e) {
    return std::unexpected(fmt::format("invalid JSON at byte {}: {}", e.byte, e.what()));
  }
  if (!root.is_object()) return std::unexpected("the configuration is not a JSON object");
  for (const auto& [key, value] : root.items()) {
    if (!kTopLevelKeys.contains(key)) return std::unexpected(fmt::format("unknown top-level key '{}'", key));
  }

  DaemonConfig config;
  auto log_file = get<std::string>(root, "logFile", "configuration", "");
  if (!log_file) return std::unexpected(log_file.error());
  config.log_file = *log_file;
  auto log_level = get<std::string>(root, "logLevel", "configuration", "info");
  if (!log_level) return std::unexpected(log_level.error());
  config.log_level = *log_level;
  auto session = get<std::string>(root, "session", "configuration", "channel");
  if (!session) return std::unexpected(session.error());
  if (*session != "channel" && *session != "echo" && *session != "count") {
    return std::unexpected(fmt::format("'session' is '{}', expected channel, echo or count", *session));
  }
  config.session = *session;

  const auto nodes = root.find("nodes");
  if (nodes == root.end() || !nodes->is_array() || nodes->empty()) {
    return std::unexpected("'nodes' must be a non-empty array");
  }
  std::set<std::pair<std::string, std::string>> seen;
  for (std::size_t i = 0; i < nodes->size(); ++i) {
    auto node = parse_node((*nodes)[i], i, env);
    if (!node) return std::unexpected(node.error());
    if (!seen.emplace(node->url, node->name).second) {
      return std::unexpected(fmt::format("nodes[{}]: node '{}' on {} is declared twice", i, node->name, node->url));
    }
    config.nodes.push_back(std::move(*node));
  }
  return config;
}

std::expected<DaemonConfig, std::string> load_config_file(const std::string& path, const EnvLookup& env) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::unexpected(fmt::format("cannot read the configuration file '{}'", path));
  std::string text;
  text.resize(kMaxConfigSize + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > kMaxConfigSize) return std::unexpected(fmt::format("configuration file '{}' exceeds 1 MiB", path));
  auto config = parse_config_text(text, env);
  if (!config) return std::unexpected(fmt::format("{}: {}", path, config.error()));
  return config;
}

}  // namespace kite::daemon
