#include "sandbox/contain.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "sandbox/init.hpp"
#include "sandbox/net.hpp"
#include "sandbox/pid.hpp"
#include "sandbox/uts.hpp"

namespace kite::sandbox::contain {

namespace {

[[noreturn]] void report_and_exit(const ChildFailure& failure, int code) {
  (void)!::write(kError, &failure, sizeof failure);
  ::_exit(code);
}

// Moves the descriptors the child keeps to fixed numbers and closes every
// other one Kite had open (a raw clone shares nothing, but copies them all).
bool shuffle_fds(const Prepared& p, ChildFailure& f) {
  const int sources[8] = {p.stdio[0], p.stdio[1], p.stdio[2], p.sync, p.error, p.status, p.status_file, p.lifeline};
  int copies[8];
  for (int i = 0; i < 8; ++i) {
    copies[i] = -1;
    if (sources[i] < 0) continue;
    // Above every target number, so no dup2 below overwrites a source.
    copies[i] = ::fcntl(sources[i], F_DUPFD_CLOEXEC, 16);
    if (copies[i] < 0) return fail(f, "fcntl", errno, "%d, F_DUPFD_CLOEXEC, 16", sources[i]);
  }
  for (int i = 0; i < 8; ++i) {
    if (copies[i] < 0) continue;
    if (::dup2(copies[i], i) < 0) return fail(f, "dup2", errno, "%d, %d", copies[i], i);
    if (i >= kSync && ::fcntl(i, F_SETFD, FD_CLOEXEC) != 0) return fail(f, "fcntl", errno, "%d, F_SETFD, FD_CLOEXEC", i);
  }
  if (::syscall(SYS_close_range, kFirstFree, ~0U, 0) != 0) return fail(f, "close_range", errno, "%d, ~0U, 0", kFirstFree);
  return true;
}

}  // namespace

void finalize_exec(Prepared& p) {
  p.argv_ptrs.clear();
  for (auto& a : p.argv) p.argv_ptrs.push_back(a.data());
  p.argv_ptrs.push_back(nullptr);
  p.envp_ptrs.clear();
  for (auto& e : p.envp) p.envp_ptrs.push_back(e.data());
  p.envp_ptrs.push_back(nullptr);

  p.exec_candidates.clear();
  const std::string& file = p.argv.front();
  if (file.find('/') != std::string::npos) {
    p.exec_candidates.push_back(file);
    return;
  }
  std::string path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (const auto& e : p.envp) {
    if (e.starts_with("PATH=")) path = e.substr(5);
  }
  size_t start = 0;
  while (start <= path.size()) {
    const size_t end = std::min(path.find(':', start), path.size());
    const std::string dir = path.substr(start, end - start);
    p.exec_candidates.push_back((dir.empty() ? std::string(".") : dir) + "/" + file);
    start = end + 1;
  }
}

void run_step(const Prepared& p) {
  ChildFailure f;
  // Dispositions Kite set (SIGPIPE ignored, handlers) must not reach the build.
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    struct sigaction action {};
    action.sa_handler = SIG_DFL;
    ::sigaction(sig, &action, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  // The step leads its own session and process group, as a job would.
  if (::setsid() < 0) fail(f, "setsid", errno, "step");

  if (!rlimits::apply(p.limits, f)) report_and_exit(f, 127);
  if (!user::drop_privileges(p.mapping, f)) report_and_exit(f, 127);
  if (!seccomp::install(p.seccomp.get(), f)) report_and_exit(f, 127);

  int first_error = ENOENT;
  for (const auto& candidate : p.exec_candidates) {
    ::execve(candidate.c_str(), p.argv_ptrs.data(), p.envp_ptrs.data());
    // Like execvp: keep looking after ENOENT/ENOTDIR, remember EACCES.
    if (errno == EACCES) first_error = EACCES;
    else if (errno != ENOENT && errno != ENOTDIR) {
      first_error = errno;
      break;
    }
  }
  fail(f, "execve", first_error, "'%s'", p.argv.front().c_str());
  report_and_exit(f, 127);
}

void run_init(const Prepared& p) {
  ChildFailure f;
  sigset_t all;
  sigfillset(&all);
  ::sigprocmask(SIG_SETMASK, &all, nullptr);

  if (!shuffle_fds(p, f)) {
    // kError may not be in place yet; the original error descriptor is.
    (void)!::write(p.error, &f, sizeof f);
    ::_exit(1);
  }
  // Detached steps must survive Kite's session and terminal going away.
  if (p.detached && ::setsid() < 0) {
    fail(f, "setsid", errno, "init");
    report_and_exit(f, 1);
  }

  char go = 0;
  if (::read(kSync, &go, 1) != 1) ::_exit(1);  // Kite gave up before the uid maps were written
  ::close(kSync);

  if (!user::become_mapped_ids(p.mapping, f)) report_and_exit(f, 1);
  if (!mnt::setup(p.mounts, f)) report_and_exit(f, 1);
  if (p.set_hostname && !uts::set_hostname(p.hostname, f)) report_and_exit(f, 1);
  if (p.loopback && !net::bring_up_loopback(f)) report_and_exit(f, 1);

  const pid_t step = pid::clone_process(0);
  if (step < 0) {
    fail(f, "clone", errno, "SIGCHLD (step process)");
    report_and_exit(f, 1);
  }
  if (step == 0) run_step(p);

  // Only the step has the error pipe open now, and execve closes it on success.
  ::close(kError);
  // Holding the step's stdio would keep Kite's pipe readers from seeing EOF.
  ::close(0);
  ::close(1);
  ::close(2);
  init::run(step, init::Fds{kStatus, p.status_file >= 0 ? kStatusFile : -1, p.lifeline >= 0 ? kLifeline : -1});
}

}  // namespace kite::sandbox::contain
