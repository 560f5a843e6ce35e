#include "sandbox/launcher.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <thread>

#include <spdlog/spdlog.h>

#include "sandbox/cgroup2.hpp"
#include "sandbox/contain.hpp"
#include "sandbox/init.hpp"
#include "sandbox/ipc.hpp"
#include "sandbox/net.hpp"
#include "sandbox/pid.hpp"
#include "sandbox/probe.hpp"
#include "sandbox/uts.hpp"

namespace kite::sandbox {

namespace fs = std::filesystem;

struct StepState {
  pid_t pid = -1;
  bool child = true;        // Kite can waitpid() it (false after attach())
  bool confined = false;
  bool detached = false;
  std::string warning;
  std::string label;
  LimitPolicy limits;
  std::optional<cgroup2::StepCgroup> cgroup;
  UniqueFd status_pipe;     // confined: one init::StatusRecord
  UniqueFd lifeline;        // confined, not detached: closing it stops the init
  UniqueFd pidfd;           // attached steps: readable when the process exits
  fs::path status_file;
  UniqueFd stdin_pipe, stdout_pipe, stderr_pipe;
  std::optional<ExitStatus> finished;
  bool killed_by_kite = false;
  std::chrono::milliseconds kill_grace{0};
};

namespace {

std::atomic<uint64_t> next_step_id{1};

struct Pipe {
  UniqueFd read, write;
};

std::expected<Pipe, Error> make_pipe(const char* what) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    auto e = sys_error("pipe2", what);
    spdlog::error("sandbox: {}", e.message());
    return std::unexpected(e);
  }
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// The child's end of one standard stream, and Kite's end when it is a pipe.
struct StreamSetup {
  UniqueFd child_owned;  // opened here, closed after the clone
  int child_fd = -1;
  UniqueFd kite_end;
};

std::expected<StreamSetup, Error> setup_stream(const Stdio& stdio, int number) {
  StreamSetup s;
  switch (stdio.mode) {
    case Stdio::Mode::inherit:
      s.child_fd = number;
      break;
    case Stdio::Mode::fd:
      if (stdio.fd < 0) return std::unexpected(plain_error("invalid stdio", fmt::format("descriptor {} for fd {}", stdio.fd, number)));
      s.child_fd = stdio.fd;
      break;
    case Stdio::Mode::null:
      s.child_owned.reset(::open("/dev/null", (number == 0 ? O_RDONLY : O_WRONLY) | O_CLOEXEC));
      if (!s.child_owned.valid()) return std::unexpected(sys_error("open", "'/dev/null'"));
      s.child_fd = s.child_owned.get();
      break;
    case Stdio::Mode::pipe: {
      auto p = make_pipe("stdio");
      if (!p) return std::unexpected(p.error());
      if (number == 0) {
        s.child_owned = std::move(p->read);
        s.kite_end = std::move(p->write);
      } else {
        s.child_owned = std::move(p->write);
        s.kite_end = std::move(p->read);
      }
      s.child_fd = s.child_owned.get();
      break;
    }
  }
  return s;
}

ExitStatus status_from_wait(int status) {
  ExitStatus s;
  if (WIFEXITED(status)) s.code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) s.signal = WTERMSIG(status);
  return s;
}

std::optional<ExitStatus> read_status_file(const fs::path& path) {
  std::ifstream in(path);
  std::string kind;
  int value = 0;
  if (!(in >> kind >> value)) return std::nullopt;
  ExitStatus s;
  if (kind == "exit") s.code = value;
  else if (kind == "signal") s.signal = value;
  else return std::nullopt;
  return s;
}

