#include "sandbox/cgroup2.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include <spdlog/spdlog.h>

#include "sandbox/fd.hpp"

namespace kite::sandbox::cgroup2 {

namespace {

constexpr const char* kAgentLeaf = "kite-agent";
constexpr const char* kStepsDir = "kite-steps";
// cpu.max period in microseconds (the kernel's default period).
constexpr uint64_t kCpuPeriodUs = 100000;

std::optional<std::string> read_text(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::expected<void, Error> write_text(const std::string& path, const std::string& value) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) return std::unexpected(sys_error("open", fmt::format("'{}', O_WRONLY", path)));
  if (::write(fd.get(), value.data(), value.size()) != static_cast<ssize_t>(value.size())) {
    return std::unexpected(sys_error("write", fmt::format("'{}', '{}'", path, value)));
  }
  return {};
}

bool has_word(const std::string& text, const std::string& word) {
  std::istringstream in(text);
  std::string w;
  while (in >> w) {
    if (w == word) return true;
  }
  return false;
}

uint64_t event_count(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  std::string k;
  uint64_t v = 0;
  while (in >> k >> v) {
    if (k == key) return v;
  }
  return 0;
}

std::optional<std::string> cgroup2_mount() {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    // Fields: id parent major:minor root mountpoint options ... - fstype source superoptions
    const auto dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream rest(line.substr(dash + 3));
    std::string fstype;
    rest >> fstype;
    if (fstype != "cgroup2") continue;
    std::istringstream head(line.substr(0, dash));
    std::string id, parent, dev, root, mountpoint;
    head >> id >> parent >> dev >> root >> mountpoint;
    return mountpoint;
  }
  return std::nullopt;
}

std::optional<std::string> own_cgroup() {
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("0::")) return line.substr(3);
  }
  return std::nullopt;
}

}  // namespace

std::expected<Delegation, Error> find_delegated() {
  const auto mount = cgroup2_mount();
  if (!mount) return std::unexpected(plain_error("cgroup v2", "no cgroup2 file system is mounted (/proc/self/mountinfo)"));
  const auto own = own_cgroup();
  if (!own) return std::unexpected(plain_error("cgroup v2", "/proc/self/cgroup has no cgroup v2 line (0::/...)"));

  std::string base = *mount + (*own == "/" ? "" : *own);
  // Kite may already have moved itself into its leaf (a second probe).
  if (base.ends_with(std::string("/") + kAgentLeaf)) base.resize(base.size() - std::strlen(kAgentLeaf) - 1);

  const auto controllers = read_text(base + "/cgroup.controllers");
  if (!controllers) return std::unexpected(sys_error("open", "'" + base + "/cgroup.controllers'"));
  Delegation d;
  d.memory = has_word(*controllers, "memory");
  d.pids = has_word(*controllers, "pids");
  d.cpu = has_word(*controllers, "cpu");
  if (!d.memory && !d.pids && !d.cpu) {
    std::string listed = *controllers;
    while (!listed.empty() && listed.back() == '\n') listed.pop_back();
    return std::unexpected(plain_error(
        "cgroup v2", fmt::format("{}/cgroup.controllers lists none of memory, pids, cpu (it lists '{}'); the controllers are bound to cgroup v1 or not delegated",
                                 base, listed)));
  }
  if (::access((base + "/cgroup.subtree_control").c_str(), W_OK) != 0 || ::access(base.c_str(), W_OK) != 0) {
    return std::unexpected(sys_error("access", fmt::format("'{}', W_OK (the cgroup is not delegated to Kite's user)", base)));
  }

  std::string enable;
  if (d.memory) enable += "+memory ";
  if (d.pids) enable += "+pids ";
  if (d.cpu) enable += "+cpu ";
  enable.pop_back();

  const std::string subtree = read_text(base + "/cgroup.subtree_control").value_or("");
  if (!has_word(subtree, "memory") && !has_word(subtree, "pids") && !has_word(subtree, "cpu")) {
    // Move every process of Kite's cgroup into a leaf so the base may enable
    // controllers for its children.
    const std::string leaf = base + "/" + kAgentLeaf;
    if (::mkdir(leaf.c_str(), 0755) != 0 && errno != EEXIST) return std::unexpected(sys_error("mkdir", "'" + leaf + "'"));
    const std::string procs = read_text(base + "/cgroup.procs").value_or("");
    std::istringstream in(procs);
    std::string pid;
    while (in >> pid) {
      if (auto r = write_text(leaf + "/cgroup.procs", pid); !r) {
        spdlog::warn("sandbox: could not move pid {} into {}: {}", pid, leaf, r.error().message());
      }
    }
    if (auto r = write_text(base + "/cgroup.subtree_control", enable); !r) return std::unexpected(r.error());
  }
  d.dir = base + "/" + kStepsDir;
  if (::mkdir(d.dir.c_str(), 0755) != 0 && errno != EEXIST) return std::unexpected(sys_error("mkdir", "'" + d.dir + "'"));
  if (auto r = write_text(d.dir + "/cgroup.subtree_control", enable); !r) return std::unexpected(r.error());
  return d;
}

