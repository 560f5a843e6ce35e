#include "runner/durable/watcher.hpp"

#include <poll.h>
#include <sys/inotify.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <thread>

#include <spdlog/spdlog.h>

#include "runner/launcher/local_proc.hpp"
#include "runner/launcher/unique_fd.hpp"

namespace kite::durable {
namespace {

using launcher::UniqueFd;

// Wakes the watcher when a file in the control directory changes: the log
// grows (IN_MODIFY) or the wrapper renames jenkins-result.txt.tmp into place
// (IN_MOVED_TO). The heartbeat's touch only changes times (IN_ATTRIB), which
// is not watched.
class DirectoryChanges {
 public:
  explicit DirectoryChanges(const std::filesystem::path& dir) {
    fd_.reset(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
    if (!fd_.valid()) {
      spdlog::warn("durable: inotify_init1 failed ({}), checking {} every {} ms", std::strerror(errno), dir.string(),
                   kWatchInterval.count());
      return;
    }
    if (::inotify_add_watch(fd_.get(), dir.c_str(), IN_MODIFY | IN_MOVED_TO | IN_CREATE | IN_DELETE_SELF) < 0) {
      spdlog::warn("durable: inotify_add_watch({}) failed ({}), checking every {} ms", dir.string(),
                   std::strerror(errno), kWatchInterval.count());
      fd_.reset();
    }
  }

  // Waits until a change is reported or `timeout` passes, and consumes the events.
  void wait(std::chrono::milliseconds timeout) {
    if (!fd_.valid()) {
      std::this_thread::sleep_for(timeout);
      return;
    }
    pollfd entry{fd_.get(), POLLIN, 0};
    if (::poll(&entry, 1, static_cast<int>(timeout.count())) <= 0) return;
    std::array<char, 4096> events{};
    while (::read(fd_.get(), events.data(), events.size()) > 0) {
    }
  }

 private:
  UniqueFd fd_;
};

// Forwards to the listener and remembers whether the last byte was '\n'.
class TrackingSink final : public ByteSink {
 public:
  TrackingSink(ByteSink& inner, bool& at_line_start) : inner_(inner), at_line_start_(at_line_start) {}
  std::expected<void, Error> write(std::string_view bytes) override {
    auto written = inner_.write(bytes);
    if (written && !bytes.empty()) at_line_start_ = bytes.back() == '\n';
    return written;
  }

 private:
  ByteSink& inner_;
  bool& at_line_start_;
};

// Deletes a finished step's control directory. While the directory exists
// without jenkins-result.txt, the wrapper's heartbeat loop touches
// jenkins-log.txt every 3 s. A remove_all in place can lose a race with it:
// the log reappears before the rmdir, so the directory stays without a result
// and the wrapper never ends. Renaming the directory first ends the loop's
// condition in one step, and the renamed copy is deleted afterwards.
void remove_control_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::path doomed = dir;
  doomed += ".deleting-" + launcher::random_uuid();
  std::filesystem::rename(dir, doomed, ec);
  if (ec == std::errc::no_such_file_or_directory) return;
  if (ec) {
    spdlog::warn("durable: cannot rename {} before deleting it: {}", dir.string(), ec.message());
    doomed = dir;
  }
  std::filesystem::remove_all(doomed, ec);
  if (ec) spdlog::warn("durable: cannot delete {}: {}", doomed.string(), ec.message());
}

}  // namespace

Watcher::Watcher(WatchTarget target, std::shared_ptr<ByteSink> listener, ExitReporter report_exit)
    : target_(std::move(target)), listener_(std::move(listener)), report_exit_(std::move(report_exit)) {}

std::expected<Watcher::State, Error> Watcher::check_once() {
  const auto& dir = target_.control_dir;
  // The status is read before the log, in case the process is just now finishing.
  auto status = status_check(dir / "jenkins-result.txt");
  if (!status) return std::unexpected(status.error());

  if (!last_location_) {
    auto stored = read_last_location(dir / "last-location.txt");
    if (!stored) return std::unexpected(stored.error());
    last_location_ = stored->value_or(0);
  }

  std::error_code ec;
  const auto length = std::filesystem::file_size(dir / "jenkins-log.txt", ec);
  if (!ec && length > *last_location_) {
    TrackingSink tracking(*listener_, at_line_start_);
    std::expected<std::uint64_t, Error> new_location;
    if (needs_transcoding(target_.charset)) {
      // One decoder per round, as the plugin's watcher opens a new reader each time.
      auto transcoding = Utf8TranscodingSink::open(*target_.charset, tracking);
      if (!transcoding) return std::unexpected(transcoding.error());
      new_location = copy_to_end(dir / "jenkins-log.txt", *last_location_, **transcoding);
      if (new_location) {
        if (auto finished = (*transcoding)->finish(); !finished) return std::unexpected(finished.error());
      }
    } else {
      new_location = copy_to_end(dir / "jenkins-log.txt", *last_location_, tracking);
    }
    if (!new_location) return std::unexpected(new_location.error());
    auto saved = write_last_location(dir / "last-location.txt", *new_location);
    if (!saved) return std::unexpected(saved.error());
    last_location_ = *new_location;
  }

  if (*status) {
    auto finished = finish(**status);
    if (!finished) return std::unexpected(finished.error());
    return State::kFinished;
  }
  if (!std::filesystem::is_directory(dir, ec)) {
    spdlog::warn("durable: giving up on watching nonexistent {}", dir.string());
    remove_control_dir(dir);
    return State::kGaveUp;
  }
  return State::kRunning;
}

std::expected<void, Error> Watcher::finish(std::int32_t status) {
  const auto& dir = target_.control_dir;
  std::optional<std::string> output;
  std::error_code ec;
  if (std::filesystem::exists(dir / "output.txt", ec)) {
    auto data = get_output(dir / "output.txt", target_.charset);
    if (!data) return std::unexpected(data.error());
    output = std::move(*data);
  }

  // Handler.exited closes the listener's logger: NewlineSafeTaskListener ends
  // an unterminated last line and flushes, without closing the stream itself.
  if (!at_line_start_) {
    auto written = listener_->write("\n");
    if (!written) return std::unexpected(written.error());
    at_line_start_ = true;
  }
  if (auto flushed = listener_->flush(); !flushed) return std::unexpected(flushed.error());

  spdlog::info("durable: {} exited with status {}", dir.string(), status);
  auto reported = report_exit_(status, std::move(output));
  if (!reported) return std::unexpected(reported.error());
  remove_control_dir(dir);
  return {};
}

void Watcher::start(std::shared_ptr<Watcher> watcher, std::shared_ptr<std::atomic<bool>> stop,
                    std::function<void()> on_end) {
  std::thread([watcher, stop, on_end = std::move(on_end)] {
    spdlog::info("durable: watching {}", watcher->target_.control_dir.string());
    DirectoryChanges changes(watcher->target_.control_dir);
    while (!stop->load()) {
      const auto checked_at = std::chrono::steady_clock::now();
      auto state = watcher->check_once();
      if (!state) {
        // As in Jenkins: the listener is probably gone with the channel; a
        // new StartWatching after reconnection resumes from last-location.txt.
        spdlog::warn("durable: giving up on watching {}: {}", watcher->target_.control_dir.string(),
                     state.error().message);
        break;
      }
      if (*state != State::kRunning) break;
      changes.wait(kWatchInterval);
      std::this_thread::sleep_until(checked_at + kMinWatchPause);
    }
    if (on_end) on_end();
  }).detach();
}

}  // namespace kite::durable
