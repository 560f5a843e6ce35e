#include "sandbox/policy.hpp"

#include <algorithm>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

namespace kite::sandbox {

using nlohmann::json;

namespace {

// Maximum depth of "extends" chains, so a cycle is an error instead of a hang.
constexpr int kMaxExtendsDepth = 16;

template <typename T>
std::expected<void, Error> read_field(const json& object, const char* key, T& out,
                                      const std::string& where) {
  const auto it = object.find(key);
  if (it == object.end()) return {};
  try {
    out = it->template get<T>();
  } catch (const json::exception& e) {
    return std::unexpected(plain_error("invalid policy", fmt::format("{}.{}: {}", where, key, e.what())));
  }
  return {};
}

template <typename T>
std::expected<void, Error> read_optional(const json& object, const char* key, std::optional<T>& out,
                                         const std::string& where) {
  const auto it = object.find(key);
  if (it == object.end()) return {};
  if (it->is_null()) {
    out.reset();
    return {};
  }
  T value{};
  if (auto r = read_field(object, key, value, where); !r) return r;
  out = value;
  return {};
}

std::expected<void, Error> check_keys(const json& object, std::initializer_list<const char*> known,
                                      const std::string& where) {
  if (!object.is_object()) {
    return std::unexpected(plain_error("invalid policy", fmt::format("{}: expected a JSON object", where)));
  }
  for (const auto& [key, value] : object.items()) {
    if (std::none_of(known.begin(), known.end(), [&](const char* k) { return key == k; })) {
      return std::unexpected(plain_error("invalid policy", fmt::format("{}: unknown key '{}'", where, key)));
    }
  }
  return {};
}

#define KITE_TRY(expr)                                   \
  do {                                                   \
    if (auto kite_r = (expr); !kite_r) return std::unexpected(kite_r.error()); \
  } while (0)

std::expected<void, Error> parse_namespaces(const json& o, NamespacePolicy& ns, const std::string& where) {
  KITE_TRY(check_keys(o, {"user", "mount", "pid", "ipc", "uts", "net"}, where));
  KITE_TRY(read_field(o, "user", ns.user, where));
  KITE_TRY(read_field(o, "mount", ns.mount, where));
  KITE_TRY(read_field(o, "pid", ns.pid, where));
  KITE_TRY(read_field(o, "ipc", ns.ipc, where));
  KITE_TRY(read_field(o, "uts", ns.uts, where));
  KITE_TRY(read_field(o, "net", ns.net, where));
  return {};
}

std::expected<void, Error> parse_user(const json& o, UserPolicy& user, const std::string& where) {
  KITE_TRY(check_keys(o, {"uid", "gid", "host_uid", "host_gid"}, where));
  KITE_TRY(read_optional(o, "uid", user.uid, where));
  KITE_TRY(read_optional(o, "gid", user.gid, where));
  KITE_TRY(read_optional(o, "host_uid", user.host_uid, where));
  KITE_TRY(read_optional(o, "host_gid", user.host_gid, where));
  return {};
}

std::expected<void, Error> parse_seccomp(const json& o, SeccompPolicy& s, const std::string& where) {
  KITE_TRY(check_keys(o, {"enabled", "allow_ptrace", "allow_perf", "allow_namespaces"}, where));
  KITE_TRY(read_field(o, "enabled", s.enabled, where));
  KITE_TRY(read_field(o, "allow_ptrace", s.allow_ptrace, where));
  KITE_TRY(read_field(o, "allow_perf", s.allow_perf, where));
  KITE_TRY(read_field(o, "allow_namespaces", s.allow_namespaces, where));
  return {};
}

std::expected<void, Error> parse_limits(const json& o, LimitPolicy& l, const std::string& where) {
  KITE_TRY(check_keys(o, {"memory_mib", "cpu_percent", "max_processes", "cpu_seconds", "file_size_mib",
                          "open_files", "core_size_mib"},
                      where));
  KITE_TRY(read_field(o, "memory_mib", l.memory_mib, where));
  KITE_TRY(read_field(o, "cpu_percent", l.cpu_percent, where));
  KITE_TRY(read_field(o, "max_processes", l.max_processes, where));
  KITE_TRY(read_field(o, "cpu_seconds", l.cpu_seconds, where));
  KITE_TRY(read_field(o, "file_size_mib", l.file_size_mib, where));
  KITE_TRY(read_field(o, "open_files", l.open_files, where));
  KITE_TRY(read_field(o, "core_size_mib", l.core_size_mib, where));
  return {};
}

std::expected<void, Error> parse_caches(const json& a, std::vector<CacheMountPolicy>& caches,
                                        const std::string& where) {
  if (!a.is_array()) {
    return std::unexpected(plain_error("invalid policy", fmt::format("{}: expected a JSON array", where)));
  }
  caches.clear();
  for (size_t i = 0; i < a.size(); ++i) {
    const std::string w = fmt::format("{}[{}]", where, i);
    CacheMountPolicy c;
    KITE_TRY(check_keys(a[i], {"name", "target", "max_size_mib"}, w));
    KITE_TRY(read_field(a[i], "name", c.name, w));
    KITE_TRY(read_field(a[i], "target", c.target, w));
    KITE_TRY(read_field(a[i], "max_size_mib", c.max_size_mib, w));
    if (c.name.empty() || c.name.find('/') != std::string::npos || c.name == "." || c.name == "..") {
      return std::unexpected(plain_error("invalid policy", fmt::format("{}.name: '{}' must be a plain directory name", w, c.name)));
    }
    if (c.target.empty() || (c.target[0] != '/' && c.target[0] != '~')) {
      return std::unexpected(plain_error("invalid policy", fmt::format("{}.target: '{}' must be absolute or start with '~'", w, c.target)));
    }
    caches.push_back(std::move(c));
  }
  return {};
}

std::expected<Policy, Error> resolve_policy(const std::string& name, const json& configured,
                                            const std::map<std::string, Policy>& builtins, int depth) {
  if (depth > kMaxExtendsDepth) {
    return std::unexpected(plain_error("invalid policy", fmt::format("'{}': 'extends' chain is longer than {} (a cycle?)", name, kMaxExtendsDepth)));
  }
  const auto it = configured.find(name);
  if (it == configured.end()) {
    const auto b = builtins.find(name);
    if (b == builtins.end()) return std::unexpected(plain_error("unknown policy", fmt::format("'{}' is neither built in nor configured", name)));
    return b->second;
  }
  std::string parent = name;
  if (it->contains("extends")) {
    if (!(*it)["extends"].is_string()) return std::unexpected(plain_error("invalid policy", fmt::format("'{}'.extends must be a string", name)));
    parent = (*it)["extends"].get<std::string>();
  }
  Policy base;
  if (parent != name) {
    auto p = resolve_policy(parent, configured, builtins, depth + 1);
    if (!p) return p;
    base = *p;
  } else if (const auto b = builtins.find(name); b != builtins.end()) {
    base = b->second;  // a configured policy named like a built-in overrides it field by field
  } else {
    base = builtins.at("default");
  }
  base.name = name;
  return parse_policy(*it, std::move(base));
}

}  // namespace

std::map<std::string, Policy> builtin_policies() {
  std::map<std::string, Policy> out;

  Policy def;
  def.name = "default";
  out["default"] = def;

  Policy strict = def;
  strict.name = "strict";
  strict.namespaces.net = true;
  strict.limits.memory_mib = 4096;
  strict.limits.max_processes = 1024;
  strict.limits.open_files = 4096;
  strict.tmp_size_mib = 512;
  out["strict"] = strict;

  Policy off;
  off.name = "off";
  off.enabled = false;
  off.seccomp.enabled = false;
  off.namespaces = NamespacePolicy{false, false, false, false, false, false};
  off.on_unavailable = Fallback::unconfined;
  out["off"] = off;
  return out;
}

std::expected<Policy, Error> parse_policy(const json& o, Policy p) {
  const std::string where = "policy '" + p.name + "'";
  KITE_TRY(check_keys(o, {"extends", "description", "enabled", "namespaces", "network", "user", "root",
                          "hostname", "writable", "tmp_size_mib", "seccomp", "limits", "caches",
                          "on_unavailable"},
                      where));
  KITE_TRY(read_field(o, "enabled", p.enabled, where));
  if (o.contains("namespaces")) KITE_TRY(parse_namespaces(o["namespaces"], p.namespaces, where + ".namespaces"));
  if (o.contains("network")) {
    std::string mode;
    KITE_TRY(read_field(o, "network", mode, where));
    if (mode == "host") p.namespaces.net = false;
    else if (mode == "none") p.namespaces.net = true;
    else return std::unexpected(plain_error("invalid policy", fmt::format("{}.network: '{}' is not 'host' or 'none'", where, mode)));
  }
  if (o.contains("user")) KITE_TRY(parse_user(o["user"], p.user, where + ".user"));
  KITE_TRY(read_field(o, "root", p.root, where));
  KITE_TRY(read_field(o, "hostname", p.hostname, where));
  KITE_TRY(read_field(o, "writable", p.writable, where));
  KITE_TRY(read_field(o, "tmp_size_mib", p.tmp_size_mib, where));
  if (o.contains("seccomp")) KITE_TRY(parse_seccomp(o["seccomp"], p.seccomp, where + ".seccomp"));
  if (o.contains("limits")) KITE_TRY(parse_limits(o["limits"], p.limits, where + ".limits"));
  if (o.contains("caches")) KITE_TRY(parse_caches(o["caches"], p.caches, where + ".caches"));
  if (o.contains("on_unavailable")) {
    std::string mode;
    KITE_TRY(read_field(o, "on_unavailable", mode, where));
    if (mode == "refuse") p.on_unavailable = Fallback::refuse;
    else if (mode == "unconfined") p.on_unavailable = Fallback::unconfined;
    else return std::unexpected(plain_error("invalid policy", fmt::format("{}.on_unavailable: '{}' is not 'refuse' or 'unconfined'", where, mode)));
  }

  if (p.root.empty() || p.root[0] != '/') {
    return std::unexpected(plain_error("invalid policy", fmt::format("{}.root: '{}' must be an absolute path", where, p.root)));
  }
  for (const auto& w : p.writable) {
    if (w.empty() || w[0] != '/') return std::unexpected(plain_error("invalid policy", fmt::format("{}.writable: '{}' must be an absolute path", where, w)));
  }
  if (p.hostname.size() > 64) {
    return std::unexpected(plain_error("invalid policy", fmt::format("{}.hostname: longer than 64 characters", where)));
  }
  if (p.enabled && (!p.namespaces.mount || !p.namespaces.pid)) {
    return std::unexpected(plain_error("invalid policy", fmt::format("{}: a confined step needs the mount and pid namespaces; set \"enabled\": false to run unconfined", where)));
  }
  if (p.enabled && !p.namespaces.user && ::geteuid() != 0) {
    return std::unexpected(plain_error("invalid policy", fmt::format("{}: without a user namespace Kite must run as root", where)));
  }
  return p;
}

std::expected<SandboxConfig, Error> parse_config(const json& section) {
  SandboxConfig config;
  const auto builtins = builtin_policies();
  config.policies = builtins;
  if (section.is_null()) return config;
  if (!section.is_object()) return std::unexpected(plain_error("invalid sandbox configuration", "\"sandbox\" must be a JSON object"));
  KITE_TRY(check_keys(section, {"policies", "policy", "labels", "cache_root"}, "sandbox"));

  const json configured = section.value("policies", json::object());
  if (!configured.is_object()) return std::unexpected(plain_error("invalid sandbox configuration", "sandbox.policies must be an object of name -> policy"));
  for (const auto& [name, body] : configured.items()) {
    auto p = resolve_policy(name, configured, builtins, 0);
    if (!p) return std::unexpected(p.error());
    config.policies[name] = std::move(*p);
  }

  KITE_TRY(read_field(section, "policy", config.nodes.default_policy, "sandbox"));
  if (section.contains("labels")) {
    const json& labels = section["labels"];
    // An array keeps the order of the rules; an object is accepted for brevity.
    if (labels.is_array()) {
      for (const auto& rule : labels) {
        if (!rule.is_object() || !rule.contains("label") || !rule.contains("policy") ||
            !rule["label"].is_string() || !rule["policy"].is_string()) {
          return std::unexpected(plain_error("invalid sandbox configuration", "each sandbox.labels entry must be {\"label\": ..., \"policy\": ...}"));
        }
        config.nodes.by_label.emplace_back(rule["label"].get<std::string>(), rule["policy"].get<std::string>());
      }
    } else if (labels.is_object()) {
      for (const auto& [label, policy] : labels.items()) {
        if (!policy.is_string()) return std::unexpected(plain_error("invalid sandbox configuration", fmt::format("sandbox.labels.{} must be a policy name", label)));
        config.nodes.by_label.emplace_back(label, policy.get<std::string>());
      }
    } else {
      return std::unexpected(plain_error("invalid sandbox configuration", "sandbox.labels must be an array or an object"));
    }
  }
  KITE_TRY(read_field(section, "cache_root", config.cache_root, "sandbox"));

  auto known = [&](const std::string& name) { return config.policies.count(name) != 0; };
  if (!known(config.nodes.default_policy)) {
    return std::unexpected(plain_error("invalid sandbox configuration", fmt::format("sandbox.policy names unknown policy '{}'", config.nodes.default_policy)));
  }
  for (const auto& [label, policy] : config.nodes.by_label) {
    if (!known(policy)) return std::unexpected(plain_error("invalid sandbox configuration", fmt::format("sandbox.labels: label '{}' names unknown policy '{}'", label, policy)));
  }
  return config;
}

std::expected<SandboxConfig, Error> load_config_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::unexpected(sys_error("open", "'" + path + "'"));
  json document;
  try {
    document = json::parse(in);
  } catch (const json::exception& e) {
    return std::unexpected(plain_error("invalid configuration file", fmt::format("{}: {}", path, e.what())));
  }
  if (!document.is_object()) return std::unexpected(plain_error("invalid configuration file", path + ": expected a JSON object"));
  return parse_config(document.value("sandbox", json()));
}

