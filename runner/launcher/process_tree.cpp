#include "runner/launcher/process_tree.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <set>
#include <thread>

#include <spdlog/spdlog.h>

namespace kite::launcher::process_tree {
namespace {

// Reads a /proc file, at most kMaxProcFileBytes; nullopt when it cannot be opened.
std::optional<std::string> read_proc_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string content;
  char buffer[8192];
  while (content.size() < kMaxProcFileBytes) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    content.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  if (content.size() > kMaxProcFileBytes) content.resize(kMaxProcFileBytes);
  return content;
}

std::optional<std::string_view> status_field(std::string_view status_text, std::string_view name) {
  std::size_t start = 0;
  while (start < status_text.size()) {
    std::size_t end = status_text.find('\n', start);
    if (end == std::string_view::npos) end = status_text.size();
    std::string_view line = status_text.substr(start, end - start);
    if (line.size() > name.size() && equals_ignore_case(line.substr(0, name.size()), name) && line[name.size()] == ':') {
      std::string_view value = line.substr(name.size() + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
      while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
      return value;
    }
    start = end + 1;
  }
  return std::nullopt;
}

std::optional<pid_t> parse_pid(std::string_view text) {
  pid_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

void send_signal(pid_t pid, int signal) {
  if (::kill(pid, signal) != 0 && errno != ESRCH) {
    spdlog::warn("process tree: kill(pid={}, signal={}) failed: {}", pid, signal, std::strerror(errno));
  }
}

}  // namespace

std::optional<pid_t> parse_ppid(std::string_view status_text) {
  auto value = status_field(status_text, "PPid");
  if (!value) return std::nullopt;
  return parse_pid(*value);
}

std::optional<char> parse_state(std::string_view status_text) {
  auto value = status_field(status_text, "State");
  if (!value || value->empty()) return std::nullopt;
  return value->front();
}

EnvVars parse_environ(std::string_view environ_bytes) {
  EnvVars env;
  std::size_t start = 0;
  while (true) {
    std::size_t end = environ_bytes.find('\0', start);
    if (end == std::string_view::npos) break;
    std::string_view line = environ_bytes.substr(start, end - start);
    std::size_t equals = line.find('=');
    if (equals != std::string_view::npos && equals > 0) {
      env.put(std::string(line.substr(0, equals)), std::string(line.substr(equals + 1)));
    }
    start = end + 1;
  }
  return env;
}

bool matches(const EnvVars& env, const std::map<std::string, std::string>& model) {
  if (model.empty()) return false;  // an empty model would match every process
  for (const auto& [key, value] : model) {
    auto actual = env.get(key);
    if (!actual || *actual != value) return false;
  }
  return true;
}

std::vector<ProcessEntry> snapshot() {
  std::vector<ProcessEntry> table;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) {
    spdlog::warn("process tree: opendir(/proc) failed: {}", std::strerror(errno));
    return table;
  }
  while (dirent* entry = ::readdir(proc)) {
    auto pid = parse_pid(entry->d_name);
    if (!pid) continue;
    auto status = read_proc_file("/proc/" + std::to_string(*pid) + "/status");
    if (!status) continue;  // ended since the listing
    auto ppid = parse_ppid(*status);
    if (!ppid) continue;
    table.push_back(ProcessEntry{*pid, *ppid});
  }
  ::closedir(proc);
  return table;
}

std::optional<EnvVars> read_environment(pid_t pid) {
  auto bytes = read_proc_file("/proc/" + std::to_string(pid) + "/environ");
  if (!bytes) return std::nullopt;
  return parse_environ(*bytes);
}

bool is_running(pid_t pid) {
  auto status = read_proc_file("/proc/" + std::to_string(pid) + "/status");
  if (!status) return false;
  auto state = parse_state(*status);
  return !state || (*state != 'Z' && *state != 'X');
}

std::vector<pid_t> find_matching(const std::map<std::string, std::string>& model) {
  std::vector<pid_t> result;
  if (model.empty()) return result;
  const pid_t self = ::getpid();
  for (const auto& entry : snapshot()) {
    if (entry.pid == self) continue;
    auto env = read_environment(entry.pid);
    if (env && matches(*env, model)) result.push_back(entry.pid);
  }
  return result;
}

std::vector<pid_t> with_descendants(const std::vector<pid_t>& roots, const std::vector<ProcessEntry>& table) {
  std::multimap<pid_t, pid_t> children;
  for (const auto& entry : table) children.emplace(entry.ppid, entry.pid);

  std::vector<pid_t> ordered;
  std::set<pid_t> seen;
  // Iterative post-order walk, so descendants come before their ancestors and
  // a deep tree cannot overflow the stack.
  for (pid_t root : roots) {
    std::vector<std::pair<pid_t, bool>> stack{{root, false}};
    while (!stack.empty()) {
      auto [pid, expanded] = stack.back();
      stack.pop_back();
      if (expanded) {
        ordered.push_back(pid);
        continue;
      }
      if (!seen.insert(pid).second) continue;
      stack.emplace_back(pid, true);
      auto range = children.equal_range(pid);
      for (auto it = range.first; it != range.second; ++it) {
        if (!seen.contains(it->second)) stack.emplace_back(it->second, false);
      }
    }
  }
  return ordered;
}

namespace {
// How long terminate() waits for processes to exit after SIGKILL; one in
// uninterruptible sleep may take longer, and is then simply not waited for.
constexpr std::chrono::milliseconds kSigkillExitWait{1000};
}  // namespace

std::size_t terminate(const std::vector<pid_t>& pids, const KillOptions& options) {
  const pid_t self = ::getpid();
  std::vector<pid_t> targets;
  for (pid_t pid : pids) {
    if (pid > 0 && pid != self) targets.push_back(pid);
  }
  if (targets.empty()) return 0;
  const std::size_t signalled = targets.size();

  // NOTE: signals go to pids, not pidfds, so a pid reused between the scan and
  // the signal (within milliseconds) could be hit; Jenkins has the same window.
  for (pid_t pid : targets) {
    spdlog::debug("process tree: SIGTERM pid={}", pid);
    send_signal(pid, SIGTERM);
  }

  const auto deadline = std::chrono::steady_clock::now() + options.soft_kill_wait;
  auto sleep = std::chrono::milliseconds(10);
  while (true) {
    std::erase_if(targets, [](pid_t pid) { return !is_running(pid); });
    if (targets.empty() || std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(sleep);
    sleep = std::min(sleep * 2, std::chrono::milliseconds(1000));
  }

  for (pid_t pid : targets) {
    spdlog::info("process tree: pid={} survived SIGTERM, sending SIGKILL", pid);
    send_signal(pid, SIGKILL);
  }

  // Give the killed processes a moment to exit, so that kill_all's rescan
  // does not find a dying process again and count it twice.
  const auto kill_deadline = std::chrono::steady_clock::now() + kSigkillExitWait;
  while (!targets.empty() && std::chrono::steady_clock::now() < kill_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::erase_if(targets, [](pid_t pid) { return !is_running(pid); });
  }
  return signalled;
}

std::size_t kill_recursively(pid_t root, const KillOptions& options) {
  return terminate(with_descendants({root}, snapshot()), options);
}

std::size_t kill_all(const std::map<std::string, std::string>& model, const KillOptions& options) {
  // Processes may fork while they are being killed; a few rescans catch those.
  constexpr int kMaxRounds = 3;
  std::size_t total = 0;
  for (int round = 0; round < kMaxRounds; ++round) {
    auto matching = find_matching(model);
    if (matching.empty()) break;
    auto targets = with_descendants(matching, snapshot());
    spdlog::info("process tree: killing {} processes matching {} environment variables (round {})", targets.size(),
                 model.size(), round + 1);
    total += terminate(targets, options);
  }
  return total;
}

}  // namespace kite::launcher::process_tree
