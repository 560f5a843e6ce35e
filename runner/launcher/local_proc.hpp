// One launched process and its stream pumps: the agent side of
// hudson.Proc$LocalProc as RemoteLaunchCallable uses it.
//
// Threads: a reaper waits for the child, one pump per output pipe copies bytes
// to its sink, and a stdin pump copies from a ByteSource. They are detached
// and share ownership of the process state, so the LocalProc object may go
// away (the controller unexported it) while the process runs on, as in Java.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <expected>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>

#include "runner/launcher/error.hpp"
#include "runner/launcher/process_tree.hpp"
#include "runner/launcher/spawner.hpp"
#include "runner/launcher/streams.hpp"

namespace kite::launcher {

// Bytes one output pump reads and forwards at a time. The pump has no other
// buffer, so a slow sink blocks the pump, and then the process on a full pipe.
// A read returns what the pipe contains at once, so a large buffer adds no
// latency. It lets a fast producer's output go out in fewer, larger chunks.
inline constexpr std::size_t kPumpBufferBytes = 128 * 1024;

// Capacity Kite requests for each output pipe (F_SETPIPE_SZ; Linux's default
// is 64 KiB and the unprivileged maximum 1 MiB), so that one read can fill the
// pump's buffer. The pages are the kernel's, not Kite's.
inline constexpr int kOutputPipeBytes = 256 * 1024;

// Largest read a PipeReader serves at once, whatever the controller requests.
inline constexpr std::size_t kMaxPipeReadBytes = 1024 * 1024;

// Message Jenkins writes to the log when output pipes stay open after exit.
inline constexpr std::string_view kLeakedDescriptorsMessage =
    "Process leaked file descriptors. See https://www.jenkins.io/redirect/troubleshooting/"
    "process-leaked-file-descriptors for more information\n";

// Name of the per-process marker variable (EnvVars.createCookie).
inline constexpr std::string_view kProcessCookieVariable = "HUDSON_COOKIE";

struct ProcOptions {
  // How long join() waits for the output pumps after the process exited
  // before it reports leaked descriptors (Jenkins: 10 s).
  std::chrono::milliseconds pump_wait{10000};
  process_tree::KillOptions kill;
};

// Destinations and sources of the child's streams (RemoteLaunchCallable after LocalLauncher).
struct StreamPlan {
  std::shared_ptr<ByteSink> out;         // stdout (and merged stderr); null: discarded
  std::shared_ptr<ByteSink> err;         // separate stderr; null: merged into stdout
  std::shared_ptr<ByteSource> in;        // copied to stdin; null: /dev/null
  bool reverse_stdin = false;            // stdin offered through stdin_writer()
  bool reverse_stdout = false;           // stdout offered through stdout_reader()
  bool reverse_stderr = false;           // stderr offered through stderr_reader() (see below)
};

// Reads a pipe on request (the source behind an IOTriplet RemoteInputStream).
class PipeReader final : public ByteSource {
 public:
  explicit PipeReader(UniqueFd fd) : fd_(std::move(fd)) {}
  std::expected<std::string, Error> read(std::size_t max_bytes) override;
  void close() override;

 private:
  std::mutex mutex_;
  UniqueFd fd_;
};

// Writes to the child's stdin (the sink behind an IOTriplet RemoteOutputStream).
class PipeWriter final : public ByteSink {
 public:
  explicit PipeWriter(UniqueFd fd) : fd_(std::move(fd)) {}
  std::expected<void, Error> write(std::string_view bytes) override;
  std::expected<void, Error> close() override;

 private:
  std::mutex mutex_;
  UniqueFd fd_;
};

class LocalProc {
 public:
  struct State;

  // Spawns `request` with HUDSON_COOKIE=<random UUID> added to its environment
  // and starts the pumps. With reverse_stderr, stderr is merged into stdout and
  // stderr_reader() is at end of stream at once, exactly as a Java agent does
  // (LocalProc redirects stderr whenever it is to be read by the caller).
  static std::expected<std::shared_ptr<LocalProc>, Error> start(Spawner& spawner, SpawnRequest request,
                                                                StreamPlan streams, ProcOptions options = {});

  ~LocalProc();

  // Waits for the exit, then up to pump_wait for all output to reach the sinks.
  // Returns the exit status, or 128 + signal for a killed process. When `stop`
  // is requested first, kills the process tree and returns kInterrupted.
  std::expected<int, Error> join(std::stop_token stop = {});

  // Kills the process tree (own descendants and everything carrying the
  // cookie), then joins.
  std::expected<int, Error> kill();

  bool is_alive() const;
  pid_t pid() const noexcept;
  const std::string& cookie() const noexcept { return cookie_; }
  // Notice the spawner wants at the top of the build log, or empty.
  const std::string& warning() const noexcept { return warning_; }

  std::shared_ptr<ByteSource> stdout_reader() const { return stdout_reader_; }
  std::shared_ptr<ByteSource> stderr_reader() const { return stderr_reader_; }
  std::shared_ptr<ByteSink> stdin_writer() const { return stdin_writer_; }

 private:
  LocalProc() = default;
  void destroy();

  std::shared_ptr<State> state_;
  std::string cookie_;
  std::string warning_;
  ProcOptions options_;
  std::shared_ptr<ByteSink> out_;
  std::shared_ptr<ByteSource> stdout_reader_;
  std::shared_ptr<ByteSource> stderr_reader_;
  std::shared_ptr<ByteSink> stdin_writer_;
};

// Random UUID (version 4) in Java's UUID.toString form.
std::string random_uuid();

}  // namespace kite::launcher
