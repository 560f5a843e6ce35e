#include "sandbox/probe.hpp"

#include <fcntl.h>
#include <linux/filter.h>
#include <linux/mount.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <mutex>
#include <sstream>

#include <spdlog/spdlog.h>

#include "sandbox/cgroup2.hpp"
#include "sandbox/child_failure.hpp"
#include "sandbox/fd.hpp"
#include "sandbox/net.hpp"
#include "sandbox/pid.hpp"
#include "sandbox/user.hpp"

namespace kite::sandbox {

namespace {

using Level = Finding::Level;

std::optional<std::string> read_first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  return line;
}

std::optional<std::string> status_field(const std::string& name) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with(name + ":")) {
      auto value = line.substr(name.size() + 1);
      value.erase(0, value.find_first_not_of(" \t"));
      return value;
    }
  }
  return std::nullopt;
}

// Paths mounted over parts of /proc, as container runtimes do to mask it.
std::vector<std::string> masked_proc_paths() {
  std::vector<std::string> out;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream head(line);
    std::string id, parent, dev, root, mountpoint;
    head >> id >> parent >> dev >> root >> mountpoint;
    if (mountpoint.starts_with("/proc/")) out.push_back(mountpoint);
  }
  return out;
}

// Body of a trial child after the clone. It returns false with `f` set.
using Trial = bool (*)(ChildFailure& f);

bool trial_nothing(ChildFailure&) { return true; }

bool trial_sandbox(ChildFailure& f) {
  if (::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return fail(f, "mount", errno, "'/', MS_REC|MS_PRIVATE");
  const int tree = static_cast<int>(::syscall(SYS_open_tree, AT_FDCWD, "/", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE));
  if (tree < 0) return fail(f, "open_tree", errno, "'/', OPEN_TREE_CLONE|AT_RECURSIVE");
  mount_attr attr{};
  attr.attr_set = MOUNT_ATTR_RDONLY;
  if (::syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) != 0) {
    return fail(f, "mount_setattr", errno, "AT_RECURSIVE, MOUNT_ATTR_RDONLY");
  }
  ::close(tree);
  if (::mount("tmpfs", "/tmp", "tmpfs", 0, "size=64k") != 0) return fail(f, "mount", errno, "'tmpfs', '/tmp', 'tmpfs'");
  if (::mkdir("/tmp/proc", 0755) != 0) return fail(f, "mkdir", errno, "'/tmp/proc'");
  if (::mount("proc", "/tmp/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
    return fail(f, "mount", errno, "'proc', '/tmp/proc', 'proc'");
  }
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return fail(f, "prctl", errno, "PR_SET_NO_NEW_PRIVS");
  sock_filter allow[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
  sock_fprog prog{1, allow};
  if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) != 0) return fail(f, "prctl", errno, "PR_SET_SECCOMP");
  return true;
}

bool trial_network(ChildFailure& f) { return net::bring_up_loopback(f); }

// Clones a child with `flags`, maps Kite's ids when a user namespace is
// made, runs `trial` in it and returns its failure, if any.
std::optional<Error> run_trial(unsigned long flags, Trial trial) {
  int sync[2], err[2];
  if (::pipe2(sync, O_CLOEXEC) != 0) return sys_error("pipe2", "probe");
  if (::pipe2(err, O_CLOEXEC) != 0) {
    ::close(sync[0]);
    ::close(sync[1]);
    return sys_error("pipe2", "probe");
  }
  UniqueFd sync_read(sync[0]), sync_write(sync[1]), err_read(err[0]), err_write(err[1]);
  const pid_t child = pid::clone_process(flags);
  if (child < 0) return sys_error("clone", fmt::format("0x{:x}", flags));
  if (child == 0) {
    ChildFailure f;
    char go;
    if (::read(sync_read.get(), &go, 1) != 1) ::_exit(1);
    if (!trial(f)) (void)!::write(err_write.get(), &f, sizeof f);
    ::_exit(0);
  }
  sync_read.reset();
  err_write.reset();
  std::optional<Error> result;
  if (flags & CLONE_NEWUSER) {
    user::Mapping m;
    m.inside_uid = m.host_uid = ::geteuid();
    m.inside_gid = m.host_gid = ::getegid();
    if (auto r = user::write_maps(child, m); !r) result = r.error();
  }
  if (!result) {
    const char go = 1;
    (void)!::write(sync_write.get(), &go, 1);
  }
  sync_write.reset();
  ChildFailure f;
  if (!result && ::read(err_read.get(), &f, sizeof f) == sizeof f) {
    f.call[sizeof f.call - 1] = '\0';
    f.args[sizeof f.args - 1] = '\0';
    result = Error{f.call, f.args, f.err};
  }
  while (::waitpid(child, nullptr, 0) < 0 && errno == EINTR) {}
  return result;
}

