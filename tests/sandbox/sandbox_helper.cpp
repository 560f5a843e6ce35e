// Helper run inside the sandbox by the tests: each subcommand attempts one
// operation and prints "<operation>: ok" or "<operation>: <strerror>", so the
// tests check the exact message a build engineer would see.
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

int report(const char* operation, long rc) {
  if (rc < 0) {
    std::printf("%s: %s\n", operation, std::strerror(errno));
    return 1;
  }
  std::printf("%s: ok\n", operation);
  return 0;
}

int try_ptrace() {
  const pid_t child = ::fork();
  if (child == 0) {
    ::pause();
    ::_exit(0);
  }
  const long rc = ::ptrace(PTRACE_ATTACH, child, nullptr, nullptr);
  const int err = errno;
  if (rc == 0) ::waitpid(child, nullptr, 0);
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  errno = err;
  return report("ptrace", rc);
}

int try_connect(const char* port) {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::atoi(port)));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return report("connect", ::connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr));
}

// Allocates and touches `mib` MiB one MiB at a time.
int try_allocate(const char* mib) {
  const long count = std::atol(mib);
  std::vector<char*> blocks;
  for (long i = 0; i < count; ++i) {
    char* block = static_cast<char*>(std::malloc(1 << 20));
    if (block == nullptr) {
      std::printf("malloc: %s after %ld MiB\n", std::strerror(ENOMEM), i);
      return 1;
    }
    std::memset(block, 1, 1 << 20);
    blocks.push_back(block);
  }
  std::printf("malloc: ok\n");
  return 0;
}

// Forks at most `max` children that sleep, stopping at the first failure.
int try_fork_bomb(const char* max) {
  const long limit = std::atol(max);
  long started = 0;
  for (; started < limit; ++started) {
    const pid_t pid = ::fork();
    if (pid < 0) {
      std::printf("fork: %s after %ld processes\n", std::strerror(errno), started);
      std::fflush(stdout);
      return 1;
    }
    if (pid == 0) {
      ::sleep(30);
      ::_exit(0);
    }
  }
  std::printf("fork: ok, %ld processes\n", started);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: sandbox_helper OPERATION [ARG]\n");
    return 2;
  }
  const std::string op = argv[1];
  const char* arg = argc > 2 ? argv[2] : "";
  if (op == "mount") return report("mount", ::mount("none", "/mnt", "tmpfs", 0, nullptr));
  if (op == "init_module") return report("init_module", ::syscall(SYS_init_module, nullptr, 0, ""));
  if (op == "finit_module") return report("finit_module", ::syscall(SYS_finit_module, 0, "", 0));
  if (op == "unshare") return report("unshare", ::unshare(CLONE_NEWUSER));
  if (op == "clone3") return report("clone3", ::syscall(SYS_clone3, nullptr, 0));
  if (op == "keyctl") return report("keyctl", ::syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0));
  if (op == "bpf") return report("bpf", ::syscall(SYS_bpf, 0, nullptr, 0));
  if (op == "reboot") return report("reboot", ::syscall(SYS_reboot, 0, 0, 0, nullptr));
  if (op == "ptrace") return try_ptrace();
  if (op == "perf") {
    perf_event_attr attr{};
    attr.size = sizeof attr;
    attr.type = PERF_TYPE_SOFTWARE;
    attr.config = PERF_COUNT_SW_TASK_CLOCK;
    attr.exclude_kernel = 1;
    return report("perf_event_open", ::syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0));
  }
  if (op == "kill") return report("kill", ::kill(std::atoi(arg), 0));
  if (op == "connect") return try_connect(arg);
  if (op == "allocate") return try_allocate(arg);
  if (op == "fork-bomb") return try_fork_bomb(arg);
  if (op == "write") {
    const int fd = ::open(arg, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    return report("write", fd);
  }
  std::fprintf(stderr, "sandbox_helper: unknown operation '%s'\n", op.c_str());
  return 2;
}
