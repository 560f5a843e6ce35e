// Modified UTF-8, the string encoding of DataOutput.writeUTF and of Java
// serialization: U+0000 is C0 80, and characters above U+FFFF are two
// 3-byte surrogate encodings (never 4-byte UTF-8).
//
// Mapping to UTF-8 for C++ callers: surrogate pairs become one 4-byte
// sequence, and a lone surrogate (valid in a Java String) becomes its 3-byte
// generalized UTF-8 form, so decode and encode round-trip every Java string.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kite::ser::mutf8 {

// Offset of the first malformed byte, or nullopt when `bytes` is valid modified
// UTF-8 as DataInputStream.readUTF accepts it (a raw 00 byte is accepted).
std::optional<std::size_t> find_invalid(std::string_view bytes);

// Modified UTF-8 to UTF-8. Input must be valid (see find_invalid).
std::string to_utf8(std::string_view mutf8);

// UTF-8 to modified UTF-8. Invalid UTF-8 input bytes become U+FFFD.
std::string from_utf8(std::string_view utf8);

// Modified UTF-8 to UTF-16 code units (for String.hashCode and compareTo).
std::u16string to_utf16(std::string_view mutf8);

// Number of UTF-16 code units.
std::size_t utf16_length(std::string_view mutf8);

}  // namespace kite::ser::mutf8
