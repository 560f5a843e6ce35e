// hudson.Launcher$RemoteLaunchCallable without the wire: what the agent does
// with the decoded record (LocalLauncher.launch on the agent side).
#pragma once

#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runner/launcher/envvars.hpp"
#include "runner/launcher/local_proc.hpp"

namespace kite::launcher {

// Fields of the RemoteLaunchCallable record, decoded. Streams and listeners
// travel separately, as ByteSinks and ByteSources in StreamPlan.
struct RemoteLaunchRequest {
  std::vector<std::string> cmd;
  std::optional<std::vector<bool>> masks;
  std::optional<std::vector<std::string>> env;  // "KEY=VALUE"
  std::optional<std::string> work_dir;
  bool quiet = false;
  bool reverse_stdin = false;
  bool reverse_stdout = false;
  bool reverse_stderr = false;
  // EnvVarsFilterRuleWrapper rules are plugin code Kite cannot run.
  std::size_t filter_rule_count = 0;
};

struct PreparedLaunch {
  SpawnRequest spawn;                        // argv expanded, full environment
  std::optional<std::string> command_line;   // "[ws] $ ..." line unless quiet
};

// Changes a prepared launch before it starts (the durable-task part marks its
// wrapper detached this way, keeping its logic out of the launcher).
using LaunchAdjuster = std::function<void(const RemoteLaunchRequest& request, SpawnRequest& spawn)>;

// Adds an adjuster for every later prepare_launch; safe during static initialization.
void add_launch_adjuster(LaunchAdjuster adjuster);

// Builds the child environment (agent environment overridden by env with
// overrideExpandingAll), expands $VAR in each cmd element against it, and
// formats the command line with masks, then runs the adjusters.
std::expected<PreparedLaunch, Error> prepare_launch(const RemoteLaunchRequest& request, const EnvVars& agent_env);

// The environment Kite started with (Jenkins' EnvVars.masterEnvVars on an agent).
const EnvVars& agent_environment();

// Prints the command line to `listener` (unless quiet), then starts the process.
std::expected<std::shared_ptr<LocalProc>, Error> remote_launch(const RemoteLaunchRequest& request,
                                                               const EnvVars& agent_env, ByteSink* listener,
                                                               StreamPlan streams, Spawner& spawner,
                                                               ProcOptions options = {});

}  // namespace kite::launcher