std::expected<StepCgroup, Error> create(const Delegation& d, const std::string& name, const LimitPolicy& limits) {
  StepCgroup cg{d.dir + "/" + name, limits};
  if (::mkdir(cg.dir.c_str(), 0755) != 0) {
    auto e = sys_error("mkdir", "'" + cg.dir + "'");
    spdlog::error("sandbox: {}", e.message());
    return std::unexpected(e);
  }
  auto set = [&](const char* file, const std::string& value) -> std::expected<void, Error> {
    auto r = write_text(cg.dir + "/" + file, value);
    if (!r) spdlog::error("sandbox: {}", r.error().message());
    return r;
  };
  if (limits.memory_mib && d.memory) {
    if (auto r = set("memory.max", std::to_string(limits.memory_mib * 1024 * 1024)); !r) return std::unexpected(r.error());
    // Without swap the limit is the limit; a step that swaps is slower, not safer.
    (void)write_text(cg.dir + "/memory.swap.max", "0");
    // Kill the whole step on OOM instead of one process of it.
    (void)write_text(cg.dir + "/memory.oom.group", "1");
  }
  if (limits.max_processes && d.pids) {
    if (auto r = set("pids.max", std::to_string(limits.max_processes)); !r) return std::unexpected(r.error());
  }
  if (limits.cpu_percent && d.cpu) {
    const uint64_t quota = kCpuPeriodUs * limits.cpu_percent / 100;
    if (auto r = set("cpu.max", fmt::format("{} {}", quota, kCpuPeriodUs)); !r) return std::unexpected(r.error());
  }
  return cg;
}

std::expected<void, Error> attach(const StepCgroup& cg, pid_t pid) {
  auto r = write_text(cg.dir + "/cgroup.procs", std::to_string(pid));
  if (!r) spdlog::error("sandbox: {}", r.error().message());
  return r;
}

std::optional<KillReason> kill_reason(const StepCgroup& cg) {
  if (const auto events = read_text(cg.dir + "/memory.events")) {
    if (event_count(*events, "oom_kill") > 0 || event_count(*events, "oom_group_kill") > 0) {
      return KillReason{"memory", fmt::format("killed: memory limit {} MiB reached (memory.events oom_kill)", cg.limits.memory_mib)};
    }
  }
  if (const auto events = read_text(cg.dir + "/pids.events")) {
    if (event_count(*events, "max") > 0) {
      return KillReason{"processes", fmt::format("process limit {} reached: fork() failed with EAGAIN (pids.events max)", cg.limits.max_processes)};
    }
  }
  return std::nullopt;
}

std::expected<void, Error> kill_all(const StepCgroup& cg) {
  auto r = write_text(cg.dir + "/cgroup.kill", "1");
  if (!r) spdlog::error("sandbox: {}", r.error().message());
  return r;
}

std::expected<void, Error> remove(const StepCgroup& cg) {
  // The last processes' exit can trail the init's by a moment (EBUSY).
  constexpr int kAttempts = 20;
  int rc = ::rmdir(cg.dir.c_str());
  for (int i = 1; i < kAttempts && rc != 0 && errno == EBUSY; ++i) {
    ::usleep(5000);
    rc = ::rmdir(cg.dir.c_str());
  }
  if (rc != 0) {
    auto e = sys_error("rmdir", "'" + cg.dir + "'");
    spdlog::warn("sandbox: {}", e.message());
    return std::unexpected(e);
  }
  return {};
}

}  // namespace kite::sandbox::cgroup2