void probe_user_namespaces(ProbeResult& r) {
  const bool root = ::geteuid() == 0;
  const auto clone_sysctl = read_first_line("/proc/sys/kernel/unprivileged_userns_clone");
  const auto max_ns = read_first_line("/proc/sys/user/max_user_namespaces");
  const auto apparmor = read_first_line("/proc/sys/kernel/apparmor_restrict_unprivileged_userns");

  if (clone_sysctl && *clone_sysctl == "0" && !root) {
    r.findings.push_back({Level::error, "kernel.unprivileged_userns_clone",
                          "unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone = 0)",
                          "sysctl -w kernel.unprivileged_userns_clone=1 (persist in /etc/sysctl.d/90-kite.conf)"});
  }
  if (max_ns && *max_ns == "0") {
    r.findings.push_back({Level::error, "user.max_user_namespaces", "user namespaces are disabled (user.max_user_namespaces = 0)",
                          "sysctl -w user.max_user_namespaces=15000 (persist in /etc/sysctl.d/90-kite.conf)"});
  }
  if (apparmor && *apparmor == "1" && !root) {
    r.findings.push_back({Level::warning, "kernel.apparmor_restrict_unprivileged_userns",
                          "AppArmor restricts unprivileged user namespaces (Ubuntu 23.10 and later); Kite needs a profile that allows them",
                          "create /etc/apparmor.d/kite with 'abi <abi/4.0>, include <tunables/global> profile kite /usr/bin/kite flags=(unconfined) { userns, }' "
                          "and run 'apparmor_parser -r /etc/apparmor.d/kite' (or, host-wide, sysctl -w kernel.apparmor_restrict_unprivileged_userns=0)"});
  }
  if (const auto seccomp = status_field("Seccomp"); seccomp && *seccomp != "0") {
    r.findings.push_back({Level::info, "container seccomp profile",
                          fmt::format("Kite itself runs under a seccomp filter (Seccomp: {}), as in a container; its profile may reject unshare, clone with namespace flags and mount", *seccomp),
                          ""});
  }
}

void probe_confinement(ProbeResult& r) {
  const auto base = run_trial(CLONE_NEWUSER, trial_nothing);
  if (base) {
    const bool in_container = status_field("Seccomp").value_or("0") != "0";
    std::string fix = "check the findings above; on Debian/Ubuntu: sysctl -w kernel.unprivileged_userns_clone=1";
    if (in_container) {
      fix = "Kubernetes: securityContext.seccompProfile.type: Unconfined (or a profile that allows clone/unshare with CLONE_NEWUSER) "
            "and, for AppArmor, container.apparmor.security.beta.kubernetes.io/<container>: unconfined; "
            "Docker: --security-opt seccomp=unconfined --security-opt apparmor=unconfined";
    }
    r.findings.push_back({Level::error, "user namespaces", fmt::format("creating a user namespace failed: {}", base->message()), fix});
    return;
  }
  r.findings.push_back({Level::ok, "user namespaces", "a user namespace can be created", ""});

  const auto full = run_trial(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS, trial_sandbox);
  if (!full) {
    r.can_confine = true;
    r.findings.push_back({Level::ok, "mount, pid, ipc, uts namespaces", "a read-only root, a fresh /proc and a seccomp filter work", ""});
  } else if (full->call == "mount" && full->detail.find("proc") != std::string::npos) {
    const auto masked = masked_proc_paths();
    std::string paths;
    for (const auto& m : masked) paths += (paths.empty() ? "" : ", ") + m;
    r.findings.push_back({Level::error, "fresh /proc",
                          fmt::format("mounting a new /proc for the step's PID namespace failed: {}{}", full->message(),
                                      masked.empty() ? std::string() : " (this /proc has masked paths: " + paths + ")"),
                          "Kubernetes: securityContext.procMount: Unmasked (needs hostUsers: false or a privileged pod); "
                          "Docker: --security-opt systempaths=unconfined"});
  } else if (full->call == "prctl" && full->detail.find("SECCOMP") != std::string::npos) {
    r.findings.push_back({Level::error, "seccomp", fmt::format("installing a seccomp filter failed: {}", full->message()),
                          "the kernel needs CONFIG_SECCOMP_FILTER=y; in a container, allow the seccomp() system call in its profile"});
  } else {
    r.findings.push_back({Level::error, "mount namespace",
                          fmt::format("building the step's file system view failed: {}", full->message()),
                          "Linux 5.12 or newer is required (open_tree, mount_setattr); in a container: Docker --security-opt seccomp=unconfined, "
                          "Kubernetes securityContext.seccompProfile.type: Unconfined"});
  }

  const auto net = run_trial(CLONE_NEWUSER | CLONE_NEWNET, trial_network);
  if (!net) {
    r.can_isolate_network = true;
    r.findings.push_back({Level::ok, "network namespace", "a network namespace with loopback up works (policies with \"network\": \"none\")", ""});
  } else {
    r.findings.push_back({Level::error, "network namespace", fmt::format("a new network namespace failed: {}", net->message()),
                          "policies with \"network\": \"none\" cannot run; in a container allow CLONE_NEWNET (seccomp profile)"});
  }
}

