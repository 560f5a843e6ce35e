// hudson.remoting.Capability as it travels in the X-Remoting-Capability
// header: standard base64 of a 62-byte Java serialization stream holding one
// object with a single long field, the capability mask.
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

namespace kite::transport {

// Returns the header value for `mask` (for 0x1FE the same text remoting's
// Capability.toASCII() produces).
std::string encode_capability_header(std::uint64_t mask);

// Parses a header value. Only the exact serialized form of a Capability is
// accepted; any mask value is.
std::expected<std::uint64_t, std::string> parse_capability_header(std::string_view value);

// Standard base64 (RFC 4648, padded) without line breaks.
std::string base64_encode(std::string_view bytes);
std::expected<std::string, std::string> base64_decode(std::string_view text);

}  // namespace kite::transport
