// Reader of Java Object Serialization streams.
//
// read_stream() parses a whole stream (magic, version, contents) into a
// Stream. It never trusts a length: every count and size is checked against
// the bytes that remain before anything is allocated. Nesting depth and the
// number of handles are bounded. Each failure is an Error with the byte
// offset at which it was detected.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "protocol/serialization/error.hpp"
#include "protocol/serialization/value.hpp"

namespace kite::ser {

struct ReaderOptions {
  // Maximum nesting of objects, arrays, descriptors and annotations.
  std::size_t max_depth = 512;
  // Maximum number of handles (objects, strings, descriptors...) per stream.
  std::size_t max_handles = 4'000'000;
  // Decode each class annotation as a MultiClassLoaderSerializer tag into
  // ClassDesc::loader / resolved_loader (nested remoting payloads).
  bool multi_class_loader = false;
  // Classes whose writeObject writes custom data without calling
  // defaultWriteObject although their descriptor lists fields. Their fields
  // are never read. Other classes with SC_WRITE_METHOD are detected from the
  // bytes, see docs/serialization.md ("Fields absent from custom data").
  std::vector<std::string> classes_without_default_fields = {
      "hudson.remoting.Pipe",
      "hudson.remoting.RemoteInputStream",
      "hudson.util.StreamTaskListener",
  };
};

// Parse a whole stream: AC ED 00 05 followed by contents up to the end of input.
Result<Stream> read_stream(std::span<const std::uint8_t> bytes, const ReaderOptions& options = {});

// Parse a nested remoting payload (the byte[] inside UserRequest or
// UserResponse): read_stream with multi_class_loader set.
Result<Stream> read_payload(std::span<const std::uint8_t> bytes, ReaderOptions options = {});

// Decode the class-loader tag of a descriptor annotation: block data of 4
// bytes (tag -3 or an index) or 8 bytes (tag -2/-1 and an oid). nullopt when
// the annotation has another shape.
std::optional<LoaderTag> decode_loader_tag(const std::vector<Content>& annotation);

}  // namespace kite::ser
