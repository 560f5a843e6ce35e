// Finding and killing processes through /proc, with the rules of Jenkins'
// hudson.util.ProcessTree on Linux: a process belongs to a build when its
// initial environment (/proc/<pid>/environ) contains every key=value pair of a
// model map, and killing a process kills its descendants (found by PPid) too.
//
// Unlike Jenkins, which sends SIGTERM and only waits, Kite sends SIGKILL to
// whatever survives the grace period, then rescans so that processes forked
// while the kill was under way are caught as well.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runner/launcher/envvars.hpp"

namespace kite::launcher::process_tree {

// Upper bound on the bytes read from one /proc/<pid>/environ or status file;
// the kernel caps environ at the exec-time argument limit, and this guard keeps
// a hostile process from making Kite allocate without bound.
inline constexpr std::size_t kMaxProcFileBytes = 4 * 1024 * 1024;

// Grace period between SIGTERM and SIGKILL (Jenkins' SoftKillWaitSeconds default: 5 s).
inline constexpr std::chrono::milliseconds kDefaultSoftKillWait{5000};

struct ProcessEntry {
  pid_t pid = 0;
  pid_t ppid = 0;
};

// Reads "PPid:" from the text of /proc/<pid>/status.
std::optional<pid_t> parse_ppid(std::string_view status_text);

// Reads "State:" from /proc/<pid>/status text; returns the state letter.
std::optional<char> parse_state(std::string_view status_text);

// Parses NUL-separated "K=V" entries as EnvVars.addLine does (entries whose
// first '=' is at index 0 or missing are skipped; a trailing entry without NUL
// is ignored, as Jenkins ignores it).
EnvVars parse_environ(std::string_view environ_bytes);

// True when `env` contains every pair of `model`; an empty model matches nothing.
bool matches(const EnvVars& env, const std::map<std::string, std::string>& model);

// Every process visible in /proc with its parent.
std::vector<ProcessEntry> snapshot();

// Environment of one process; nullopt when unreadable (gone, or another user's).
std::optional<EnvVars> read_environment(pid_t pid);

// True while /proc/<pid> exists and the process is not a zombie.
bool is_running(pid_t pid);

// Processes whose environment matches `model`, excluding Kite itself.
std::vector<pid_t> find_matching(const std::map<std::string, std::string>& model);

// `roots` and all their descendants in `table`, descendants first.
std::vector<pid_t> with_descendants(const std::vector<pid_t>& roots, const std::vector<ProcessEntry>& table);

struct KillOptions {
  std::chrono::milliseconds soft_kill_wait = kDefaultSoftKillWait;
};

// Sends SIGTERM to every process in `pids`, waits up to the grace period for
// them to end, then sends SIGKILL to the survivors. Returns how many were signalled.
std::size_t terminate(const std::vector<pid_t>& pids, const KillOptions& options = {});

// Kills `root` and its descendants.
std::size_t kill_recursively(pid_t root, const KillOptions& options = {});

// ProcessTree.killAll(modelEnvVars): kills every matching process and its
// descendants. Returns the number of processes signalled.
std::size_t kill_all(const std::map<std::string, std::string>& model, const KillOptions& options = {});

}  // namespace kite::launcher::process_tree
