// Comparing Kite's responses with the Java agent's recorded ones: the type
// structure of a value, its printable leaf, and the reply inside a Response.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "protocol/channel/commands.hpp"
#include "protocol/serialization/value.hpp"

namespace kite::channel::test {

// Type structure of a value: classes, serialVersionUIDs, fields and loader
// tags, recursively down to `depth`, without the values of primitives and
// strings. Proxies print as "proxy" with their interfaces. Without
// `remoting_loaders`, the loader tags of remoting's own classes
// (hudson.remoting.*) are left out.
std::string shape(const ser::Value& value, int depth, bool remoting_loaders = true);

// Printable value of a leaf (null, String, Boolean, a number), or its class name.
std::string leaf(const ser::Value& value);

// The value or exception a UserRequest's Response carries.
struct Reply {
  bool exception = false;
  ser::Stream payload;  // NormalResponse.response, or ExceptionResponse.rawResponse
  ser::Value value() const { return payload.values().empty() ? ser::Value() : payload.values()[0]; }
};

// Decodes a Response to a UserRequest; nullopt for any other command or a damaged payload.
std::optional<Reply> reply_of(const std::vector<std::uint8_t>& bytes);

// Request id of a Response command; nullopt for other commands.
std::optional<std::int32_t> response_id(const std::vector<std::uint8_t>& bytes);

// Class of the callable in a UserRequest, looking through FilePath's
// wrappers to the FileCallable, or "?" when the payload does not decode.
std::string callable_class(const UserRequestCmd& request);

}  // namespace kite::channel::test
