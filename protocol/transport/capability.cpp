#include "protocol/transport/capability.hpp"

#include <array>

#include <fmt/format.h>

namespace kite::transport {

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Java serialization of a hudson.remoting.Capability up to (excluding) the
// 8-byte mask: stream header, TC_OBJECT, TC_CLASSDESC, class name,
// serialVersionUID 1, SC_SERIALIZABLE, one field "J mask", TC_ENDBLOCKDATA, TC_NULL.
constexpr std::string_view kCapabilityPrefix(
    "\xac\xed\x00\x05\x73\x72\x00\x1a"
    "hudson.remoting.Capability"
    "\x00\x00\x00\x00\x00\x00\x00\x01\x02\x00\x01\x4a\x00\x04"
    "mask"
    "\x78\x70",
    54);

int decode_char(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                       static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    const unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (rest == 2) {
    const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::expected<std::string, std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::unexpected(fmt::format("base64 text of {} characters is not a multiple of 4", text.size()));
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    int v[4];
    int padding = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = text[i + k];
      if (c == '=' && last && k >= 2) {
        v[k] = 0;
        ++padding;
        continue;
      }
      if (padding > 0) return std::unexpected(fmt::format("invalid base64 padding at offset {}", i + k));
      v[k] = decode_char(c);
      if (v[k] < 0) return std::unexpected(fmt::format("invalid base64 character at offset {}", i + k));
    }
    // Reject non-zero unused bits before the padding (RFC 4648 section 3.5),
    // so every accepted text is the canonical encoding of its bytes.
    if ((padding == 2 && (v[1] & 0x0f) != 0) || (padding == 1 && (v[2] & 0x03) != 0)) {
      return std::unexpected(fmt::format("non-canonical base64 padding at offset {}", i));
    }
    const unsigned bits = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    out += static_cast<char>((bits >> 16) & 0xff);
    if (padding < 2) out += static_cast<char>((bits >> 8) & 0xff);
    if (padding < 1) out += static_cast<char>(bits & 0xff);
  }
  return out;
}

std::string encode_capability_header(std::uint64_t mask) {
  std::string bytes(kCapabilityPrefix);
  for (int shift = 56; shift >= 0; shift -= 8) bytes += static_cast<char>((mask >> shift) & 0xff);
  return base64_encode(bytes);
}

std::expected<std::uint64_t, std::string> parse_capability_header(std::string_view value) {
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  if (value.size() > 200) return std::unexpected(fmt::format("capability header of {} characters is too long", value.size()));

  auto bytes = base64_decode(value);
  if (!bytes) return std::unexpected("capability header is not base64: " + bytes.error());
  if (bytes->size() != kCapabilityPrefix.size() + 8 || !bytes->starts_with(kCapabilityPrefix)) {
    return std::unexpected(fmt::format("capability header holds {} bytes that are not a serialized hudson.remoting.Capability",
                                       bytes->size()));
  }
  std::uint64_t mask = 0;
  for (std::size_t i = kCapabilityPrefix.size(); i < bytes->size(); ++i) {
    mask = (mask << 8) | static_cast<unsigned char>((*bytes)[i]);
  }
  return mask;
}

}  // namespace kite::transport
