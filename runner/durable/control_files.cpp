#include "runner/durable/control_files.hpp"

#include <fcntl.h>
#include <iconv.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <fstream>
#include <limits>

#include "runner/launcher/unique_fd.hpp"

namespace kite::durable {
namespace {

using launcher::UniqueFd;

std::string number_format_message(std::string_view text) {
  return "java.lang.NumberFormatException: For input string: \"" + std::string(text) + "\"";
}

// Long.parseLong for radix 10 with ASCII digits; nullopt where Java throws.
std::optional<std::int64_t> parse_java_long(std::string_view text) {
  if (text.empty()) return std::nullopt;
  bool negative = false;
  std::size_t index = 0;
  if (text[0] == '-' || text[0] == '+') {
    negative = text[0] == '-';
    index = 1;
    if (text.size() == 1) return std::nullopt;
  }
  // Accumulate negatively, as Java does, so Long.MIN_VALUE parses.
  std::int64_t result = 0;
  const std::int64_t limit = negative ? std::numeric_limits<std::int64_t>::min() : -std::numeric_limits<std::int64_t>::max();
  for (; index < text.size(); ++index) {
    const char c = text[index];
    if (c < '0' || c > '9') return std::nullopt;
    const int digit = c - '0';
    if (result < limit / 10) return std::nullopt;
    result *= 10;
    if (result < limit + digit) return std::nullopt;
    result -= digit;
  }
  return negative ? result : -result;
}

std::expected<std::string, Error> read_small_file(const std::filesystem::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return std::unexpected(Error::system("cannot open " + path.string(), errno));
  std::string content;
  std::array<char, 4096> buffer;
  while (true) {
    ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::unexpected(Error::system("cannot read " + path.string(), errno));
    if (n == 0) return content;
    content.append(buffer.data(), static_cast<std::size_t>(n));
    if (content.size() > kMaxSmallFileBytes) {
      return std::unexpected(Error::io(path.string() + " is larger than " + std::to_string(kMaxSmallFileBytes) +
                                       " bytes, so it cannot hold a single number"));
    }
  }
}

// Sends [offset, end) of `fd` to `sink`; `end` nullopt means until EOF.
std::expected<std::uint64_t, Error> send_range(int fd, const std::filesystem::path& path, std::uint64_t offset,
                                               std::optional<std::uint64_t> end, ByteSink& sink) {
  std::array<char, kLogCopyBufferBytes> buffer;
  std::uint64_t position = offset;
  while (!end || position < *end) {
    std::size_t wanted = buffer.size();
    if (end) wanted = static_cast<std::size_t>(std::min<std::uint64_t>(wanted, *end - position));
    ssize_t n = ::pread(fd, buffer.data(), wanted, static_cast<off_t>(position));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::unexpected(Error::system("cannot read " + path.string(), errno));
    if (n == 0) break;  // the file shrank or ended
    auto written = sink.write(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
    if (!written) return std::unexpected(written.error());
    position += static_cast<std::uint64_t>(n);
  }
  return position - offset;
}

}  // namespace

std::expected<std::optional<std::int32_t>, Error> parse_status(std::string_view text, const std::string& path) {
  while (!text.empty() && static_cast<unsigned char>(text.front()) <= ' ') text.remove_prefix(1);
  while (!text.empty() && static_cast<unsigned char>(text.back()) <= ' ') text.remove_suffix(1);
  if (text.empty()) return std::nullopt;

  auto value = parse_java_long(text);
  if (!value) {
    return std::unexpected(Error::io("corrupted content in " + path + ": " + number_format_message(text)));
  }
  std::int64_t clamped = std::min<std::int64_t>(*value, std::numeric_limits<std::int32_t>::max());
  // Java's (int) cast keeps the low 32 bits of values below Integer.MIN_VALUE.
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(static_cast<std::uint64_t>(clamped) & 0xFFFFFFFFu));
}

std::expected<std::optional<std::int32_t>, Error> status_check(const std::filesystem::path& result_file) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(result_file, ec);
  if (ec || size == 0) return std::nullopt;
  auto text = read_small_file(result_file);
  if (!text) {
    if (text.error().errno_value == ENOENT) return std::nullopt;  // removed since the size check
    return std::unexpected(text.error());
  }
  return parse_status(*text, result_file.string());
}

std::expected<std::uint64_t, Error> write_log(const std::filesystem::path& log_file, std::uint64_t last_location,
                                              ByteSink& sink) {
  UniqueFd fd(::open(log_file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) return 0;  // File.length() of a missing file is 0
    return std::unexpected(Error::system("cannot open " + log_file.string(), errno));
  }
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) return std::unexpected(Error::system("cannot stat " + log_file.string(), errno));
  const auto length = static_cast<std::uint64_t>(info.st_size);
  if (length <= last_location) return 0;
  return send_range(fd.get(), log_file, last_location, length, sink);
}

std::expected<std::uint64_t, Error> copy_to_end(const std::filesystem::path& log_file, std::uint64_t offset,
                                                ByteSink& sink) {
  UniqueFd fd(::open(log_file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) return offset;
    return std::unexpected(Error::system("cannot open " + log_file.string(), errno));
  }
  auto sent = send_range(fd.get(), log_file, offset, std::nullopt, sink);
  if (!sent) return std::unexpected(sent.error());
  return offset + *sent;
}

