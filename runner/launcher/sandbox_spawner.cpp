#include "runner/launcher/sandbox_spawner.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <mutex>
#include <optional>
#include <system_error>

#include <spdlog/spdlog.h>

namespace kite::launcher {
namespace {

std::expected<std::pair<UniqueFd, UniqueFd>, Error> make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return std::unexpected(Error::system("pipe2 failed", errno));
  return std::pair{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

int java_status(const sandbox::ExitStatus& status) {
  return status.signal != 0 ? 128 + status.signal : status.code;
}

// A sandboxed step. sandbox::Step is not safe for concurrent use, so wait()
// and kill_tree() take `mutex_`. wait() first blocks in waitid(WNOWAIT)
// outside the lock, so a kill can run while the step is alive.
class SandboxChild final : public ChildProcess {
 public:
  explicit SandboxChild(sandbox::Step step) : step_(std::move(step)), pid_(step_.pid()) {}

  pid_t pid() const override { return pid_; }

  std::expected<int, Error> wait() override {
    siginfo_t info{};
    while (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOWAIT) != 0 && errno == EINTR) {
    }
    std::lock_guard lock(mutex_);
    if (status_) return *status_;
    auto status = step_.wait();
    if (!status) return std::unexpected(Error::io("waiting for sandboxed pid " + std::to_string(pid_) + " failed: " +
                                                  status.error().message()));
    if (status->reason) spdlog::info("launcher: sandboxed pid={} {}", pid_, status->describe());
    status_ = java_status(*status);
    return *status_;
  }

  void kill_tree(std::chrono::milliseconds grace) override {
    std::lock_guard lock(mutex_);
    if (status_) return;
    auto status = step_.kill(grace);
    if (status) {
      status_ = java_status(*status);
    } else {
      spdlog::warn("launcher: killing sandboxed pid={} failed: {}", pid_, status.error().message());
    }
  }

 private:
  sandbox::Step step_;
  const pid_t pid_;
  std::mutex mutex_;
  std::optional<int> status_;
};

bool is_inside(const std::filesystem::path& path, const std::filesystem::path& dir) {
  if (dir.empty()) return false;
  auto relative = path.lexically_relative(dir);
  return !relative.empty() && *relative.begin() != "..";
}

}  // namespace

SandboxSpawner::SandboxSpawner(sandbox::Policy policy, std::vector<sandbox::CacheMount> caches, std::string node_name)
    : policy_(std::move(policy)), caches_(std::move(caches)), node_name_(std::move(node_name)) {}

std::expected<SpawnedProcess, Error> SandboxSpawner::spawn(const SpawnRequest& request) {
  if (request.argv.empty()) return std::unexpected(Error::invalid("cannot start a process: the command is empty"));

  sandbox::LaunchRequest launch;
  launch.argv = request.argv;
  launch.envp = request.environment;
  launch.policy = policy_;
  launch.caches = caches_;
  launch.detached = request.detached;
  launch.label = "node=" + node_name_ + " " + request.label;
  if (request.work_dir) {
    std::error_code ignored;
    if (!std::filesystem::exists(*request.work_dir, ignored)) {
      return std::unexpected(Error::io("Process working directory '" + *request.work_dir + "' doesn't exist!"));
    }
    launch.workspace = *request.work_dir;
    launch.cwd = *request.work_dir;
    const std::filesystem::path temp_dir = *request.work_dir + "@tmp";
    if (std::filesystem::is_directory(temp_dir, ignored)) launch.writable_paths.push_back(temp_dir);
  }
  for (std::size_t i = 1; i < request.argv.size(); ++i) {
    const std::filesystem::path candidate(request.argv[i]);
    std::error_code ignored;
    if (!candidate.is_absolute() || !std::filesystem::exists(candidate, ignored)) continue;
    if (is_inside(candidate, launch.workspace)) continue;
    // NOTE: only whole arguments are recognised; a path inside a "sh -c" string is not bound.
    launch.writable_paths.push_back(candidate);
  }

  SpawnedProcess result;
  UniqueFd child_stdin, child_stdout, child_stderr;
  if (request.pipe_stdin) {
    auto pipe = make_pipe();
    if (!pipe) return std::unexpected(pipe.error());
    child_stdin = std::move(pipe->first);
    result.stdin_fd = std::move(pipe->second);
    launch.stdin_stream = sandbox::Stdio::from_fd(child_stdin.get());
  } else {
    launch.stdin_stream = sandbox::Stdio::null();
  }
  auto out_pipe = make_pipe();
  if (!out_pipe) return std::unexpected(out_pipe.error());
  result.stdout_fd = std::move(out_pipe->first);
  child_stdout = std::move(out_pipe->second);
  launch.stdout_stream = sandbox::Stdio::from_fd(child_stdout.get());
  if (request.separate_stderr) {
    auto err_pipe = make_pipe();
    if (!err_pipe) return std::unexpected(err_pipe.error());
    result.stderr_fd = std::move(err_pipe->first);
    child_stderr = std::move(err_pipe->second);
    launch.stderr_stream = sandbox::Stdio::from_fd(child_stderr.get());
  } else {
    launch.stderr_stream = sandbox::Stdio::from_fd(child_stdout.get());
  }

  auto step = sandbox::launch(launch);
  if (!step) {
    std::string message = "Cannot run program \"" + request.argv[0] + "\"";
    if (request.work_dir) message += " (in directory \"" + *request.work_dir + "\")";
    return std::unexpected(Error::io(message + ": " + step.error().message()));
  }
  if (!step->warning().empty()) {
    spdlog::warn("launcher: {}", step->warning());
    result.warning = step->warning() + "\n";
  }
  spdlog::info("launcher: started sandboxed pid={} policy={} {}", step->pid(), policy_.name, request.label);
  result.child = std::make_unique<SandboxChild>(std::move(*step));
  return result;
}

namespace {

struct PolicySpawners {
  std::mutex mutex;
  std::map<std::string, std::shared_ptr<Spawner>> by_name;
};

PolicySpawners& policy_spawners() {
  static PolicySpawners instance;
  return instance;
}

}  // namespace

void register_policy(const sandbox::Policy& policy, std::vector<sandbox::CacheMount> caches, std::string node_name) {
  auto& spawners = policy_spawners();
  std::lock_guard lock(spawners.mutex);
  spawners.by_name[policy.name] = make_spawner(policy, std::move(caches), std::move(node_name));
}

std::shared_ptr<Spawner> spawner_for_policy(const std::string& policy_name, const std::string& node_name) {
  if (policy_name.empty()) return default_spawner();
  auto& spawners = policy_spawners();
  std::lock_guard lock(spawners.mutex);
  if (auto it = spawners.by_name.find(policy_name); it != spawners.by_name.end()) return it->second;
  const auto builtins = sandbox::builtin_policies();
  auto builtin = builtins.find(policy_name);
  if (builtin == builtins.end()) return nullptr;
  auto spawner = make_spawner(builtin->second, {}, node_name);
  spawners.by_name[policy_name] = spawner;
  return spawner;
}

std::shared_ptr<Spawner> make_spawner(const sandbox::Policy& policy, std::vector<sandbox::CacheMount> caches,
                                      std::string node_name) {
  if (!policy.enabled) return std::make_shared<ForkExecSpawner>();
  return std::make_shared<SandboxSpawner>(policy, std::move(caches), std::move(node_name));
}

}  // namespace kite::launcher