// Completes a status with what the init reported and why the step ended.
void finish_status(StepState& st, ExitStatus s) {
  if (st.confined && st.status_pipe.valid()) {
    init::StatusRecord record;
    if (::read(st.status_pipe.get(), &record, sizeof record) == sizeof record) {
      s.code = record.code;
      s.signal = record.signal;
    }
  }
  if (st.cgroup) s.reason = cgroup2::kill_reason(*st.cgroup);
  if (!s.reason && s.signal) s.reason = rlimits::reason_for_signal(s.signal, st.limits);
  if (!s.reason && st.killed_by_kite) {
    s.reason = KillReason{"killed", fmt::format("killed: stopped by Kite (SIGTERM to every process, SIGKILL after {} ms)", st.kill_grace.count())};
  }
  if (st.cgroup) {
    (void)cgroup2::kill_all(*st.cgroup);
    (void)cgroup2::remove(*st.cgroup);
    st.cgroup.reset();
  }
  if (!st.confined && !st.status_file.empty()) {
    // Confined steps get this line from their init; unconfined ones from here,
    // so only while this Kite lives.
    std::ofstream out(st.status_file, std::ios::trunc);
    if (s.signal) out << "signal " << s.signal << "\n";
    else out << "exit " << s.code << "\n";
  }
  spdlog::info("sandbox: step {} [{}] ended: {}", st.pid, st.label, s.describe());
  st.finished = s;
}

std::expected<std::optional<ExitStatus>, Error> poll_step(StepState& st, bool block) {
  if (st.finished) return st.finished;
  if (st.child) {
    int status = 0;
    pid_t r;
    do {
      r = ::waitpid(st.pid, &status, block ? 0 : WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r < 0) return std::unexpected(sys_error("waitpid", std::to_string(st.pid)));
    if (r == 0) return std::nullopt;
    finish_status(st, status_from_wait(status));
    return st.finished;
  }
  // Attached after a restart: the exit shows on the pidfd, the status in the file.
  pollfd pfd{st.pidfd.get(), POLLIN, 0};
  int r;
  do {
    r = ::poll(&pfd, 1, block ? -1 : 0);
  } while (r < 0 && errno == EINTR);
  if (r < 0) return std::unexpected(sys_error("poll", fmt::format("pidfd of {}", st.pid)));
  if (r == 0) return std::nullopt;
  ExitStatus s = read_status_file(st.status_file).value_or(ExitStatus{});
  finish_status(st, s);
  return st.finished;
}

int send_signal(const StepState& st, int sig) {
  if (st.pidfd.valid()) return static_cast<int>(::syscall(SYS_pidfd_send_signal, st.pidfd.get(), sig, nullptr, 0));
  // Unconfined steps lead a process group; confined ones are reached through the init.
  return st.confined ? ::kill(st.pid, sig) : ::kill(-st.pid, sig);
}

std::expected<Step, Error> launch_unconfined(const LaunchRequest& req, std::string warning, Step (*make)(std::unique_ptr<StepState>)) {
  contain::Prepared exec;
  exec.argv = req.argv;
  exec.envp = req.envp;
  contain::finalize_exec(exec);

  StreamSetup streams[3];
  const Stdio* modes[3] = {&req.stdin_stream, &req.stdout_stream, &req.stderr_stream};
  for (int i = 0; i < 3; ++i) {
    auto s = setup_stream(*modes[i], i);
    if (!s) return std::unexpected(s.error());
    streams[i] = std::move(*s);
  }

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attr);
  for (int i = 0; i < 3; ++i) posix_spawn_file_actions_adddup2(&actions, streams[i].child_fd, i);
  const fs::path cwd = !req.cwd.empty() ? req.cwd : (!req.workspace.empty() ? req.workspace : fs::path("/"));
  posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  if (req.detached) {
    flags |= POSIX_SPAWN_SETSID;
  } else {
    flags |= POSIX_SPAWN_SETPGROUP;
    posix_spawnattr_setpgroup(&attr, 0);
  }
  posix_spawnattr_setflags(&attr, flags);

  pid_t pid = -1;
  int rc = ENOENT;
  for (const auto& candidate : exec.exec_candidates) {
    rc = ::posix_spawn(&pid, candidate.c_str(), &actions, &attr, exec.argv_ptrs.data(), exec.envp_ptrs.data());
    if (rc != ENOENT && rc != ENOTDIR) break;
  }
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    auto e = Error{"posix_spawn", fmt::format("'{}' in '{}'", req.argv.front(), cwd.string()), rc};
    spdlog::error("sandbox: step [{}]: {}", req.label, e.message());
    return std::unexpected(e);
  }

  auto st = std::make_unique<StepState>();
  st->pid = pid;
  st->confined = false;
  st->detached = req.detached;
  st->warning = std::move(warning);
  st->label = req.label;
  st->limits = req.policy.limits;
  st->status_file = req.status_file;
  st->stdin_pipe = std::move(streams[0].kite_end);
  st->stdout_pipe = std::move(streams[1].kite_end);
  st->stderr_pipe = std::move(streams[2].kite_end);
  spdlog::info("sandbox: started unconfined step {} [{}] policy '{}': {}", pid, req.label, req.policy.name, req.argv.front());
  return make(std::move(st));
}

