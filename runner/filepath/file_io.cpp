// File contents: $Read, $ReadToString, $Write, $WritePipe, copyFrom,
// $CopyTo, $CopyToWithPermission, $Digest.
#include <fcntl.h>
#include <iconv.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "runner/filepath/fd.hpp"
#include "runner/filepath/file_ops.hpp"

namespace kite::filepath {
namespace {

using detail::UniqueFd;

constexpr std::size_t kBlockBytes = 64 * 1024;

std::string parent_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return {};
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Result<void> write_all(int fd, std::span<const std::byte> bytes, const std::string& path) {
  while (!bytes.empty()) {
    const ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return std::unexpected(io_error(std::strerror(errno), path, errno));
    }
    bytes = bytes.subspan(static_cast<std::size_t>(written));
  }
  return {};
}

Result<UniqueFd> open_for_reading(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return std::unexpected(nio_error(errno, path));
  return fd;
}

// Creates parent directories the way FilePath.mkdirs(File) does, then opens
// the file as Files.newOutputStream (create, truncate).
Result<UniqueFd> open_for_writing(const std::string& path) {
  const std::string parent = parent_of(path);
  if (!parent.empty()) {
    auto made = mkdirs(parent);
    if (!made) return std::unexpected(made.error());
  }
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666));
  if (!fd.valid()) return std::unexpected(nio_error(errno, path));
  return fd;
}

Result<std::uint64_t> stream_file(const std::string& path, const ByteSink& sink) {
  auto fd = open_for_reading(path);
  if (!fd) return std::unexpected(fd.error());
  std::vector<std::byte> buffer(kBlockBytes);
  std::uint64_t total = 0;
  while (true) {
    const ssize_t got = ::read(fd->get(), buffer.data(), buffer.size());
    if (got < 0) {
      if (errno == EINTR) continue;
      return std::unexpected(io_error(std::strerror(errno), path, errno));
    }
    if (got == 0) break;
    auto sent = sink(std::span<const std::byte>(buffer.data(), static_cast<std::size_t>(got)));
    if (!sent) return std::unexpected(sent.error());
    total += static_cast<std::uint64_t>(got);
  }
  return total;
}

// Length of the valid UTF-8 sequence at the start of `text`, or 0 when it is
// malformed (overlong forms, surrogates and values above U+10FFFF included),
// following the rules of Java's UTF-8 decoder.
std::size_t utf8_sequence_length(std::string_view text) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(0);
  if (lead < 0x80) return 1;
  std::size_t length = 0;
  std::uint32_t value = 0;
  if ((lead & 0xE0) == 0xC0) {
    length = 2;
    value = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3;
    value = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4;
    value = lead & 0x07;
  } else {
    return 0;
  }
  if (text.size() < length) return 0;
  for (std::size_t i = 1; i < length; ++i) {
    if ((byte(i) & 0xC0) != 0x80) return 0;
    value = (value << 6) | (byte(i) & 0x3F);
  }
  static constexpr std::array<std::uint32_t, 5> kMinimum = {0, 0, 0x80, 0x800, 0x10000};
  if (value < kMinimum[length] || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) return 0;
  return length;
}

// The "Input length" that Java 17's Files.readString reports for the
// malformed sequence at the start of `text`, as String's UTF-8 decoder
// computes it. A three-byte lead followed by two bytes gives 3, followed by
// one bad byte 2. A four-byte lead followed by three bytes gives 4. Anything
// else gives 1. The FilePath end-to-end test compares this with the JDK.
std::size_t java_malformed_length(std::string_view text) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(0);
  if (lead >= 0xE0 && lead <= 0xEF) {
    if (text.size() >= 3) return 3;
    const bool overlong = lead == 0xE0 && (byte(1) & 0xE0) == 0x80;
    if (text.size() == 2 && (overlong || (byte(1) & 0xC0) != 0x80)) return 2;
    return 1;
  }
  if (lead >= 0xF0 && lead <= 0xF7 && text.size() >= 4) return 4;
  return 1;
}

struct IconvCloser {
  void operator()(void* handle) const { iconv_close(static_cast<iconv_t>(handle)); }
};

// The iconv equivalent of a Java charset: the iconv name and the byte order
// mark Java writes before the first character.
struct CharsetPlan {
  std::string iconv_name;
  std::string byte_order_mark;
};

