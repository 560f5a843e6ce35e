// spdlog set-up for the daemon: stderr plus an optional log file that
// SIGHUP reopens (for logrotate).
#pragma once

#include <expected>
#include <memory>
#include <string>

#include <spdlog/spdlog.h>

namespace kite::daemon {

// Installs the default logger. Returns an error for an unknown level or an
// unwritable file.
std::expected<void, std::string> setup_logging(const std::string& log_file, const std::string& level);

// Reopens the log file, if any. Safe to call from any thread.
void reopen_log_file();

// A logger named after a node that shares the default logger's sinks.
std::shared_ptr<spdlog::logger> node_logger(const std::string& node_name);

}  // namespace kite::daemon
