#include "sandbox/rlimits.hpp"

#include <signal.h>

#include <fmt/format.h>

namespace kite::sandbox::rlimits {

namespace {
constexpr rlim_t kMiB = 1024 * 1024;
}

Plan plan(const LimitPolicy& l, bool cgroup_limits) {
  Plan p;
  if (!cgroup_limits && l.memory_mib) p.entries.push_back({RLIMIT_AS, l.memory_mib * kMiB, "RLIMIT_AS"});
  // RLIMIT_NPROC counts per user and user namespace (since Linux 5.14) and is
  // not enforced for the host's root user; the probe reports that case.
  if (!cgroup_limits && l.max_processes) p.entries.push_back({RLIMIT_NPROC, l.max_processes, "RLIMIT_NPROC"});
  if (l.cpu_seconds) p.entries.push_back({RLIMIT_CPU, l.cpu_seconds, "RLIMIT_CPU"});
  if (l.file_size_mib) p.entries.push_back({RLIMIT_FSIZE, l.file_size_mib * kMiB, "RLIMIT_FSIZE"});
  if (l.open_files) p.entries.push_back({RLIMIT_NOFILE, l.open_files, "RLIMIT_NOFILE"});
  p.entries.push_back({RLIMIT_CORE, l.core_size_mib * kMiB, "RLIMIT_CORE"});
  return p;
}

bool apply(const Plan& p, ChildFailure& f) {
  for (const auto& e : p.entries) {
    rlimit current{};
    if (::getrlimit(e.resource, &current) != 0) return fail(f, "getrlimit", errno, "%s", e.name);
    // Never raise a limit Kite itself runs under; lowering needs no privilege.
    const rlim_t value = (current.rlim_max != RLIM_INFINITY && e.value > current.rlim_max) ? current.rlim_max : e.value;
    rlimit next{value, value};
    if (::setrlimit(e.resource, &next) != 0) {
      return fail(f, "setrlimit", errno, "%s, %llu", e.name, static_cast<unsigned long long>(value));
    }
  }
  return true;
}

std::optional<KillReason> reason_for_signal(int signal, const LimitPolicy& l) {
  if (signal == SIGXCPU && l.cpu_seconds) {
    return KillReason{"cpu time", fmt::format("killed: CPU time limit {} s reached (RLIMIT_CPU, SIGXCPU)", l.cpu_seconds)};
  }
  if (signal == SIGXFSZ && l.file_size_mib) {
    return KillReason{"file size", fmt::format("killed: file size limit {} MiB reached (RLIMIT_FSIZE, SIGXFSZ)", l.file_size_mib)};
  }
  return std::nullopt;
}

}  // namespace kite::sandbox::rlimits
