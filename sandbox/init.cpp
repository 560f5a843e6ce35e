#include "sandbox/init.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace kite::sandbox::init {

namespace {

constexpr int kForwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

bool is_forwarded(int sig) {
  for (int s : kForwarded) {
    if (s == sig) return true;
  }
  return false;
}

[[noreturn]] void finish(const StatusRecord& record, const Fds& fds) {
  if (fds.status >= 0) (void)!::write(fds.status, &record, sizeof record);
  if (fds.status_file >= 0) {
    char line[32];
    const int n = record.signal ? std::snprintf(line, sizeof line, "signal %d\n", record.signal)
                                : std::snprintf(line, sizeof line, "exit %d\n", record.code);
    (void)!::write(fds.status_file, line, static_cast<size_t>(n));
    ::fsync(fds.status_file);
  }
  // Whatever the step left behind dies with the init (pid_namespaces(7));
  // killing it first keeps its output from racing the status record.
  ::kill(-1, SIGKILL);
  ::_exit(record.signal ? 128 + record.signal : record.code);
}

}  // namespace

void run(pid_t step, const Fds& fds) {
  sigset_t all;
  sigfillset(&all);
  const int sfd = ::signalfd(-1, &all, SFD_CLOEXEC);
  if (sfd < 0) {
    // Without signalfd the init cannot wait for both signals and the lifeline; stop the step.
    ::kill(-1, SIGKILL);
    ::_exit(125);
  }

  pollfd pfds[2] = {{sfd, POLLIN, 0}, {fds.lifeline, POLLIN, 0}};
  const nfds_t count = fds.lifeline >= 0 ? 2 : 1;
  for (;;) {
    if (::poll(pfds, count, -1) < 0) {
      if (errno == EINTR) continue;
      ::kill(-1, SIGKILL);
      ::_exit(125);
    }
    if (count == 2 && (pfds[1].revents & (POLLHUP | POLLIN | POLLERR))) {
      // Kite exited without detaching this step: take the tree down.
      finish(StatusRecord{-1, SIGKILL}, Fds{-1, fds.status_file, -1});
    }
    if (!(pfds[0].revents & POLLIN)) continue;

    signalfd_siginfo info{};
    if (::read(sfd, &info, sizeof info) != sizeof info) continue;
    const int sig = static_cast<int>(info.ssi_signo);
    if (is_forwarded(sig)) {
      ::kill(-1, sig);
      continue;
    }
    if (sig != SIGCHLD) continue;

    for (;;) {
      int status = 0;
      const pid_t pid = ::waitpid(-1, &status, WNOHANG);
      if (pid <= 0) break;
      if (pid != step) continue;  // a reparented orphan: reaped, nothing else to do
      if (WIFEXITED(status)) finish(StatusRecord{WEXITSTATUS(status), 0}, fds);
      if (WIFSIGNALED(status)) finish(StatusRecord{-1, WTERMSIG(status)}, fds);
    }
  }
}

}  // namespace kite::sandbox::init