std::string upper(std::string_view text) {
  std::string result(text);
  std::transform(result.begin(), result.end(), result.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return result;
}

CharsetPlan plan_charset(std::string_view java_name) {
  const std::string name = upper(java_name);
  // Java's UTF-16 encoder writes big-endian with a BOM, iconv's writes the
  // host order; Java's UTF-32 writes big-endian without a BOM.
  if (name == "UTF-16" || name == "UTF_16" || name == "UNICODEBIG" || name == "UNICODE") {
    return {"UTF-16BE", "\xFE\xFF"};
  }
  if (name == "X-UTF-16LE-BOM" || name == "UNICODELITTLE") return {"UTF-16LE", "\xFF\xFE"};
  if (name == "UNICODEBIGUNMARKED") return {"UTF-16BE", ""};
  if (name == "UNICODELITTLEUNMARKED") return {"UTF-16LE", ""};
  if (name == "UTF-32" || name == "UTF_32") return {"UTF-32BE", ""};
  if (name == "X-UTF-32BE-BOM") return {"UTF-32BE", std::string("\x00\x00\xFE\xFF", 4)};
  if (name == "X-UTF-32LE-BOM") return {"UTF-32LE", std::string("\xFF\xFE\x00\x00", 4)};
  return {std::string(java_name), ""};
}

}  // namespace

Result<std::uint64_t> read(const std::string& path, const ByteSink& sink) { return stream_file(path, sink); }

Result<std::string> read_to_string(const std::string& path) {
  std::string text;
  auto copied = stream_file(path, [&](std::span<const std::byte> bytes) -> Result<void> {
    text.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    return {};
  });
  if (!copied) return std::unexpected(copied.error());
  std::string_view rest = text;
  while (!rest.empty()) {
    const std::size_t length = utf8_sequence_length(rest);
    if (length == 0) {
      const std::string message = "Input length = " + std::to_string(java_malformed_length(rest));
      Error error{JavaException::MalformedInputException, message, path, 0, nullptr};
      return std::unexpected(std::move(error));
    }
    rest.remove_prefix(length);
  }
  return text;
}

Result<std::string> encode_text(std::string_view content_utf8, std::string_view encoding) {
  const CharsetPlan plan = plan_charset(encoding);
  iconv_t raw = iconv_open(plan.iconv_name.c_str(), "UTF-8");
  if (raw == reinterpret_cast<iconv_t>(-1)) {
    // Java accepts "ISO8859_1"-style aliases that iconv spells with '-'.
    std::string dashed = plan.iconv_name;
    std::replace(dashed.begin(), dashed.end(), '_', '-');
    raw = iconv_open(dashed.c_str(), "UTF-8");
  }
  if (raw == reinterpret_cast<iconv_t>(-1)) {
    Error error{JavaException::UnsupportedEncodingException, std::string(encoding), {}, errno, nullptr};
    return std::unexpected(std::move(error));
  }
  std::unique_ptr<void, IconvCloser> converter(raw);

  // The replacement Java's encoders use for unmappable input, in the target charset.
  std::string replacement;
  {
    std::array<char, 16> out{};
    char question = '?';
    char* in_ptr = &question;
    std::size_t in_left = 1;
    char* out_ptr = out.data();
    std::size_t out_left = out.size();
    if (iconv(raw, &in_ptr, &in_left, &out_ptr, &out_left) != static_cast<std::size_t>(-1)) {
      replacement.assign(out.data(), out.size() - out_left);
    }
    iconv(raw, nullptr, nullptr, nullptr, nullptr);
  }

  std::string output = content_utf8.empty() ? std::string() : plan.byte_order_mark;
  std::vector<char> buffer(4 * content_utf8.size() + 16);
  std::string input(content_utf8);
  char* in_ptr = input.data();
  std::size_t in_left = input.size();
  while (in_left > 0) {
    char* out_ptr = buffer.data();
    std::size_t out_left = buffer.size();
    const std::size_t status = iconv(raw, &in_ptr, &in_left, &out_ptr, &out_left);
    output.append(buffer.data(), buffer.size() - out_left);
    if (status != static_cast<std::size_t>(-1)) break;
    if (errno == E2BIG) continue;
    // EILSEQ or EINVAL: an unmappable or malformed character; skip it and
    // write the replacement, as OutputStreamWriter does.
    const std::size_t length = utf8_sequence_length(std::string_view(in_ptr, in_left));
    const std::size_t skip = std::max<std::size_t>(length, 1);
    in_ptr += skip;
    in_left -= skip;
    output += replacement;
  }
  char* out_ptr = buffer.data();
  std::size_t out_left = buffer.size();
  iconv(raw, nullptr, nullptr, &out_ptr, &out_left);
  output.append(buffer.data(), buffer.size() - out_left);
  return output;
}

