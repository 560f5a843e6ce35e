#include "runner/callables/system_info.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <langinfo.h>
#include <locale.h>
#include <net/if.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

extern char** environ;

namespace kite::callables::sysinfo {

std::string java_os_arch() {
  utsname u{};
  if (uname(&u) != 0) return "unknown";
  const std::string machine = u.machine;
  if (machine == "x86_64") return "amd64";
  if (machine == "i386" || machine == "i486" || machine == "i586" || machine == "i686") return "x86";
  if (machine == "aarch64" || machine == "arm64") return "aarch64";
  if (machine.starts_with("armv") || machine == "arm") return "arm";
  if (machine == "ppc64le") return "ppc64le";
  return machine;
}

std::string java_default_charset() {
  locale_t loc = newlocale(LC_CTYPE_MASK, "", static_cast<locale_t>(0));
  if (loc == static_cast<locale_t>(0)) return "US-ASCII";  // invalid locale settings: the C locale
  std::string codeset = nl_langinfo_l(CODESET, loc);
  freelocale(loc);
  if (codeset == "UTF-8") return "UTF-8";
  if (codeset == "ANSI_X3.4-1968" || codeset.empty()) return "US-ASCII";
  return codeset;  // glibc's names (ISO-8859-1, EUC-JP, ...) are also Java charset names
}

std::expected<DiskUsage, std::string> disk_usage(const std::filesystem::path& path) {
  struct statvfs s {};
  if (statvfs(path.c_str(), &s) != 0) {
    return std::unexpected("statvfs(" + path.string() + ") failed: " + std::strerror(errno));
  }
  DiskUsage d;
  d.usable = static_cast<std::int64_t>(s.f_bavail) * static_cast<std::int64_t>(s.f_frsize);
  d.total = static_cast<std::int64_t>(s.f_blocks) * static_cast<std::int64_t>(s.f_frsize);
  return d;
}

std::expected<MemoryInfo, std::string> memory_info() {
  std::ifstream in("/proc/meminfo");
  if (!in) return std::unexpected(std::string("cannot read /proc/meminfo: ") + std::strerror(errno));
  std::map<std::string, std::int64_t> kb;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string key;
    std::int64_t value = 0;
    if (fields >> key >> value && key.ends_with(':')) kb[key.substr(0, key.size() - 1)] = value;
  }
  if (!kb.contains("MemTotal")) return std::unexpected("/proc/meminfo has no MemTotal");
  MemoryInfo m;
  m.total_physical = kb["MemTotal"] * 1024;
  m.available_physical = (kb.contains("MemAvailable") ? kb["MemAvailable"] : kb["MemFree"]) * 1024;
  m.total_swap = kb["SwapTotal"] * 1024;
  m.available_swap = kb["SwapFree"] * 1024;
  return m;
}

std::vector<std::string> ipv4_addresses() {
  std::vector<std::string> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
    if (a->ifa_addr == nullptr || a->ifa_addr->sa_family != AF_INET) continue;
    if ((a->ifa_flags & IFF_LOOPBACK) != 0) continue;
    char text[INET_ADDRSTRLEN] = {};
    const auto* sin = reinterpret_cast<const sockaddr_in*>(a->ifa_addr);
    if (inet_ntop(AF_INET, &sin->sin_addr, text, sizeof text) != nullptr) out.emplace_back(text);
  }
  freeifaddrs(list);
  return out;
}

std::map<std::string, std::string> environment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    const auto eq = entry.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    env.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
  }
  return env;
}

std::int64_t current_time_millis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace kite::callables::sysinfo