// Decides between confining, refusing and the unconfined fallback.
std::expected<std::string, Error> check_kernel(const Policy& policy) {
  const ProbeResult& probe = cached_probe();
  std::string missing;
  if (!probe.can_confine) missing = "the kernel does not allow the sandbox's namespaces (run 'kite check')";
  else if (policy.namespaces.net && !probe.can_isolate_network) missing = "the kernel does not allow a new network namespace (run 'kite check')";
  if (missing.empty()) return std::string();
  if (policy.on_unavailable == Fallback::refuse) {
    return std::unexpected(plain_error("sandbox unavailable", fmt::format("policy '{}' refuses to run steps unconfined: {}", policy.name, missing)));
  }
  return fmt::format("WARNING: this step runs WITHOUT a sandbox: {}; policy '{}' allows the unconfined fallback", missing, policy.name);
}

}  // namespace

std::string ExitStatus::describe() const {
  std::string out;
  if (signal) out = fmt::format("killed by signal {} ({})", signal, ::strsignal(signal));
  else out = fmt::format("exit code {}", code);
  if (reason) out += ": " + reason->message;
  return out;
}

Step::Step(std::unique_ptr<StepState> state) : state_(std::move(state)) {}
Step::Step(Step&&) noexcept = default;
Step& Step::operator=(Step&&) noexcept = default;

Step::~Step() {
  if (!state_ || state_->finished || state_->detached) return;
  // A step nobody waits for must not outlive its handle.
  (void)kill(std::chrono::milliseconds(0));
}

pid_t Step::pid() const { return state_->pid; }
bool Step::confined() const { return state_->confined; }
const std::string& Step::warning() const { return state_->warning; }

std::expected<ExitStatus, Error> Step::wait() {
  auto r = poll_step(*state_, true);
  if (!r) return std::unexpected(r.error());
  return **r;
}

std::expected<std::optional<ExitStatus>, Error> Step::try_wait() { return poll_step(*state_, false); }

