#include "runner/launcher/local_proc.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/random.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

namespace kite::launcher {

struct LocalProc::State {
  std::unique_ptr<ChildProcess> child;  // wait() only from the reaper thread
  pid_t pid = -1;

  std::mutex mutex;
  std::condition_variable_any changed;
  std::optional<int> exit_status;
  int pumps_running = 0;
};

namespace {

// An ended stream, for stderr when it is merged into stdout.
class EmptySource final : public ByteSource {
 public:
  std::expected<std::string, Error> read(std::size_t) override { return std::string(); }
};

void block_sigpipe_in_this_thread() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

void reap(std::shared_ptr<LocalProc::State> state) {
  auto status = state->child->wait();
  int exit_status = -1;
  if (status) {
    exit_status = *status;
    spdlog::info("launcher: pid={} exited with status {}", state->pid, exit_status);
  } else {
    spdlog::error("launcher: waiting for pid={} failed: {}", state->pid, status.error().message);
  }
  std::lock_guard lock(state->mutex);
  state->exit_status = exit_status;
  state->changed.notify_all();
}

// Enlarges an output pipe; a failure only costs speed, so it is logged and ignored.
void enlarge_pipe(const UniqueFd& fd, pid_t pid) {
  if (::fcntl(fd.get(), F_SETPIPE_SZ, kOutputPipeBytes) < 0) {
    spdlog::debug("launcher: cannot enlarge the output pipe of pid={} to {} bytes: {}", pid, kOutputPipeBytes,
                  std::strerror(errno));
  }
}

void pump_output(std::shared_ptr<LocalProc::State> state, UniqueFd fd, std::shared_ptr<ByteSink> sink,
                 std::string name) {
  std::vector<char> buffer(kPumpBufferBytes);
  bool sink_failed = sink == nullptr;
  while (true) {
    ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      spdlog::warn("launcher: reading {} of pid={} failed: {}", name, state->pid, std::strerror(errno));
      break;
    }
    if (n == 0) break;
    if (sink_failed) continue;  // drain and discard, so a dead sink cannot fill the pipe
    auto written = sink->write(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
    if (!written) {
      spdlog::warn("launcher: {} of pid={} can no longer be sent, discarding the rest: {}", name, state->pid,
                   written.error().message);
      sink_failed = true;
    }
  }
  if (!sink_failed) {
    if (auto flushed = sink->flush(); !flushed) {
      spdlog::warn("launcher: flushing {} of pid={} failed: {}", name, state->pid, flushed.error().message);
    }
  }
  std::lock_guard lock(state->mutex);
  --state->pumps_running;
  state->changed.notify_all();
}

void pump_stdin(pid_t pid, std::shared_ptr<ByteSource> source, UniqueFd fd) {
  block_sigpipe_in_this_thread();
  PipeWriter writer(std::move(fd));
  while (true) {
    auto chunk = source->read(kPumpBufferBytes);
    if (!chunk) {
      spdlog::warn("launcher: reading stdin for pid={} failed: {}", pid, chunk.error().message);
      break;
    }
    if (chunk->empty()) break;
    if (!writer.write(*chunk)) break;  // the process closed its stdin
  }
  source->close();
  (void)writer.close();
}

}  // namespace

std::string random_uuid() {
  std::array<unsigned char, 16> bytes{};
  std::size_t filled = 0;
  while (filled < bytes.size()) {
    ssize_t n = ::getrandom(bytes.data() + filled, bytes.size() - filled, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::system_error(errno, std::generic_category(), "getrandom");
    filled += static_cast<std::size_t>(n);
  }
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0F) | 0x40);
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3F) | 0x80);
  char text[37];
  std::snprintf(text, sizeof text, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", bytes[0],
                bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8], bytes[9], bytes[10],
                bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]);
  return text;
}

