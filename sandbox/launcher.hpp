// The step launcher: starts one build step confined by a Policy and returns a
// handle to wait for it, kill its whole process tree and learn why it died.
//
// Every process Kite starts for the controller goes through launch(): the
// Launcher callables, durable tasks and `kite exec` share this code path.
//
// Confined steps (policy.enabled and the kernel allows it) run as:
//
//   Kite ──clone(CLONE_NEWUSER|NEWNS|NEWPID|NEWIPC|NEWUTS[|NEWNET])──► init (PID 1)
//                                                                    └─► step (execve argv)
//
// The init reaps zombies and forwards SIGTERM/SIGINT/SIGHUP/SIGQUIT/SIGUSR1/
// SIGUSR2 to every process of the sandbox. When the step exits, the init
// reports its exit status to Kite and exits too. That kills whatever the step
// left behind, because the kernel kills a PID namespace with its init. Step::pid() is the init's
// pid on the host.
//
// The `off` policy, and a policy with on_unavailable = unconfined when the
// probe found the kernel lacking, use the same API with a plain fork/exec in a
// process group of its own; Step::pid() is then the step's own pid.
//
// Thread safety: launch() may be called from any thread of a multithreaded
// process; the child does only system calls between clone and execve (every
// string, mount plan and seccomp program is prepared before the clone).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <expected>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sandbox/error.hpp"
#include "sandbox/fd.hpp"
#include "sandbox/policy.hpp"

namespace kite::sandbox {

// Source or destination of one of the step's standard streams.
struct Stdio {
  enum class Mode {
    inherit,  // Kite's own descriptor of the same number
    fd,       // `fd` below (not closed by launch; the caller keeps ownership)
    pipe,     // a new pipe; Kite's end is in Step::stdin_pipe()/stdout_pipe()/stderr_pipe()
    null,     // /dev/null
  };
  Mode mode = Mode::inherit;
  int fd = -1;

  static Stdio inherit() { return {}; }
  static Stdio from_fd(int descriptor) { return {Mode::fd, descriptor}; }
  static Stdio pipe() { return {Mode::pipe, -1}; }
  static Stdio null() { return {Mode::null, -1}; }
};

// A cache directory on the host mounted writable at `target` inside the step.
struct CacheMount {
  std::filesystem::path host_dir;  // e.g. <cache_root>/<node>/maven, created when missing
  std::filesystem::path target;    // absolute path inside the step, e.g. /home/jenkins/.m2
  uint64_t max_size_bytes = 0;     // cap enforced by evict_cache() after the step; 0 = none
};

struct LaunchRequest {
  std::vector<std::string> argv;      // argv[0] is looked up in PATH of `envp` when it has no '/'
  std::vector<std::string> envp;      // "NAME=value", passed unchanged (JENKINS_NODE_COOKIE stays visible in /proc/<pid>/environ)
  std::filesystem::path cwd;          // working directory inside the step; empty = workspace
  Stdio stdin_stream = Stdio::null();
  Stdio stdout_stream = Stdio::inherit();
  Stdio stderr_stream = Stdio::inherit();
  Policy policy;                      // from select_policy()
  std::filesystem::path workspace;    // bound writable at the same path; empty = none
  std::vector<std::filesystem::path> writable_paths;  // extra host paths bound writable at the same path
  std::vector<CacheMount> caches;     // from cache_mounts()
  // Durable tasks: the step outlives Kite's connection and Kite itself. The
  // init then starts its own session and is not killed when Kite exits;
  // kill it with Step::kill() or attach() after a restart.
  bool detached = false;
  // Host path where the init writes the step's exit status ("exit 3\n",
  // "signal 9\n") when the step ends; useful with `detached`. Empty = none.
  std::filesystem::path status_file;
  std::string label;                  // ids for logs, e.g. "node=linux-1 step=42"
};

// Cause of a step's end that a limit or Kite imposed, for the step's log.
struct KillReason {
  std::string limit;    // "memory", "processes", "cpu time", "file size", "killed"
  std::string message;  // "killed: memory limit 512 MiB reached (memory.events oom_kill)"
};

struct ExitStatus {
  int code = -1;                      // exit code when the step exited, else -1
  int signal = 0;                     // signal that ended the step, else 0
  std::optional<KillReason> reason;   // set when a limit or Step::kill() ended it

  bool success() const { return code == 0 && signal == 0; }
  // "exit code 0", "killed by signal 9 (Killed): memory limit 512 MiB reached ..."
  std::string describe() const;
};

struct StepState;

// A running or finished step. Movable, not copyable, and not safe for
// concurrent use: call it from one thread at a time. Destroying a Step that
// is not detached kills its process tree and reaps it. A detached Step is
// left running.
class Step {
 public:
  Step(Step&&) noexcept;
  Step& operator=(Step&&) noexcept;
  ~Step();

  // Host-visible pid: the sandbox init's, or the step's own when unconfined.
  pid_t pid() const;
  // True when the step runs in namespaces; false for `off` and the unconfined fallback.
  bool confined() const;
  // Warning to print at the top of the step's log (unconfined fallback), or empty.
  const std::string& warning() const;

  // Blocks until the step ends.
  std::expected<ExitStatus, Error> wait();
  // Returns the status when the step has ended, std::nullopt while it runs.
  std::expected<std::optional<ExitStatus>, Error> try_wait();

  // Kills the whole tree: SIGTERM to every process, then SIGKILL after
  // `grace` if any remains. Blocks at most `grace` plus a reap; the status
  // then carries reason "killed". Safe to call after the step ended.
  std::expected<ExitStatus, Error> kill(std::chrono::milliseconds grace = std::chrono::seconds(10));

  // The reason a limit ended or throttled the step, read from the cgroup's
  // memory.events and pids.events or from the terminating signal.
  std::optional<KillReason> kill_reason() const;

  // Kite's ends of pipes requested with Stdio::pipe(); invalid otherwise.
  // Each can be taken once.
  UniqueFd take_stdin();
  UniqueFd take_stdout();
  UniqueFd take_stderr();

 private:
  friend std::expected<Step, Error> launch(const LaunchRequest&);
  friend std::expected<Step, Error> attach(pid_t, const std::filesystem::path&);
  explicit Step(std::unique_ptr<StepState> state);
  std::unique_ptr<StepState> state_;
};

// Starts a step. Returns once the step's execve succeeded, or an error naming
// the failed call ("execve('mvn') failed: No such file or directory",
// "mount(...) failed: ..."). Every failed system call is also logged.
std::expected<Step, Error> launch(const LaunchRequest& request);

// Reattaches to a detached step after a Kite restart, by the pid Step::pid()
// returned. wait() then polls the process and reads the exit status from
// `status_file` (the one given at launch), because the step is not Kite's child.
std::expected<Step, Error> attach(pid_t pid, const std::filesystem::path& status_file);

// Builds the cache mounts of `policy` for a node: <cache_root>/<node>/<name>
// at the policy's target, with "~" replaced by `home`.
std::vector<CacheMount> cache_mounts(const Policy& policy, const std::filesystem::path& cache_root,
                                     const std::string& node, const std::filesystem::path& home);

}  // namespace kite::sandbox