std::string select_policy_name(const NodePolicyMap& map, std::span<const std::string> labels) {
  for (const auto& [label, policy] : map.by_label) {
    if (std::find(labels.begin(), labels.end(), label) != labels.end()) return policy;
  }
  return map.default_policy;
}

std::expected<Policy, Error> select_policy(const SandboxConfig& config, std::span<const std::string> labels) {
  const std::string name = select_policy_name(config.nodes, labels);
  const auto it = config.policies.find(name);
  if (it == config.policies.end()) return std::unexpected(plain_error("unknown policy", fmt::format("'{}' is neither built in nor configured", name)));
  return it->second;
}

json to_json(const Policy& p) {
  auto opt = [](const std::optional<uint32_t>& v) { return v ? json(*v) : json(nullptr); };
  json caches = json::array();
  for (const auto& c : p.caches) caches.push_back({{"name", c.name}, {"target", c.target}, {"max_size_mib", c.max_size_mib}});
  return json{
      {"enabled", p.enabled},
      {"namespaces", {{"user", p.namespaces.user}, {"mount", p.namespaces.mount}, {"pid", p.namespaces.pid},
                      {"ipc", p.namespaces.ipc}, {"uts", p.namespaces.uts}, {"net", p.namespaces.net}}},
      {"network", p.namespaces.net ? "none" : "host"},
      {"user", {{"uid", opt(p.user.uid)}, {"gid", opt(p.user.gid)}, {"host_uid", opt(p.user.host_uid)}, {"host_gid", opt(p.user.host_gid)}}},
      {"root", p.root},
      {"hostname", p.hostname},
      {"writable", p.writable},
      {"tmp_size_mib", p.tmp_size_mib},
      {"seccomp", {{"enabled", p.seccomp.enabled}, {"allow_ptrace", p.seccomp.allow_ptrace},
                   {"allow_perf", p.seccomp.allow_perf}, {"allow_namespaces", p.seccomp.allow_namespaces}}},
      {"limits", {{"memory_mib", p.limits.memory_mib}, {"cpu_percent", p.limits.cpu_percent},
                  {"max_processes", p.limits.max_processes}, {"cpu_seconds", p.limits.cpu_seconds},
                  {"file_size_mib", p.limits.file_size_mib}, {"open_files", p.limits.open_files},
                  {"core_size_mib", p.limits.core_size_mib}}},
      {"caches", caches},
      {"on_unavailable", p.on_unavailable == Fallback::refuse ? "refuse" : "unconfined"},
  };
}

}  // namespace kite::sandbox
