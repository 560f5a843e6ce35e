// The files of a durable task's control directory, read as the durable-task
// plugin's agent-side callables read them (FileMonitoringTask, plugin 2.x):
// jenkins-result.txt (StatusCheck), jenkins-log.txt (WriteLog),
// output.txt (GetOutput) and last-location.txt (the watch mode's offset).
#pragma once

#include <cstdint>
#include <expected>
#include <filesystem>
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

// FileMonitoringController$GetOutput on output.txt, transcoded as above.
std::expected<std::string, Error> get_output(const std::filesystem::path& output_file,
                                             const std::optional<std::string>& charset);

// Reads last-location.txt as Long.parseLong does (no trimming); nullopt when absent.
std::expected<std::optional<std::uint64_t>, Error> read_last_location(const std::filesystem::path& file);
std::expected<void, Error> write_last_location(const std::filesystem::path& file, std::uint64_t location);

}  // namespace kite::durable