bool needs_transcoding(const std::optional<std::string>& charset) {
  if (!charset) return false;
  std::string upper;
  for (char c : *charset) upper += static_cast<char>((c >= 'a' && c <= 'z') ? c - 'a' + 'A' : c);
  return upper != "UTF-8" && upper != "UTF8";
}

std::expected<std::unique_ptr<Utf8TranscodingSink>, Error> Utf8TranscodingSink::open(const std::string& charset,
                                                                                   ByteSink& target) {
  iconv_t converter = ::iconv_open("UTF-8", charset.c_str());
  if (converter == reinterpret_cast<iconv_t>(-1)) {
    return std::unexpected(Error::invalid("unsupported charset " + charset + " for transcoding to UTF-8"));
  }
  return std::unique_ptr<Utf8TranscodingSink>(new Utf8TranscodingSink(converter, target));
}

Utf8TranscodingSink::~Utf8TranscodingSink() { ::iconv_close(static_cast<iconv_t>(converter_)); }

std::expected<void, Error> Utf8TranscodingSink::write(std::string_view bytes) {
  pending_.append(bytes);
  return convert(false);
}

std::expected<void, Error> Utf8TranscodingSink::finish() { return convert(true); }

std::expected<void, Error> Utf8TranscodingSink::convert(bool at_end) {
  std::string output;
  output.reserve(pending_.size() + 16);
  char* in = pending_.data();
  std::size_t in_left = pending_.size();
  std::array<char, 8192> buffer;
  while (in_left > 0) {
    char* out = buffer.data();
    std::size_t out_left = buffer.size();
    const std::size_t result = ::iconv(static_cast<iconv_t>(converter_), &in, &in_left, &out, &out_left);
    output.append(buffer.data(), buffer.size() - out_left);
    if (result != static_cast<std::size_t>(-1) || errno == E2BIG) continue;
    // An incomplete sequence at the end waits for its next bytes unless the input ends here.
    if (errno == EINVAL && !at_end) break;
    output += "\xEF\xBF\xBD";
    ++in;
    --in_left;
  }
  pending_.erase(0, pending_.size() - in_left);
  if (output.empty()) return {};
  return target_.write(output);
}

std::expected<std::string, Error> transcode_to_utf8(std::string data, const std::optional<std::string>& charset) {
  if (!needs_transcoding(charset)) return data;

  iconv_t converter = ::iconv_open("UTF-8", charset->c_str());
  if (converter == reinterpret_cast<iconv_t>(-1)) {
    return std::unexpected(Error::invalid("unsupported charset " + *charset + " for transcoding to UTF-8"));
  }
  std::string output;
  output.reserve(data.size());
  char* in = data.data();
  std::size_t in_left = data.size();
  std::array<char, 8192> buffer;
  while (in_left > 0) {
    char* out = buffer.data();
    std::size_t out_left = buffer.size();
    const std::size_t result = ::iconv(converter, &in, &in_left, &out, &out_left);
    output.append(buffer.data(), buffer.size() - out_left);
    if (result != static_cast<std::size_t>(-1)) continue;
    if (errno == E2BIG) continue;
    // Malformed or truncated input: one U+FFFD per bad byte.
    // NOTE: Java may replace a longer malformed sequence with a single U+FFFD.
    output += "\xEF\xBF\xBD";
    ++in;
    --in_left;
  }
  ::iconv_close(converter);
  return output;
}

std::expected<std::string, Error> get_output(const std::filesystem::path& output_file,
                                             const std::optional<std::string>& charset) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(output_file, ec);
  if (ec) return std::unexpected(Error::system("cannot read " + output_file.string(), ec.value()));
  if (size > kMaxOutputBytes) {
    return std::unexpected(Error::io(output_file.string() + " is " + std::to_string(size) +
                                     " bytes, more than the maximum of " + std::to_string(kMaxOutputBytes) +
                                     " Kite returns at once; write large output to a file instead of returnStdout"));
  }
  std::ifstream in(output_file, std::ios::binary);
  if (!in) return std::unexpected(Error::system("cannot open " + output_file.string(), errno));
  std::string data(static_cast<std::size_t>(size), '\0');
  in.read(data.data(), static_cast<std::streamsize>(size));
  data.resize(static_cast<std::size_t>(in.gcount()));
  return transcode_to_utf8(std::move(data), charset);
}

std::expected<std::optional<std::uint64_t>, Error> read_last_location(const std::filesystem::path& file) {
  auto text = read_small_file(file);
  if (!text) {
    if (text.error().errno_value == ENOENT) return std::nullopt;
    return std::unexpected(text.error());
  }
  auto value = parse_java_long(*text);
  if (!value || *value < 0) {
    return std::unexpected(Error::io("invalid offset in " + file.string() + ": " + number_format_message(*text)));
  }
  return static_cast<std::uint64_t>(*value);
}

std::expected<void, Error> write_last_location(const std::filesystem::path& file, std::uint64_t location) {
  // Written to a temporary file and renamed, so a crash never leaves a torn number.
  const auto temporary = file.string() + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << location;
    if (!out) return std::unexpected(Error::system("cannot write " + temporary, errno));
  }
  std::error_code ec;
  std::filesystem::rename(temporary, file, ec);
  if (ec) return std::unexpected(Error::system("cannot rename " + temporary, ec.value()));
  return {};
}

}  // namespace kite::durable
