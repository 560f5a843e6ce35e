// Sandbox policies: what a step may see and do, parsed from Kite's JSON
// configuration, with the built-in `strict`, `default` and `off` policies.
#pragma once

#include <cstdint>
#include <expected>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "sandbox/error.hpp"

namespace kite::sandbox {

// Namespaces a step gets. A policy with `user` false needs Kite to run as root.
struct NamespacePolicy {
  bool user = true;
  bool mount = true;
  bool pid = true;
  bool ipc = true;
  bool uts = true;
  bool net = false;  // true: a new network namespace with only loopback up
};

// Identity of the step. Unset fields mean "Kite's own effective uid/gid".
// host_uid/host_gid differ from Kite's own ids only when Kite runs as root,
// which is how a root Kite drops steps into an unprivileged mapping.
struct UserPolicy {
  std::optional<uint32_t> uid;       // uid seen inside the sandbox
  std::optional<uint32_t> gid;       // gid seen inside the sandbox
  std::optional<uint32_t> host_uid;  // uid the step has on the host
  std::optional<uint32_t> host_gid;  // gid the step has on the host
};

struct SeccompPolicy {
  bool enabled = true;
  bool allow_ptrace = false;      // debuggers (gdb, strace)
  bool allow_perf = false;        // profilers (perf_event_open)
  bool allow_namespaces = false;  // nested sandboxes (unshare, setns, clone with CLONE_NEW*)
};

// Resource limits; 0 means unlimited. Memory, CPU and process count come
// from the step's cgroup when cgroup v2 is delegated, else from rlimits.
struct LimitPolicy {
  uint64_t memory_mib = 0;       // memory.max, or RLIMIT_AS without cgroups
  uint32_t cpu_percent = 0;      // cpu.max quota, 100 = one full CPU (cgroups only)
  uint32_t max_processes = 0;    // pids.max, or RLIMIT_NPROC without cgroups
  uint64_t cpu_seconds = 0;      // RLIMIT_CPU
  uint64_t file_size_mib = 0;    // RLIMIT_FSIZE
  uint64_t open_files = 0;       // RLIMIT_NOFILE
  uint64_t core_size_mib = 0;    // RLIMIT_CORE (0 disables core dumps)
};

// A persistent per-node cache directory mounted writable into the step.
struct CacheMountPolicy {
  std::string name;            // directory name under the node's cache root
  std::string target;          // path inside the step; a leading "~" is the step's HOME
  uint64_t max_size_mib = 0;   // LRU eviction after each step when over it; 0 = no cap
};

enum class NetworkMode { host, none };
enum class Fallback { refuse, unconfined };

struct Policy {
  std::string name;
  bool enabled = true;                  // false: plain fork/exec (the `off` policy)
  NamespacePolicy namespaces;
  UserPolicy user;
  std::string root = "/";               // root file system, mounted read-only
  std::string hostname = "kite-sandbox";
  std::vector<std::string> writable;    // host paths bound writable at the same path
  uint64_t tmp_size_mib = 1024;         // size of the private /tmp (tmpfs)
  SeccompPolicy seccomp;
  LimitPolicy limits;
  std::vector<CacheMountPolicy> caches;
  Fallback on_unavailable = Fallback::refuse;

  NetworkMode network() const { return namespaces.net ? NetworkMode::none : NetworkMode::host; }
};

// Policy choice per node: the first label rule (in configuration order)
// whose label the step's node carries, else `default_policy`.
struct NodePolicyMap {
  std::string default_policy = "default";
  std::vector<std::pair<std::string, std::string>> by_label;  // label -> policy name
};

// The "sandbox" section of Kite's JSON configuration.
struct SandboxConfig {
  std::map<std::string, Policy> policies;  // built-ins merged with configured ones
  NodePolicyMap nodes;
  std::string cache_root;  // per-node caches live in <cache_root>/<node>/<cache name>
};

// Returns the built-in policies `strict`, `default` and `off`.
std::map<std::string, Policy> builtin_policies();

// Parses one policy object on top of `base` (the built-in or `extends` parent).
std::expected<Policy, Error> parse_policy(const nlohmann::json& object, Policy base);

// Parses the "sandbox" section (or an empty object). Configured policies
// override built-ins of the same name and may name a parent in "extends".
std::expected<SandboxConfig, Error> parse_config(const nlohmann::json& sandbox_section);

// Reads Kite's configuration file and parses its "sandbox" section.
std::expected<SandboxConfig, Error> load_config_file(const std::string& path);

// Picks the policy name for a node with `labels`.
std::string select_policy_name(const NodePolicyMap& map, std::span<const std::string> labels);

// Picks and returns the policy for a node with `labels`, or an error naming
// the missing policy.
std::expected<Policy, Error> select_policy(const SandboxConfig& config,
                                           std::span<const std::string> labels);

// Serializes a policy back to JSON (for `kite check` and logs).
nlohmann::json to_json(const Policy& policy);

}  // namespace kite::sandbox
