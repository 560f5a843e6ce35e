// Reading the recorded remoting traffic: single commands (.bin) and whole
// WebSocket sessions (.jsonl, one chunk per line).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace kite::channel::test {

struct RecordedCommand {
  bool controller_to_agent = true;
  double t_ms = 0;
  std::vector<std::uint8_t> bytes;  // one whole command
};

std::vector<std::uint8_t> read_binary(const std::filesystem::path& path);
// Joins the chunks of each direction into commands, in recorded order.
// A path ending in ".gz" is decompressed first.
std::vector<RecordedCommand> read_session(const std::filesystem::path& jsonl);

}  // namespace kite::channel::test
