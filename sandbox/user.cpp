#include "sandbox/user.hpp"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>

#include <spdlog/spdlog.h>

#include "sandbox/fd.hpp"

namespace kite::sandbox::user {

namespace {

std::expected<void, Error> write_proc_file(pid_t pid, const char* name, const std::string& content) {
  const std::string path = fmt::format("/proc/{}/{}", pid, name);
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) {
    auto e = sys_error("open", fmt::format("'{}', O_WRONLY", path));
    spdlog::error("sandbox: {}", e.message());
    return std::unexpected(e);
  }
  if (::write(fd.get(), content.data(), content.size()) != static_cast<ssize_t>(content.size())) {
    auto e = sys_error("write", fmt::format("'{}', '{}'", path, content.substr(0, content.size() - 1)));
    spdlog::error("sandbox: {}", e.message());
    return std::unexpected(e);
  }
  return {};
}

int capset_raw(uint32_t effective, uint32_t permitted, uint32_t inheritable, bool all) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  for (auto& d : data) {
    d.effective = all ? effective : 0;
    d.permitted = all ? permitted : 0;
    d.inheritable = all ? inheritable : 0;
  }
  return static_cast<int>(::syscall(SYS_capset, &header, data));
}

}  // namespace

unsigned long clone_flag(const NamespacePolicy& ns) { return ns.user ? CLONE_NEWUSER : 0; }

std::expected<Mapping, Error> plan(const UserPolicy& policy, bool new_namespace) {
  Mapping m;
  m.new_namespace = new_namespace;
  const uint32_t euid = ::geteuid();
  const uint32_t egid = ::getegid();
  m.host_uid = policy.host_uid.value_or(euid);
  m.host_gid = policy.host_gid.value_or(egid);
  if (euid != 0 && (m.host_uid != euid || m.host_gid != egid)) {
    return std::unexpected(plain_error(
        "invalid policy",
        fmt::format("user.host_uid/host_gid {}:{} differ from Kite's own {}:{}; only root may run steps as another host user",
                    m.host_uid, m.host_gid, euid, egid)));
  }
  m.inside_uid = policy.uid.value_or(m.host_uid);
  m.inside_gid = policy.gid.value_or(m.host_gid);
  if (!new_namespace) {
    // Without a user namespace the ids seen inside are the host's.
    m.inside_uid = m.host_uid;
    m.inside_gid = m.host_gid;
  }
  return m;
}

std::expected<void, Error> write_maps(pid_t pid, const Mapping& m) {
  if (!m.new_namespace) return {};
  // Writing gid_map without CAP_SETGID in the parent namespace requires
  // setgroups to be denied first (user_namespaces(7)). Root denies it too, so
  // the step cannot drop a supplementary group that a deny ACL matches.
  if (auto r = write_proc_file(pid, "setgroups", "deny\n"); !r) return r;
  if (auto r = write_proc_file(pid, "uid_map", fmt::format("{} {} 1\n", m.inside_uid, m.host_uid)); !r) return r;
  if (auto r = write_proc_file(pid, "gid_map", fmt::format("{} {} 1\n", m.inside_gid, m.host_gid)); !r) return r;
  return {};
}

bool become_mapped_ids(const Mapping& m, ChildFailure& f) {
  if (!m.new_namespace) return true;  // the init stays root; drop_privileges() switches the step
  // setresuid() to a non-zero uid clears the capabilities unless keep-caps
  // is set, and the init still has mounts to do.
  if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return fail(f, "prctl", errno, "PR_SET_KEEPCAPS, 1");
  if (::setresgid(m.inside_gid, m.inside_gid, m.inside_gid) != 0) {
    return fail(f, "setresgid", errno, "%u, %u, %u", m.inside_gid, m.inside_gid, m.inside_gid);
  }
  if (::setresuid(m.inside_uid, m.inside_uid, m.inside_uid) != 0) {
    return fail(f, "setresuid", errno, "%u, %u, %u", m.inside_uid, m.inside_uid, m.inside_uid);
  }
  if (capset_raw(0xffffffffu, 0xffffffffu, 0, true) != 0) {
    // The permitted set survived thanks to keep-caps; raise the effective set from it.
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2] = {};
    if (::syscall(SYS_capget, &header, data) != 0) return fail(f, "capget", errno, "version 3");
    for (auto& d : data) d.effective = d.permitted;
    if (::syscall(SYS_capset, &header, data) != 0) return fail(f, "capset", errno, "effective = permitted");
  }
  return true;
}

bool drop_privileges(const Mapping& m, ChildFailure& f) {
  // NOROOT keeps execve from granting capabilities to uid 0; locking the bits
  // keeps the step from undoing it. Needs CAP_SETPCAP, which is still held.
  const unsigned long bits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
                             SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED;
  if (::prctl(PR_SET_SECUREBITS, bits, 0, 0, 0) != 0) {
    return fail(f, "prctl", errno, "PR_SET_SECUREBITS, 0x%lx", bits);
  }
  for (int cap = 0; cap <= CAP_LAST_CAP + 8; ++cap) {
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) {
      return fail(f, "prctl", errno, "PR_CAPBSET_DROP, %d", cap);
    }
  }
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
    return fail(f, "prctl", errno, "PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL");
  }
  // The id switch comes after the bounding set drop, which needs CAP_SETPCAP,
  // and before the capset, because CAP_SETUID and CAP_SETGID are still needed.
  if (!m.new_namespace && (m.host_uid != ::getuid() || m.host_gid != ::getgid())) {
    if (::setgroups(0, nullptr) != 0) return fail(f, "setgroups", errno, "0, NULL");
    if (::setresgid(m.host_gid, m.host_gid, m.host_gid) != 0) return fail(f, "setresgid", errno, "%u", m.host_gid);
    if (::setresuid(m.host_uid, m.host_uid, m.host_uid) != 0) return fail(f, "setresuid", errno, "%u", m.host_uid);
  }
  if (capset_raw(0, 0, 0, false) != 0) return fail(f, "capset", errno, "all sets empty");
  return true;
}

}  // namespace kite::sandbox::user
