// kite dump-stream: print a Java serialization stream as a tree.
//
// Input is a file (or '-' for stdin) holding raw bytes or hex text, either a
// whole stream (starting AC ED 00 05) or remoting chunks (each a 2-byte
// chunk header, bit 15 = more chunks follow, then the body), which are
// joined into the command they carry.
#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "protocol/serialization/dump.hpp"
#include "protocol/serialization/reader.hpp"
#include "runner/commands.hpp"
#include "sandbox/fd.hpp"

namespace kite::cmd {
namespace {

constexpr std::string_view kUsage =
    "usage: kite dump-stream [--payload] [--no-nested] FILE|-\n"
    "  Prints a Java serialization stream as a tree (offsets, handles, classes, fields).\n"
    "  FILE holds raw bytes or hex text: a whole stream or remoting chunks with\n"
    "  2-byte chunk headers. '-' reads stdin.\n"
    "  --payload    decode class annotations as remoting class-loader tags\n"
    "  --no-nested  do not decode byte[] values that hold nested streams\n";

// Reads the whole file, or stdin for "-". Returns 0, or the errno of the
// failed open or read (EISDIR for a directory). Plain read(2) is used because
// libstdc++'s filebuf throws on a read error instead of setting a state bit.
int read_input(std::string_view path, std::vector<std::uint8_t>& out) {
  sandbox::UniqueFd file;
  int fd = STDIN_FILENO;
  if (path != "-") {
    file.reset(::open(std::string(path).c_str(), O_RDONLY | O_CLOEXEC));
    if (!file.valid()) return errno;
    fd = file.get();
  }
  int error = 0;
  std::uint8_t buffer[65536];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) error = errno;
    if (n <= 0) break;
    out.insert(out.end(), buffer, buffer + n);
  }
  return error;
}

// Hex text (whitespace allowed) to bytes; false when the input is not hex text.
bool decode_hex(const std::vector<std::uint8_t>& text, std::vector<std::uint8_t>& out) {
  std::vector<std::uint8_t> bytes;
  int pending = -1;
  for (const std::uint8_t c : text) {
    if (std::isspace(c)) continue;
    if (!std::isxdigit(c)) return false;
    const int nibble = std::isdigit(c) ? c - '0' : (std::tolower(c) - 'a' + 10);
    if (pending < 0) {
      pending = nibble;
    } else {
      bytes.push_back(static_cast<std::uint8_t>(pending * 16 + nibble));
      pending = -1;
    }
  }
  if (pending >= 0 || bytes.empty()) return false;
  out = std::move(bytes);
  return true;
}

bool starts_with_magic(std::span<const std::uint8_t> b) {
  return b.size() >= 2 && b[0] == 0xAC && b[1] == 0xED;
}

// Joins chunk bodies up to the first chunk without the "more" bit.
bool join_chunks(const std::vector<std::uint8_t>& in, std::vector<std::uint8_t>& out, std::string& error) {
  std::size_t pos = 0;
  while (pos < in.size()) {
    if (in.size() - pos < 2) {
      error = fmt::format("truncated chunk header at offset {}", pos);
      return false;
    }
    const unsigned header = (unsigned{in[pos]} << 8) | in[pos + 1];
    const std::size_t len = header & 0x7FFF;
    const bool more = (header & 0x8000) != 0;
    pos += 2;
    if (in.size() - pos < len) {
      error = fmt::format("chunk at offset {} claims {} bytes, {} remain", pos - 2, len, in.size() - pos);
      return false;
    }
    out.insert(out.end(), in.begin() + static_cast<std::ptrdiff_t>(pos),
               in.begin() + static_cast<std::ptrdiff_t>(pos + len));
    pos += len;
    if (!more) {
      if (pos != in.size()) {
        std::fprintf(stderr, "kite: ignoring %zu bytes after the last chunk\n", in.size() - pos);
      }
      return true;
    }
  }
  error = "the last chunk has the 'more chunks follow' bit set";
  return false;
}

}  // namespace

int dump_stream(std::span<const std::string_view> args) {
  ser::ReaderOptions reader_options;
  ser::DumpOptions dump_options;
  std::string_view path;
  for (const std::string_view a : args) {
    if (a == "--payload") {
      reader_options.multi_class_loader = true;
    } else if (a == "--no-nested") {
      dump_options.nested_payloads = false;
    } else if (a == "-h" || a == "--help") {
      std::fputs(kUsage.data(), stdout);
      return 0;
    } else if (path.empty() && (a == "-" || !a.starts_with("-"))) {
      path = a;
    } else {
      std::fprintf(stderr, "kite: invalid argument '%.*s'\n%s", static_cast<int>(a.size()), a.data(),
                   kUsage.data());
      return 2;
    }
  }
  if (path.empty()) {
    std::fputs(kUsage.data(), stderr);
    return 2;
  }

  std::vector<std::uint8_t> input;
  if (int error = read_input(path, input); error != 0) {
    std::fprintf(stderr, "kite: cannot read '%.*s': %s\n", static_cast<int>(path.size()), path.data(),
                 std::strerror(error));
    return 1;
  }
  if (!starts_with_magic(input)) {
    std::vector<std::uint8_t> decoded;
    if (decode_hex(input, decoded)) input = std::move(decoded);
  }
  if (!starts_with_magic(input)) {
    if (input.size() >= 4 && starts_with_magic(std::span(input).subspan(2))) {
      std::vector<std::uint8_t> joined;
      std::string error;
      if (!join_chunks(input, joined, error)) {
        std::fprintf(stderr, "kite: invalid remoting chunks: %s\n", error.c_str());
        return 1;
      }
      input = std::move(joined);
    } else {
      std::fputs("kite: input is neither a serialization stream (AC ED ...) nor a remoting chunk\n", stderr);
      return 1;
    }
  }

  auto stream = ser::read_stream(input, reader_options);
  if (!stream) {
    std::fprintf(stderr, "kite: %s\n", stream.error().describe().c_str());
    return 1;
  }
  const std::string text = ser::dump(*stream, dump_options);
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}

}  // namespace kite::cmd
