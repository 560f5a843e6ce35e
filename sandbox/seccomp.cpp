#include "sandbox/seccomp.hpp"

#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <mutex>
#include <tuple>

#include <spdlog/spdlog.h>

#include "sandbox/fd.hpp"

namespace kite::sandbox::seccomp {

namespace {

// Rejected in every confined policy.
constexpr const char* kAlwaysRejected[] = {
    // kernel modules, kexec, reboot, swap, accounting, clock changes
    "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load", "reboot",
    "swapon", "swapoff", "acct", "settimeofday", "clock_settime", "clock_adjtime", "stime",
    // kernel keyrings are not namespaced
    "add_key", "request_key", "keyctl",
    // file handles bypass the mount view (the "shocker" escape)
    "open_by_handle_at",
    // kernel-level attack surface builds do not use
    "bpf", "userfaultfd", "lookup_dcookie", "quotactl", "nfsservctl", "uselib", "syslog",
    "iopl", "ioperm", "vm86", "vm86old", "_sysctl",
};

// Rejected unless allow_namespaces: without capabilities these succeed only
// in a namespace the step itself created.
constexpr const char* kMountCalls[] = {
    "mount", "umount", "umount2", "pivot_root", "move_mount", "open_tree", "fsopen", "fsconfig",
    "fsmount", "fspick", "mount_setattr", "setns",
};

constexpr const char* kPtraceCalls[] = {"ptrace", "process_vm_readv", "process_vm_writev"};
constexpr const char* kPerfCalls[] = {"perf_event_open"};

constexpr uint64_t kNamespaceFlags[] = {CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET,
                                        CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWCGROUP, 0x00000080 /* CLONE_NEWTIME */};

struct ContextDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using Context = std::unique_ptr<void, ContextDeleter>;

std::expected<void, Error> add_rule(scmp_filter_ctx ctx, uint32_t action, const char* name,
                                    std::initializer_list<scmp_arg_cmp> args = {}) {
  const int nr = seccomp_syscall_resolve_name(name);
  if (nr == __NR_SCMP_ERROR) return {};  // not a system call on this architecture
  const int rc = seccomp_rule_add_array(ctx, action, nr, static_cast<unsigned>(args.size()), args.begin());
  if (rc != 0) {
    auto e = Error{"seccomp_rule_add", name, -rc};
    spdlog::error("sandbox: {}", e.message());
    return std::unexpected(e);
  }
  return {};
}

std::expected<std::shared_ptr<const Program>, Error> build(const SeccompPolicy& policy) {
  Context ctx(seccomp_init(SCMP_ACT_ALLOW));
  if (!ctx) return std::unexpected(plain_error("seccomp_init", "libseccomp could not allocate a filter"));
#if defined(__x86_64__)
  // 32-bit and x32 entry points reach the same kernel; filter them too.
  for (uint32_t arch : {SCMP_ARCH_X86, SCMP_ARCH_X32}) {
    const int rc = seccomp_arch_add(ctx.get(), arch);
    if (rc != 0 && rc != -EEXIST) return std::unexpected(Error{"seccomp_arch_add", fmt::format("0x{:x}", arch), -rc});
  }
#endif
  // A binary tree over syscall numbers instead of a linear list: fewer BPF
  // instructions run for each allowed call (libseccomp 2.5+).
  if (const int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2); rc != 0) {
    spdlog::debug("sandbox: seccomp binary tree optimization unavailable: {}", std::strerror(-rc));
  }
  const uint32_t eperm = SCMP_ACT_ERRNO(EPERM);

