// Starting a child process. The launcher talks to a Spawner so that the plain
// fork/exec below and the sandbox's step launcher are interchangeable.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runner/launcher/error.hpp"
#include "runner/launcher/unique_fd.hpp"

namespace kite::launcher {

struct SpawnRequest {
  std::vector<std::string> argv;          // argv[0] is looked up in Kite's own PATH when it has no '/'
  std::vector<std::string> environment;   // complete "K=V" list for the child
  std::optional<std::string> work_dir;    // nullopt: Kite's working directory
  bool pipe_stdin = false;                // false: stdin is /dev/null
  bool separate_stderr = false;           // false: stderr goes to the stdout pipe
  // Put the child in its own session, so signals aimed at Kite's terminal or
  // process group (Ctrl-C of an interactive agent) do not reach builds.
  bool new_session = true;
  // The process must outlive Kite and its connection (the durable-task
  // wrapper): a sandbox then detaches its init from Kite.
  bool detached = false;
  std::string label;  // ids for logs, e.g. "pid of the request"
};

// A started child that only this object reaps.
class ChildProcess {
 public:
  virtual ~ChildProcess() = default;
  virtual pid_t pid() const = 0;
  // Blocks until the child ends and reaps it. Returns the exit code, or
  // 128 + signal for a killed child (Java's Process.waitFor convention).
  virtual std::expected<int, Error> wait() = 0;
  // Kills the child and its descendants (SIGTERM, SIGKILL after `grace`) with
  // the backend's own means. Never signals a pid after wait() reaped it.
  virtual void kill_tree(std::chrono::milliseconds grace) = 0;
};

struct SpawnedProcess {
  std::unique_ptr<ChildProcess> child;
  UniqueFd stdin_fd;   // write end, when pipe_stdin
  UniqueFd stdout_fd;  // read end (stdout, and stderr unless separate_stderr)
  UniqueFd stderr_fd;  // read end, when separate_stderr
  std::string warning;  // for the top of the build log, e.g. the sandbox's unconfined fallback
};

class Spawner {
 public:
  virtual ~Spawner() = default;
  // Starts the process. Errors use Java's wording for the build log, e.g.
  // Cannot run program "x" (in directory "/ws"): error=2, No such file or directory.
  virtual std::expected<SpawnedProcess, Error> spawn(const SpawnRequest& request) = 0;
};

// fork + execve without a sandbox (policy "off"). The child closes every
// inherited descriptor above 2 and starts with default signal handling.
class ForkExecSpawner final : public Spawner {
 public:
  std::expected<SpawnedProcess, Error> spawn(const SpawnRequest& request) override;
};

// The Spawner the Launcher callables use: ForkExecSpawner until the session
// installs the one for the node's sandbox policy (make_spawner in
// sandbox_spawner.hpp) with set_default_spawner.
std::shared_ptr<Spawner> default_spawner();
void set_default_spawner(std::shared_ptr<Spawner> spawner);

}  // namespace kite::launcher
