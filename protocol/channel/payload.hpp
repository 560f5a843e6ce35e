// Nested payloads (the byte[] inside UserRequest and its responses) and the
// Java exceptions Kite sends back.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "protocol/serialization/error.hpp"
#include "protocol/serialization/value.hpp"

namespace kite::channel {

// A value to send, with the arena that owns its nodes. The value may also
// point at nodes of the request being answered (to echo a received class
// descriptor); the channel keeps the request alive until the reply is written.
struct ReturnValue {
  ser::Value value;
  std::shared_ptr<ser::Arena> arena;
};

// A Java exception to throw on the controller. `class_name` must be a class
// with a built-in descriptor (ser::jdk::throwable_classes()), for example
// java.io.IOException, java.lang.InterruptedException,
// java.nio.file.NoSuchFileException, hudson.AbortException.
struct JavaException {
  JavaException() = default;
  JavaException(std::string java_class, std::string text, std::vector<std::pair<std::string, std::string>> fields = {})
      : class_name(std::move(java_class)), message(std::move(text)), string_fields(std::move(fields)) {}

  std::string class_name = "java.io.IOException";
  std::string message;
  // Extra fields of subclasses, e.g. {"file", "/x"} for NoSuchFileException (strings only).
  std::vector<std::pair<std::string, std::string>> string_fields;
  // Extra int fields of subclasses, e.g. {"inputLength", 1} for MalformedInputException.
  std::vector<std::pair<std::string, std::int32_t>> int_fields;
  // When true, Throwable.detailMessage is `detail_message` (null when empty)
  // instead of `message`. For exceptions whose getMessage() Java builds from
  // fields: FileSystemException (file, other, reason), MalformedInputException
  // (inputLength). `message` stays the getMessage() text for the ProxyException.
  bool own_detail_message = false;
  std::optional<std::string> detail_message;
  // Throwable.getCause(), when the exception has one.
  std::shared_ptr<const JavaException> cause;

  std::string describe() const { return message.empty() ? class_name : class_name + ": " + message; }
};

// Writes `value` as a MultiClassLoaderSerializer payload: java.* classes and
// arrays of them name the system loader (-3); every other class and every
// proxy names the controller's loader `loader_oid` as TAG_LOCAL (-1), which is
// how remoting expects an answer about classes the controller sent. With
// loader_oid 0 every class names the system loader.
ser::Result<std::vector<std::uint8_t>> write_payload(const ser::Value& value, std::int32_t loader_oid);

// The two payloads of an ExceptionResponse: the exception itself and its
// hudson.remoting.ProxyException copy ("<class>: <message>").
struct ExceptionPayloads {
  std::optional<std::vector<std::uint8_t>> raw;
  std::vector<std::uint8_t> proxy;
};
ExceptionPayloads write_exception_payloads(const JavaException& exception);

// A Throwable graph for `exception` in `arena` (used at command level, e.g.
// as Response.exception of a bare RPCRequest).
ser::Value make_throwable(ser::Arena& arena, const JavaException& exception);

// Loader to name when answering a callable: the resolved loader oid of the
// descriptor (tag -2 or -1) or, failing that, `fallback`.
std::int32_t loader_oid_of(const ser::ClassDesc* desc, std::int32_t fallback);

}  // namespace kite::channel