void probe_cgroups(ProbeResult& r) {
  auto d = cgroup2::find_delegated();
  if (d) {
    r.cgroup_delegated = d->memory && d->pids;
    r.cgroup_cpu = d->cpu;
    r.cgroup_dir = d->dir;
    r.findings.push_back({r.cgroup_delegated ? Level::ok : Level::warning, "cgroup v2 delegation",
                          fmt::format("step cgroups go in {} (memory: {}, pids: {}, cpu: {})", d->dir, d->memory ? "yes" : "no",
                                      d->pids ? "yes" : "no", d->cpu ? "yes" : "no"),
                          r.cgroup_delegated ? "" : "enable the missing controllers in the parent's cgroup.subtree_control"});
    return;
  }
  r.findings.push_back({Level::warning, "cgroup v2 delegation",
                        fmt::format("limits fall back to rlimits (RLIMIT_AS, RLIMIT_NPROC) and the kill reason of a memory limit is unknown: {}", d.error().message()),
                        "systemd: set Delegate=yes in the [Service] section of kite.service; boot with systemd.unified_cgroup_hierarchy=1 "
                        "if the controllers are bound to cgroup v1; containers: run with a private cgroup namespace that is writable "
                        "(Docker --cgroupns=private with cgroup v2 on the host)"});
  if (::geteuid() == 0) {
    r.findings.push_back({Level::warning, "process limit as root",
                          "Kite runs as root without cgroups: RLIMIT_NPROC is not enforced for the host's root user, so a step mapped to root has no process limit",
                          "set \"user\": {\"host_uid\": 65534, \"host_gid\": 65534} (or a build user) in the policy, or delegate cgroup v2"});
  }
}

void probe_no_new_privs(ProbeResult& r) {
  const auto nnp = status_field("NoNewPrivs");
  if (nnp && *nnp == "1") {
    r.findings.push_back({Level::info, "no_new_privs", "Kite already runs with no_new_privs (set by its service manager or container runtime); steps always get it, so this changes nothing", ""});
  } else {
    r.findings.push_back({Level::ok, "no_new_privs", "steps get no_new_privs: setuid programs (sudo, su) do not gain privileges inside", ""});
  }
}

}  // namespace

ProbeResult probe() {
  ProbeResult r;
  probe_user_namespaces(r);
  probe_confinement(r);
  probe_cgroups(r);
  probe_no_new_privs(r);
  for (const auto& f : r.findings) {
    if (f.level == Level::error || f.level == Level::warning) spdlog::warn("sandbox probe: {}", format_finding(f));
    else spdlog::debug("sandbox probe: {}", format_finding(f));
  }
  return r;
}

const ProbeResult& cached_probe() {
  static std::once_flag once;
  static ProbeResult result;
  std::call_once(once, [] { result = probe(); });
  return result;
}

std::string format_finding(const Finding& f) {
  const char* level = "ok";
  switch (f.level) {
    case Level::ok: level = "ok"; break;
    case Level::info: level = "info"; break;
    case Level::warning: level = "warning"; break;
    case Level::error: level = "error"; break;
  }
  std::string line = fmt::format("{}: {}: {}", level, f.check, f.message);
  if (!f.fix.empty()) line += ". Fix: " + f.fix;
  return line;
}

}  // namespace kite::sandbox
