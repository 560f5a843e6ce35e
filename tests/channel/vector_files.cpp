#include "tests/channel/vector_files.hpp"

#include <archive.h>

#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
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

// Decompresses a gzip file with libarchive's raw format and gzip filter.
std::string read_gzip(const std::filesystem::path& path) {
  std::unique_ptr<archive, decltype(&archive_read_free)> reader(archive_read_new(), archive_read_free);
  archive_read_support_filter_gzip(reader.get());
  archive_read_support_format_raw(reader.get());
  if (archive_read_open_filename(reader.get(), path.c_str(), 64 * 1024) != ARCHIVE_OK) {
    throw std::runtime_error("cannot open " + path.string() + ": " + archive_error_string(reader.get()));
  }
  archive_entry* entry = nullptr;
  if (archive_read_next_header(reader.get(), &entry) != ARCHIVE_OK) {
    throw std::runtime_error("cannot read " + path.string() + ": " + archive_error_string(reader.get()));
  }
  std::string text;
  char buffer[64 * 1024];
  while (true) {
    const la_ssize_t n = archive_read_data(reader.get(), buffer, sizeof buffer);
    if (n < 0) throw std::runtime_error("cannot decompress " + path.string() + ": " + archive_error_string(reader.get()));
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
  }
  return text;
}

}  // namespace

std::vector<RecordedCommand> read_session(const std::filesystem::path& jsonl) {
  std::ifstream file;
  std::istringstream decompressed;
  std::istream* source = &file;
  if (jsonl.extension() == ".gz") {
    decompressed.str(read_gzip(jsonl));
    source = &decompressed;
  } else {
    file.open(jsonl);
    if (!file) throw std::runtime_error("cannot open " + jsonl.string());
  }
  std::istream& in = *source;
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