Result<void> write(const std::string& path, std::string_view content_utf8, std::optional<std::string_view> encoding) {
  auto fd = open_for_writing(path);
  if (!fd) return std::unexpected(fd.error());
  // The agent's default charset is UTF-8 (DetectDefaultCharset reports it).
  auto bytes = encode_text(content_utf8, encoding.value_or("UTF-8"));
  if (!bytes) return std::unexpected(bytes.error());
  return write_all(fd->get(), std::as_bytes(std::span(bytes->data(), bytes->size())), path);
}

Result<FileWriter> FileWriter::open(const std::string& path) {
  auto fd = open_for_writing(path);
  if (!fd) return std::unexpected(fd.error());
  return FileWriter(fd->release(), path);
}

FileWriter::FileWriter(FileWriter&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}

FileWriter& FileWriter::operator=(FileWriter&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
  }
  return *this;
}

FileWriter::~FileWriter() {
  if (fd_ >= 0) ::close(fd_);
}

Result<void> FileWriter::write(std::span<const std::byte> bytes) {
  if (fd_ < 0) return std::unexpected(io_error("Stream Closed", path_));
  return write_all(fd_, bytes, path_);
}

Result<void> FileWriter::close() {
  if (fd_ < 0) return {};
  const int fd = std::exchange(fd_, -1);
  if (::close(fd) != 0) return std::unexpected(io_error(std::strerror(errno), path_, errno));
  return {};
}

Result<std::uint64_t> copy_from(const std::string& path, const ByteSource& source) {
  auto writer = FileWriter::open(path);
  if (!writer) return std::unexpected(writer.error());
  std::vector<std::byte> buffer(kBlockBytes);
  std::uint64_t total = 0;
  while (true) {
    auto got = source(buffer);
    if (!got) return std::unexpected(got.error());
    if (*got == 0) break;
    auto written = writer->write(std::span<const std::byte>(buffer.data(), *got));
    if (!written) return std::unexpected(written.error());
    total += *got;
  }
  auto closed = writer->close();
  if (!closed) return std::unexpected(closed.error());
  return total;
}

Result<std::uint64_t> copy_to(const std::string& path, const ByteSink& sink) { return stream_file(path, sink); }

Result<void> copy_to_with_permission(const std::string& path, const std::string& target) {
  struct stat source_stat {};
  if (stat(path.c_str(), &source_stat) != 0) return std::unexpected(nio_error(errno, path));
  auto writer = FileWriter::open(target);
  if (!writer) return std::unexpected(writer.error());
  auto copied = stream_file(path, [&](std::span<const std::byte> bytes) { return writer->write(bytes); });
  if (!copied) return std::unexpected(copied.error());
  auto closed = writer->close();
  if (!closed) return std::unexpected(closed.error());
  if (::chmod(target.c_str(), source_stat.st_mode & 07777) != 0) return std::unexpected(nio_error(errno, target));
  const struct timespec times[2] = {source_stat.st_atim, source_stat.st_mtim};
  if (utimensat(AT_FDCWD, target.c_str(), times, 0) != 0) return std::unexpected(nio_error(errno, target));
  return {};
}

Result<std::string> digest(const std::string& path) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!context || EVP_DigestInit_ex(context.get(), EVP_md5(), nullptr) != 1) {
    return std::unexpected(io_error("MD5 not installed", path));
  }
  auto hashed = stream_file(path, [&](std::span<const std::byte> bytes) -> Result<void> {
    EVP_DigestUpdate(context.get(), bytes.data(), bytes.size());
    return {};
  });
  if (!hashed) return std::unexpected(hashed.error());
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int md_length = 0;
  EVP_DigestFinal_ex(context.get(), md.data(), &md_length);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < md_length; ++i) {
    hex += kHex[md[i] >> 4];
    hex += kHex[md[i] & 0x0F];
  }
  return hex;
}

}  // namespace kite::filepath
