#include "runner/daemon/logging.hpp"

#include <cstdio>
#include <mutex>

#include <fmt/format.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace kite::daemon {

namespace {

constexpr const char* kPattern = "%Y-%m-%d %H:%M:%S.%e %l [%n] %v";

// A file sink whose file can be closed and opened again by name, so a
// rotated file is let go after SIGHUP.
class ReopenableFileSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit ReopenableFileSink(std::string path) : path_(std::move(path)) {}
  ~ReopenableFileSink() override {
    if (file_ != nullptr) std::fclose(file_);
  }

  std::expected<void, std::string> open() {
    std::lock_guard lock(mutex_);
    return open_locked();
  }

  void reopen() {
    std::lock_guard lock(mutex_);
    if (file_ != nullptr) std::fclose(file_);
    file_ = nullptr;
    (void)open_locked();  // on failure, lines are dropped until the next SIGHUP
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    if (file_ == nullptr) return;
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    std::fwrite(formatted.data(), 1, formatted.size(), file_);
    std::fflush(file_);
  }
  void flush_() override {
    if (file_ != nullptr) std::fflush(file_);
  }

 private:
  std::expected<void, std::string> open_locked() {
    file_ = std::fopen(path_.c_str(), "ae");
    if (file_ == nullptr) return std::unexpected(fmt::format("cannot open log file '{}': {}", path_, std::strerror(errno)));
    return {};
  }

  std::string path_;
  std::FILE* file_ = nullptr;
};

std::mutex g_mutex;
std::shared_ptr<ReopenableFileSink> g_file_sink;

}  // namespace

std::expected<void, std::string> setup_logging(const std::string& log_file, const std::string& level_name) {
  const auto level = spdlog::level::from_str(level_name);
  if (level == spdlog::level::off && level_name != "off") {
    return std::unexpected(fmt::format("unknown log level '{}' (trace, debug, info, warn, error, off)", level_name));
  }

  std::vector<spdlog::sink_ptr> sinks;
  sinks.push_back(std::make_shared<spdlog::sinks::stderr_sink_mt>());
  std::shared_ptr<ReopenableFileSink> file_sink;
  if (!log_file.empty()) {
    file_sink = std::make_shared<ReopenableFileSink>(log_file);
    if (auto opened = file_sink->open(); !opened) return std::unexpected(opened.error());
    sinks.push_back(file_sink);
  }
  auto logger = std::make_shared<spdlog::logger>("kite", sinks.begin(), sinks.end());
  logger->set_pattern(kPattern);
  logger->set_level(level);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);

  std::lock_guard lock(g_mutex);
  g_file_sink = std::move(file_sink);
  return {};
}

void reopen_log_file() {
  std::shared_ptr<ReopenableFileSink> sink;
  {
    std::lock_guard lock(g_mutex);
    sink = g_file_sink;
  }
  if (sink) sink->reopen();
}

std::shared_ptr<spdlog::logger> node_logger(const std::string& node_name) {
  auto logger = spdlog::default_logger()->clone(node_name);
  return logger;
}

}  // namespace kite::daemon