std::expected<std::string, Error> PipeReader::read(std::size_t max_bytes) {
  std::lock_guard lock(mutex_);
  if (!fd_.valid()) return std::string();
  std::string data(std::min(std::max<std::size_t>(max_bytes, 1), kMaxPipeReadBytes), '\0');
  while (true) {
    ssize_t n = ::read(fd_.get(), data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::unexpected(Error::system("reading the process output pipe failed", errno));
    data.resize(static_cast<std::size_t>(n));
    return data;
  }
}

void PipeReader::close() {
  std::lock_guard lock(mutex_);
  fd_.reset();
}

std::expected<void, Error> PipeWriter::write(std::string_view bytes) {
  std::lock_guard lock(mutex_);
  if (!fd_.valid()) return std::unexpected(Error::io("the process stdin is already closed"));
  while (!bytes.empty()) {
    ssize_t n = ::write(fd_.get(), bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::unexpected(Error::system("writing to the process stdin failed", errno));
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

std::expected<void, Error> PipeWriter::close() {
  std::lock_guard lock(mutex_);
  fd_.reset();
  return {};
}

std::expected<std::shared_ptr<LocalProc>, Error> LocalProc::start(Spawner& spawner, SpawnRequest request,
                                                                  StreamPlan streams, ProcOptions options) {
  std::shared_ptr<LocalProc> proc(new LocalProc());
  proc->cookie_ = random_uuid();
  proc->options_ = options;
  proc->out_ = streams.out;

  const std::string cookie_prefix = std::string(kProcessCookieVariable) + '=';
  std::erase_if(request.environment, [&](const std::string& entry) { return entry.starts_with(cookie_prefix); });
  request.environment.push_back(cookie_prefix + proc->cookie_);
  request.pipe_stdin = streams.reverse_stdin || streams.in != nullptr;
  request.separate_stderr = streams.err != nullptr && !streams.reverse_stderr;

  auto spawned = spawner.spawn(request);
  if (!spawned) return std::unexpected(spawned.error());

  proc->warning_ = std::move(spawned->warning);
  auto state = std::make_shared<State>();
  state->pid = spawned->child->pid();
  state->child = std::move(spawned->child);
  proc->state_ = state;

  std::thread(reap, state).detach();

  if (streams.reverse_stdout) {
    proc->stdout_reader_ = std::make_shared<PipeReader>(std::move(spawned->stdout_fd));
  } else {
    enlarge_pipe(spawned->stdout_fd, state->pid);
    std::lock_guard lock(state->mutex);
    ++state->pumps_running;
    std::thread(pump_output, state, std::move(spawned->stdout_fd), streams.out, "stdout").detach();
  }
  if (streams.reverse_stderr) {
    proc->stderr_reader_ = std::make_shared<EmptySource>();
  } else if (spawned->stderr_fd.valid()) {
    enlarge_pipe(spawned->stderr_fd, state->pid);
    std::lock_guard lock(state->mutex);
    ++state->pumps_running;
    std::thread(pump_output, state, std::move(spawned->stderr_fd), streams.err, "stderr").detach();
  }
  if (streams.reverse_stdin) {
    proc->stdin_writer_ = std::make_shared<PipeWriter>(std::move(spawned->stdin_fd));
  } else if (streams.in) {
    std::thread(pump_stdin, state->pid, streams.in, std::move(spawned->stdin_fd)).detach();
  }
  return proc;
}

LocalProc::~LocalProc() = default;

pid_t LocalProc::pid() const noexcept { return state_->pid; }

bool LocalProc::is_alive() const {
  std::lock_guard lock(state_->mutex);
  return !state_->exit_status.has_value();
}

void LocalProc::destroy() {
  // Each kill waits up to the grace period before its SIGKILL. Running them
  // at the same time ends a tree with a daemon that ignores SIGTERM after one
  // grace period instead of two.
  std::jthread by_cookie([cookie = cookie_, kill = options_.kill] {
    process_tree::kill_all({{std::string(kProcessCookieVariable), cookie}}, kill);
  });
  state_->child->kill_tree(options_.kill.soft_kill_wait);
}

std::expected<int, Error> LocalProc::join(std::stop_token stop) {
  std::unique_lock lock(state_->mutex);
  state_->changed.wait(lock, stop, [&] { return state_->exit_status.has_value(); });
  if (!state_->exit_status) {
    lock.unlock();
    spdlog::info("launcher: join of pid={} cancelled, killing the process tree", state_->pid);
    destroy();
    return std::unexpected(Error::interrupted("interrupted while waiting for pid " + std::to_string(state_->pid)));
  }

  const bool drained = state_->changed.wait_for(lock, stop, options_.pump_wait,
                                                [&] { return state_->pumps_running == 0; });
  const int exit_status = *state_->exit_status;
  lock.unlock();
  if (!drained && !stop.stop_requested()) {
    spdlog::warn("launcher: pid={} exited but its output pipes are still open (leaked file descriptors)",
                 state_->pid);
    if (out_) (void)out_->write(kLeakedDescriptorsMessage);
  }
  return exit_status;
}

std::expected<int, Error> LocalProc::kill() {
  destroy();
  return join();
}

}  // namespace kite::launcher
