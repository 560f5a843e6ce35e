// Watch ("push") mode of durable tasks: FileMonitoringTask$Watcher run on the
// agent. Every 100 ms it copies new bytes of jenkins-log.txt to the step's
// listener (remembering the offset in last-location.txt, so a new watch after
// a reconnection resumes where the last one stopped), and once
// jenkins-result.txt contains the exit status it reports it (with output.txt
// when present) and deletes the control directory.
#pragma once

#include <atomic>
#include <chrono>
#include <expected>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "runner/durable/control_files.hpp"

namespace kite::durable {

// Handler.exited(code, output) on the controller (ExecutionRemotable.exited).
using ExitReporter = std::function<std::expected<void, Error>(std::int32_t status, std::optional<std::string> output)>;

// Interval between checks (Jenkins schedules the Watcher every 100 ms).
inline constexpr std::chrono::milliseconds kWatchInterval{100};
// Shortest time between the starts of two checks when inotify reports
// changes in the control directory before kWatchInterval has passed, so a
// process that writes without pause causes at most one check per 5 ms.
inline constexpr std::chrono::milliseconds kMinWatchPause{5};

struct WatchTarget {
  std::filesystem::path control_dir;   // absolute, as ShellController.controlDir
  // ShellController.charset with SYSTEM_DEFAULT resolved; the log and
  // output.txt are transcoded from it to UTF-8 unless it is null or UTF-8.
  std::optional<std::string> charset;
};

class Watcher {
 public:
  enum class State { kRunning, kFinished, kGaveUp };

  Watcher(WatchTarget target, std::shared_ptr<ByteSink> listener, ExitReporter report_exit);

  // One round of Watcher.run. Returns kRunning when another round is due.
  std::expected<State, Error> check_once();

  // Runs check_once on a detached thread until it ends, fails (logged; a
  // later StartWatching resumes) or `stop` becomes true, then calls `on_end`.
  // Checks run every kWatchInterval, and sooner (at most every
  // kMinWatchPause) when inotify reports a change in the control directory.
  static void start(std::shared_ptr<Watcher> watcher, std::shared_ptr<std::atomic<bool>> stop,
                    std::function<void()> on_end = {});

 private:
  std::expected<void, Error> finish(std::int32_t status);

  WatchTarget target_;
  std::shared_ptr<ByteSink> listener_;
  ExitReporter report_exit_;
  std::optional<std::uint64_t> last_location_;
  // Whether the last byte sent ended a line; NewlineSafeTaskListener adds a
  // newline on close when it did not.
  bool at_line_start_ = true;
};

}  // namespace kite::durable