std::expected<ExitStatus, Error> Step::kill(std::chrono::milliseconds grace) {
  StepState& st = *state_;
  if (st.finished) return *st.finished;
  auto done = poll_step(st, false);
  if (done && *done) return **done;

  st.killed_by_kite = true;
  st.kill_grace = grace;
  spdlog::info("sandbox: killing step {} [{}]: SIGTERM, SIGKILL after {} ms", st.pid, st.label, grace.count());
  if (grace.count() > 0 && send_signal(st, SIGTERM) == 0) {
    const auto deadline = std::chrono::steady_clock::now() + grace;
    while (std::chrono::steady_clock::now() < deadline) {
      auto r = poll_step(st, false);
      if (r && *r) return **r;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  if (st.cgroup) (void)cgroup2::kill_all(*st.cgroup);
  if (send_signal(st, SIGKILL) != 0 && errno != ESRCH) {
    spdlog::warn("sandbox: kill({}, SIGKILL) failed: {}", st.pid, std::strerror(errno));
  }
  auto r = poll_step(st, true);
  if (!r) return std::unexpected(r.error());
  return **r;
}

std::optional<KillReason> Step::kill_reason() const {
  if (state_->finished) return state_->finished->reason;
  if (state_->cgroup) return cgroup2::kill_reason(*state_->cgroup);
  return std::nullopt;
}

UniqueFd Step::take_stdin() { return std::move(state_->stdin_pipe); }
UniqueFd Step::take_stdout() { return std::move(state_->stdout_pipe); }
UniqueFd Step::take_stderr() { return std::move(state_->stderr_pipe); }

std::expected<Step, Error> launch(const LaunchRequest& req) {
  if (req.argv.empty() || req.argv.front().empty()) return std::unexpected(plain_error("invalid request", "argv is empty"));
  auto make = [](std::unique_ptr<StepState> s) { return Step(std::move(s)); };
  const Policy& policy = req.policy;

  if (!policy.enabled) return launch_unconfined(req, std::string(), make);
  auto kernel = check_kernel(policy);
  if (!kernel) {
    spdlog::error("sandbox: step [{}]: {}", req.label, kernel.error().message());
    return std::unexpected(kernel.error());
  }
  if (!kernel->empty()) {
    spdlog::warn("sandbox: step [{}]: {}", req.label, *kernel);
    return launch_unconfined(req, *kernel, make);
  }

  // Everything the child needs is built here, before the clone.
  contain::Prepared p;
  const NamespacePolicy& ns = policy.namespaces;
  p.clone_flags = user::clone_flag(ns) | mnt::clone_flag(ns) | pid::clone_flag(ns) | ipc::clone_flag(ns) |
                  uts::clone_flag(ns) | net::clone_flag(ns);
  auto mapping = user::plan(policy.user, ns.user);
  if (!mapping) return std::unexpected(mapping.error());
  p.mapping = *mapping;
  auto mounts = mnt::plan(policy, req.workspace, req.writable_paths, req.caches, req.cwd);
  if (!mounts) {
    spdlog::error("sandbox: step [{}]: {}", req.label, mounts.error().message());
    return std::unexpected(mounts.error());
  }
  p.mounts = std::move(*mounts);
  p.set_hostname = ns.uts;
  p.hostname = policy.hostname;
  p.loopback = ns.net;
  if (policy.seccomp.enabled) {
    auto program = seccomp::compile(policy.seccomp);
    if (!program) return std::unexpected(program.error());
    p.seccomp = *program;
  }
  p.detached = req.detached;
  p.argv = req.argv;
  p.envp = req.envp;
  contain::finalize_exec(p);

  const ProbeResult& probe = cached_probe();
  const uint64_t id = next_step_id.fetch_add(1);
  std::optional<cgroup2::StepCgroup> cgroup;
  if (probe.cgroup_delegated) {
    cgroup2::Delegation d{probe.cgroup_dir, true, true, probe.cgroup_cpu};
    if (policy.limits.cpu_percent && !probe.cgroup_cpu) {
      spdlog::warn("sandbox: step [{}]: cpu_percent {} is not enforced: the cpu controller is not delegated to {}", req.label,
                   policy.limits.cpu_percent, probe.cgroup_dir);
    }
    auto cg = cgroup2::create(d, fmt::format("step-{}-{}", ::getpid(), id), policy.limits);
    if (!cg) return std::unexpected(cg.error());
    cgroup = std::move(*cg);
  }
  p.limits = rlimits::plan(policy.limits, cgroup.has_value());

  StreamSetup streams[3];
  const Stdio* modes[3] = {&req.stdin_stream, &req.stdout_stream, &req.stderr_stream};
  for (int i = 0; i < 3; ++i) {
    auto s = setup_stream(*modes[i], i);
    if (!s) return std::unexpected(s.error());
    streams[i] = std::move(*s);
    p.stdio[i] = streams[i].child_fd;
  }
  auto sync = make_pipe("sync");
  if (!sync) return std::unexpected(sync.error());
  auto error = make_pipe("error");
  if (!error) return std::unexpected(error.error());
  auto status = make_pipe("status");
  if (!status) return std::unexpected(status.error());
  std::optional<Pipe> lifeline;
  if (!req.detached) {
    auto l = make_pipe("lifeline");
    if (!l) return std::unexpected(l.error());
    lifeline = std::move(*l);
  }
  UniqueFd status_file;
  if (!req.status_file.empty()) {
    status_file.reset(::open(req.status_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!status_file.valid()) return std::unexpected(sys_error("open", fmt::format("status file '{}'", req.status_file.string())));
  }
  p.sync = sync->read.get();
  p.error = error->write.get();
  p.status = status->write.get();
  p.status_file = status_file.get();
  p.lifeline = lifeline ? lifeline->read.get() : -1;

  const pid_t child = pid::clone_process(p.clone_flags);
  if (child < 0) {
    auto e = sys_error("clone", fmt::format("flags 0x{:x}", p.clone_flags));
    spdlog::error("sandbox: step [{}]: {}", req.label, e.message());
    if (cgroup) (void)cgroup2::remove(*cgroup);
    return std::unexpected(e);
  }
  if (child == 0) contain::run_init(p);

  // Kite's side: drop the child's ends, write the uid maps, join the cgroup, release the child.
  sync->read.reset();
  error->write.reset();
  status->write.reset();
  if (lifeline) lifeline->read.reset();
  for (auto& s : streams) s.child_owned.reset();
  status_file.reset();

  auto abort_child = [&](Error e) -> std::expected<Step, Error> {
    ::kill(child, SIGKILL);
    while (::waitpid(child, nullptr, 0) < 0 && errno == EINTR) {}
    if (cgroup) (void)cgroup2::remove(*cgroup);
    spdlog::error("sandbox: step [{}]: {}", req.label, e.message());
    return std::unexpected(std::move(e));
  };
  if (auto r = user::write_maps(child, p.mapping); !r) return abort_child(r.error());
  if (cgroup) {
    if (auto r = cgroup2::attach(*cgroup, child); !r) return abort_child(r.error());
  }
  const char go = 1;
  if (::write(sync->write.get(), &go, 1) != 1) return abort_child(sys_error("write", "sync pipe"));
  sync->write.reset();

  // EOF on the error pipe: the step's execve succeeded. A record: something failed.
  ChildFailure failure;
  ssize_t n;
  do {
    n = ::read(error->read.get(), &failure, sizeof failure);
  } while (n < 0 && errno == EINTR);
  if (n == sizeof failure) {
    failure.call[sizeof failure.call - 1] = '\0';
    failure.args[sizeof failure.args - 1] = '\0';
    return abort_child(Error{failure.call, failure.args, failure.err});
  }
  if (n != 0) return abort_child(plain_error("launch", "the sandbox init exited before starting the step"));

  auto st = std::make_unique<StepState>();
  st->pid = child;
  st->confined = true;
  st->detached = req.detached;
  st->label = req.label;
  st->limits = policy.limits;
  st->cgroup = std::move(cgroup);
  st->status_pipe = std::move(status->read);
  if (lifeline) st->lifeline = std::move(lifeline->write);
  st->status_file = req.status_file;
  st->stdin_pipe = std::move(streams[0].kite_end);
  st->stdout_pipe = std::move(streams[1].kite_end);
  st->stderr_pipe = std::move(streams[2].kite_end);
  ::fcntl(st->status_pipe.get(), F_SETFL, O_NONBLOCK);
  spdlog::info("sandbox: started step {} [{}] policy '{}': {}", child, req.label, policy.name, req.argv.front());
  return Step(std::move(st));
}

std::expected<Step, Error> attach(pid_t pid, const fs::path& status_file) {
  const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return std::unexpected(sys_error("pidfd_open", std::to_string(pid)));
  auto st = std::make_unique<StepState>();
  st->pid = pid;
  st->child = false;
  st->confined = true;
  st->detached = true;
  st->pidfd.reset(fd);
  st->status_file = status_file;
  st->label = fmt::format("attached pid {}", pid);
  return Step(std::move(st));
}

std::vector<CacheMount> cache_mounts(const Policy& policy, const fs::path& cache_root, const std::string& node,
                                     const fs::path& home) {
  std::vector<CacheMount> out;
  for (const auto& c : policy.caches) {
    std::string target = c.target;
    if (target.starts_with("~")) target = home.string() + target.substr(1);
    out.push_back({cache_root / node / c.name, fs::path(target), c.max_size_mib * 1024 * 1024});
  }
  return out;
}

}  // namespace kite::sandbox
