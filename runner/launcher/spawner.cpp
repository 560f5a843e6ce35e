#include "runner/launcher/spawner.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <mutex>

#include "runner/launcher/process_tree.hpp"

#include <spdlog/spdlog.h>

namespace kite::launcher {
namespace {

std::expected<std::pair<UniqueFd, UniqueFd>, Error> make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return std::unexpected(Error::system("pipe2 failed", errno));
  return std::pair{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// Candidate paths for argv[0], in the order execvp would try them, using
// Kite's own PATH as Java's ProcessBuilder does.
std::vector<std::string> executable_candidates(const std::string& program) {
  if (program.find('/') != std::string::npos) return {program};
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  std::vector<std::string> candidates;
  std::size_t start = 0;
  while (true) {
    std::size_t end = dirs.find(':', start);
    std::string_view dir = dirs.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    candidates.push_back(dir.empty() ? program : std::string(dir) + '/' + program);
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return candidates;
}

std::string cannot_run(const SpawnRequest& request, int err) {
  std::string message = "Cannot run program \"" + (request.argv.empty() ? std::string() : request.argv[0]) + "\"";
  if (request.work_dir) message += " (in directory \"" + *request.work_dir + "\")";
  message += ": error=" + std::to_string(err) + ", " + std::strerror(err);
  return message;
}

// Makes `source` the descriptor `target` in the child, clearing close-on-exec.
void move_fd(int source, int target) {
  if (source == target) {
    ::fcntl(target, F_SETFD, 0);
  } else {
    ::dup2(source, target);
  }
}

// Marks every descriptor above 2 close-on-exec, so only 0, 1 and 2 reach the
// program while the error pipe stays usable until exec.
void mark_inherited_cloexec() {
  if (::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
  rlimit limit{};
  long max_fd = (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
                    ? static_cast<long>(limit.rlim_cur)
                    : 65536;
  for (long fd = 3; fd < max_fd; ++fd) ::fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC);
}

// Runs in the forked child: only async-signal-safe calls from here on.
[[noreturn]] void exec_child(const SpawnRequest& request, char* const* argv, char* const* envp, char** shell_argv,
                             const std::vector<std::string>& candidates, int stdin_fd, int stdout_fd, int stderr_fd,
                             int error_fd) {
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int signal_number = 1; signal_number < NSIG; ++signal_number) {
    struct sigaction action {};
    action.sa_handler = SIG_DFL;
    ::sigaction(signal_number, &action, nullptr);
  }

  if (request.new_session) ::setsid();
  move_fd(stdin_fd, 0);
  move_fd(stdout_fd, 1);
  move_fd(stderr_fd, 2);
  mark_inherited_cloexec();

  int err = 0;
  if (request.work_dir && ::chdir(request.work_dir->c_str()) != 0) {
    err = errno;
  } else {
    bool saw_eacces = false;
    for (const auto& candidate : candidates) {
      ::execve(candidate.c_str(), argv, envp);
      err = errno;
      if (err == ENOEXEC) {
        // Like execvp: a file without a known format is run as a shell script.
        shell_argv[1] = const_cast<char*>(candidate.c_str());
        ::execve("/bin/sh", shell_argv, envp);
        err = errno;
        break;
      }
      if (err == EACCES) {
        saw_eacces = true;
        continue;
      }
      if (err != ENOENT && err != ENOTDIR) break;
    }
    if (saw_eacces && (err == ENOENT || err == ENOTDIR)) err = EACCES;
  }
  ssize_t ignored = ::write(error_fd, &err, sizeof err);
  (void)ignored;
  ::_exit(127);
}

// A forked child. wait() first learns of the exit without reaping
// (WNOWAIT) and reaps under `reap_mutex_`, and kill_tree() signals under the
// same lock, so a signal never reaches a pid the kernel may have reused.
class ForkExecChild final : public ChildProcess {
 public:
  explicit ForkExecChild(pid_t pid) : pid_(pid) {}

  pid_t pid() const override { return pid_; }

  std::expected<int, Error> wait() override {
    siginfo_t info{};
    while (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOWAIT) != 0 && errno == EINTR) {
    }
    std::lock_guard lock(reap_mutex_);
    if (status_) return *status_;
    int status = 0;
    pid_t reaped;
    while ((reaped = ::waitpid(pid_, &status, 0)) < 0 && errno == EINTR) {
    }
    if (reaped < 0) return std::unexpected(Error::system("waitpid(" + std::to_string(pid_) + ") failed", errno));
    status_ = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
    return *status_;
  }

  void kill_tree(std::chrono::milliseconds grace) override {
    std::lock_guard lock(reap_mutex_);
    if (!status_) process_tree::kill_recursively(pid_, {grace});
  }

 private:
  const pid_t pid_;
  std::mutex reap_mutex_;
  std::optional<int> status_;
};

}  // namespace

std::expected<SpawnedProcess, Error> ForkExecSpawner::spawn(const SpawnRequest& request) {
  if (request.argv.empty()) return std::unexpected(Error::invalid("cannot start a process: the command is empty"));
  if (request.work_dir) {
    struct stat info {};
    if (::stat(request.work_dir->c_str(), &info) != 0) {
      return std::unexpected(Error::io("Process working directory '" + *request.work_dir + "' doesn't exist!"));
    }
  }

  // Everything the child needs is prepared here, because after fork() in a
  // multithreaded process the child may not allocate.
  std::vector<char*> argv;
  for (const auto& argument : request.argv) argv.push_back(const_cast<char*>(argument.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& entry : request.environment) envp.push_back(const_cast<char*>(entry.c_str()));
  envp.push_back(nullptr);
  std::vector<char*> shell_argv{const_cast<char*>("/bin/sh"), nullptr};
  for (std::size_t i = 1; i < request.argv.size(); ++i) shell_argv.push_back(argv[i]);
  shell_argv.push_back(nullptr);
  const auto candidates = executable_candidates(request.argv[0]);

  UniqueFd dev_null;
  SpawnedProcess result;
  UniqueFd child_stdin, child_stdout, child_stderr;
  if (request.pipe_stdin) {
    auto pipe = make_pipe();
    if (!pipe) return std::unexpected(pipe.error());
    child_stdin = std::move(pipe->first);
    result.stdin_fd = std::move(pipe->second);
  } else {
    dev_null.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (!dev_null.valid()) return std::unexpected(Error::system("open(/dev/null) failed", errno));
  }
  auto out_pipe = make_pipe();
  if (!out_pipe) return std::unexpected(out_pipe.error());
  result.stdout_fd = std::move(out_pipe->first);
  child_stdout = std::move(out_pipe->second);
  if (request.separate_stderr) {
    auto err_pipe = make_pipe();
    if (!err_pipe) return std::unexpected(err_pipe.error());
    result.stderr_fd = std::move(err_pipe->first);
    child_stderr = std::move(err_pipe->second);
  }
  auto error_pipe = make_pipe();
  if (!error_pipe) return std::unexpected(error_pipe.error());

  const int stdin_fd = request.pipe_stdin ? child_stdin.get() : dev_null.get();
  const int stderr_fd = request.separate_stderr ? child_stderr.get() : child_stdout.get();
  pid_t pid = ::fork();
  if (pid < 0) return std::unexpected(Error::system(cannot_run(request, errno), errno));
  if (pid == 0) {
    exec_child(request, argv.data(), envp.data(), shell_argv.data(), candidates, stdin_fd, child_stdout.get(),
               stderr_fd, error_pipe->second.get());
  }

  // Parent: close the child's ends, then learn whether exec succeeded.
  error_pipe->second.reset();
  child_stdin.reset();
  child_stdout.reset();
  child_stderr.reset();
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(error_pipe->first.get(), &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof child_errno)) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return std::unexpected(Error::io(cannot_run(request, child_errno)));
  }

  result.child = std::make_unique<ForkExecChild>(pid);
  spdlog::info("launcher: started pid={} {} {}", pid, request.argv[0], request.label);
  return result;
}

namespace {
std::mutex default_spawner_mutex;
std::shared_ptr<Spawner> installed_spawner;
}  // namespace

std::shared_ptr<Spawner> default_spawner() {
  std::lock_guard lock(default_spawner_mutex);
  if (!installed_spawner) installed_spawner = std::make_shared<ForkExecSpawner>();
  return installed_spawner;
}

void set_default_spawner(std::shared_ptr<Spawner> spawner) {
  std::lock_guard lock(default_spawner_mutex);
  installed_spawner = std::move(spawner);
}

}  // namespace kite::launcher
