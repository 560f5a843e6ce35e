#include "tests/channel/vector_files.hpp"

#include <fstream>
#include <iterator>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace kite::channel::test {

std::vector<std::uint8_t> read_binary(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(in), {});
}

namespace {

std::vector<std::uint8_t> from_hex(const std::string& hex) {
  std::vector<std::uint8_t> out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

}  // namespace

std::vector<RecordedCommand> read_session(const std::filesystem::path& jsonl) {
  std::ifstream in(jsonl);
  if (!in) throw std::runtime_error("cannot open " + jsonl.string());
  std::vector<RecordedCommand> out;
  std::vector<std::uint8_t> partial[2];
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line);
    const bool c2a = j.at("dir") == "c2a";
    auto message = from_hex(j.at("hex").get<std::string>());
    if (message.size() < 2) throw std::runtime_error("chunk without header in " + jsonl.string());
    const unsigned header = (message[0] << 8) | message[1];
    const std::size_t length = header & 0x7fff;
    if (length > message.size() - 2) throw std::runtime_error("chunk longer than its message in " + jsonl.string());
    auto& buffer = partial[c2a ? 0 : 1];
    buffer.insert(buffer.end(), message.begin() + 2, message.begin() + 2 + static_cast<std::ptrdiff_t>(length));
    if ((header & 0x8000) == 0) {
      out.push_back(RecordedCommand{c2a, j.at("t_ms").get<double>(), std::move(buffer)});
      buffer.clear();
    }
  }
  return out;
}

}  // namespace kite::channel::test
