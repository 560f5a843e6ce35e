// The files of a durable task's control directory, read as the durable-task
// plugin's agent-side callables read them (FileMonitoringTask, plugin 2.x):
// jenkins-result.txt (StatusCheck), jenkins-log.txt (WriteLog),
// output.txt (GetOutput) and last-location.txt (the watch mode's offset).
#pragma once

#include <cstdint>
#include <expected>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runner/launcher/error.hpp"
#include "runner/launcher/streams.hpp"

namespace kite::durable {

using launcher::ByteSink;
using launcher::Error;

// Largest jenkins-result.txt or last-location.txt Kite reads; they hold one number.
inline constexpr std::uintmax_t kMaxSmallFileBytes = 64 * 1024;
// Largest output.txt GetOutput returns in one byte[] (returnStdout: true).
inline constexpr std::uintmax_t kMaxOutputBytes = 256 * 1024 * 1024;
// Bytes WriteLog reads and sends at a time; the sink's flow control paces it.
inline constexpr std::size_t kLogCopyBufferBytes = 64 * 1024;

// Parses result-file text with Java's String.trim, then Long.parseLong. Empty
// text means "not yet" (nullopt). Values above Integer.MAX_VALUE are clamped,
// and the result is then truncated to int as Jenkins does. Garbage is an error
// with Java's message, "corrupted content in <path>: java.lang.NumberFormatException: ...".
std::expected<std::optional<std::int32_t>, Error> parse_status(std::string_view text, const std::string& path);

// FileMonitoringController$StatusCheck on jenkins-result.txt: nullopt while
// the file is missing or empty.
std::expected<std::optional<std::int32_t>, Error> status_check(const std::filesystem::path& result_file);

// FileMonitoringController$WriteLog: sends exactly the bytes [last_location,
// size at the start of the call) of `log_file` to `sink`, in pieces of at
// most kLogCopyBufferBytes, and returns how many were sent. A missing file
// or one not longer than last_location sends nothing.
std::expected<std::uint64_t, Error> write_log(const std::filesystem::path& log_file, std::uint64_t last_location,
                                              ByteSink& sink);

// Copies everything from `offset` to the current end of `log_file` into
// `sink` (the watcher reads to EOF, not to a size taken earlier) and returns
// the new offset.
std::expected<std::uint64_t, Error> copy_to_end(const std::filesystem::path& log_file, std::uint64_t offset,
                                                ByteSink& sink);

// Converts `data` from `charset` to UTF-8, replacing malformed input with
// U+FFFD as Java's decoder does; a null or UTF-8 charset returns it unchanged.
std::expected<std::string, Error> transcode_to_utf8(std::string data, const std::optional<std::string>& charset);

// True when `charset` names something other than UTF-8, so output must be transcoded.
bool needs_transcoding(const std::optional<std::string>& charset);

// Converts a log from `charset` to UTF-8 as it streams to `target`, for the
// watcher (Java's ReaderInputStream over the log). The bytes of a multibyte
// sequence split between two write() calls wait for the rest. finish()
// replaces an incomplete tail with U+FFFD, as Java's decoder does at the end
// of its input. Malformed input becomes one U+FFFD per byte.
class Utf8TranscodingSink final : public ByteSink {
 public:
  // Fails for a charset iconv does not know.
  static std::expected<std::unique_ptr<Utf8TranscodingSink>, Error> open(const std::string& charset, ByteSink& target);
  ~Utf8TranscodingSink() override;
  Utf8TranscodingSink(const Utf8TranscodingSink&) = delete;
  Utf8TranscodingSink& operator=(const Utf8TranscodingSink&) = delete;

  std::expected<void, Error> write(std::string_view bytes) override;
  std::expected<void, Error> flush() override { return target_.flush(); }
  // Converts what is left, an incomplete sequence included, and writes it.
  std::expected<void, Error> finish();

 private:
  Utf8TranscodingSink(void* converter, ByteSink& target) : converter_(converter), target_(target) {}
  std::expected<void, Error> convert(bool at_end);

  void* converter_;  // iconv_t
  ByteSink& target_;
  std::string pending_;
};

// FileMonitoringController$GetOutput on output.txt, transcoded as above.
std::expected<std::string, Error> get_output(const std::filesystem::path& output_file,
                                             const std::optional<std::string>& charset);

// Reads last-location.txt as Long.parseLong does (no trimming); nullopt when absent.
std::expected<std::optional<std::uint64_t>, Error> read_last_location(const std::filesystem::path& file);
std::expected<void, Error> write_last_location(const std::filesystem::path& file, std::uint64_t location);

}  // namespace kite::durable