  for (const char* name : kAlwaysRejected) {
    if (auto r = add_rule(ctx.get(), eperm, name); !r) return std::unexpected(r.error());
  }
  // Terminal input injection and console control reach outside the step's tty.
  for (unsigned long request : {static_cast<unsigned long>(TIOCSTI), static_cast<unsigned long>(TIOCLINUX)}) {
    if (auto r = add_rule(ctx.get(), eperm, "ioctl", {SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, request)}); !r) {
      return std::unexpected(r.error());
    }
  }
  if (!policy.allow_namespaces) {
    for (const char* name : kMountCalls) {
      if (auto r = add_rule(ctx.get(), eperm, name); !r) return std::unexpected(r.error());
    }
    for (uint64_t flag : kNamespaceFlags) {
      if (auto r = add_rule(ctx.get(), eperm, "unshare", {SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag)}); !r) return std::unexpected(r.error());
      if (auto r = add_rule(ctx.get(), eperm, "clone", {SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag)}); !r) return std::unexpected(r.error());
    }
    // clone3 passes its flags in memory a filter cannot read; ENOSYS makes
    // glibc (2.34+) fall back to clone, whose flags are checked above.
    if (auto r = add_rule(ctx.get(), SCMP_ACT_ERRNO(ENOSYS), "clone3"); !r) return std::unexpected(r.error());
  }
  if (!policy.allow_ptrace) {
    for (const char* name : kPtraceCalls) {
      if (auto r = add_rule(ctx.get(), eperm, name); !r) return std::unexpected(r.error());
    }
  }
  if (!policy.allow_perf) {
    for (const char* name : kPerfCalls) {
      if (auto r = add_rule(ctx.get(), eperm, name); !r) return std::unexpected(r.error());
    }
  }

  // libseccomp 2.5 exports only to a descriptor; a memfd keeps it in memory.
  UniqueFd memfd(::memfd_create("kite-seccomp", MFD_CLOEXEC));
  if (!memfd.valid()) return std::unexpected(sys_error("memfd_create", "'kite-seccomp'"));
  if (const int rc = seccomp_export_bpf(ctx.get(), memfd.get()); rc != 0) {
    return std::unexpected(Error{"seccomp_export_bpf", "memfd", -rc});
  }
  const off_t size = ::lseek(memfd.get(), 0, SEEK_END);
  if (size <= 0 || size % sizeof(sock_filter) != 0 || size > 65536 * static_cast<off_t>(sizeof(sock_filter))) {
    return std::unexpected(plain_error("seccomp_export_bpf", fmt::format("unexpected program size {}", size)));
  }
  auto program = std::make_shared<Program>();
  program->instructions.resize(static_cast<size_t>(size) / sizeof(sock_filter));
  if (::pread(memfd.get(), program->instructions.data(), static_cast<size_t>(size), 0) != size) {
    return std::unexpected(sys_error("pread", "seccomp program"));
  }
  return program;
}

}  // namespace

std::expected<std::shared_ptr<const Program>, Error> compile(const SeccompPolicy& policy) {
  static std::mutex mutex;
  static std::map<std::tuple<bool, bool, bool>, std::shared_ptr<const Program>> cache;
  const auto key = std::make_tuple(policy.allow_ptrace, policy.allow_perf, policy.allow_namespaces);
  std::lock_guard lock(mutex);
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  auto program = build(policy);
  if (!program) return program;
  cache[key] = *program;
  return *program;
}

bool install(const Program* program, ChildFailure& f) {
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return fail(f, "prctl", errno, "PR_SET_NO_NEW_PRIVS, 1");
  if (program == nullptr) return true;
  sock_fprog prog{static_cast<unsigned short>(program->instructions.size()),
                  const_cast<sock_filter*>(program->instructions.data())};
  if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) != 0) {
    return fail(f, "prctl", errno, "PR_SET_SECCOMP, SECCOMP_MODE_FILTER, %u instructions", prog.len);
  }
  return true;
}

std::vector<const char*> rejected_calls(const SeccompPolicy& policy) {
  std::vector<const char*> out(std::begin(kAlwaysRejected), std::end(kAlwaysRejected));
  if (!policy.allow_namespaces) {
    out.insert(out.end(), std::begin(kMountCalls), std::end(kMountCalls));
    out.push_back("unshare(CLONE_NEW*)");
    out.push_back("clone(CLONE_NEW*)");
    out.push_back("clone3 (ENOSYS)");
  }
  if (!policy.allow_ptrace) out.insert(out.end(), std::begin(kPtraceCalls), std::end(kPtraceCalls));
  if (!policy.allow_perf) out.insert(out.end(), std::begin(kPerfCalls), std::end(kPerfCalls));
  out.push_back("ioctl(TIOCSTI, TIOCLINUX)");
  return out;
}

}  // namespace kite::sandbox::seccomp
