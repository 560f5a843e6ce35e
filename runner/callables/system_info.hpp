// Facts about the machine that the connect-time callables and node monitors
// report, read the way the JDK reads them on Linux.
#pragma once

#include <cstdint>
#include <expected>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace kite::callables::sysinfo {

// Java's os.arch for this machine: "amd64" for x86_64, "x86" for i386..i686,
// "aarch64", "arm" for 32-bit ARM, otherwise uname's machine field.
std::string java_os_arch();

// Java's name for the default charset of the process locale (LC_ALL, LC_CTYPE,
// LANG): "UTF-8", "US-ASCII" for the C/POSIX locale, "ISO-8859-1", ...
std::string java_default_charset();

struct DiskUsage {
  std::int64_t usable = 0;  // bytes available to an unprivileged user (File.getUsableSpace)
  std::int64_t total = 0;   // bytes of the file system (File.getTotalSpace)
};
std::expected<DiskUsage, std::string> disk_usage(const std::filesystem::path& path);

// /proc/meminfo, in bytes (MemTotal, MemAvailable or MemFree, SwapTotal, SwapFree).
struct MemoryInfo {
  std::int64_t total_physical = 0;
  std::int64_t available_physical = 0;
  std::int64_t total_swap = 0;
  std::int64_t available_swap = 0;
};
std::expected<MemoryInfo, std::string> memory_info();

// Non-loopback IPv4 addresses of every interface, in interface order.
std::vector<std::string> ipv4_addresses();

// The process environment (Java's System.getenv()).
std::map<std::string, std::string> environment();

// Milliseconds since the epoch (System.currentTimeMillis).
std::int64_t current_time_millis();

}  // namespace kite::callables::sysinfo
