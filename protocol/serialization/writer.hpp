// Writer of Java Object Serialization streams, byte-compatible with the
// JDK's ObjectOutputStream, so the same graph gives the same bytes. That
// covers handles, TC_REFERENCE on repeated nodes, field order as in each
// descriptor, block data records of at most 1024 bytes and TC_LONGSTRING
// from 65536 encoded bytes.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <unordered_map>
#include <vector>

#include "protocol/serialization/error.hpp"
#include "protocol/serialization/value.hpp"

namespace kite::ser {

// The class loader a nested payload names for a class (MultiClassLoaderSerializer).
struct LoaderRef {
  enum class Kind { System, Exported, Local };
  Kind kind = Kind::System;
  std::int32_t oid = 0;  // export id, for Exported and Local

  static LoaderRef system() { return {Kind::System, 0}; }
  static LoaderRef local(std::int32_t oid) { return {Kind::Local, oid}; }
  static LoaderRef exported(std::int32_t oid) { return {Kind::Exported, oid}; }
  friend bool operator==(const LoaderRef&, const LoaderRef&) = default;
};

// Decides the class loader of each class descriptor written in a nested payload.
using LoaderPolicy = std::function<LoaderRef(const ClassDesc&)>;

enum class AnnotationMode {
  Stored,  // write ClassDesc::annotation as it is (re-encoding a read stream)
  Empty,   // write no annotation: a command-level stream (plain ObjectOutputStream)
  Loader,  // write a class-loader tag from WriterOptions::loader_policy
};

struct WriterOptions {
  AnnotationMode annotations = AnnotationMode::Stored;
  // Used with AnnotationMode::Loader. The writer turns the second and later
  // uses of the same Exported/Local loader into back-references by index,
  // as MultiClassLoaderSerializer does. Unset: every class is System (-3).
  LoaderPolicy loader_policy;
  bool write_header = true;  // AC ED 00 05
};

// Stateful writer: one instance per stream, so handles carry across calls.
class Writer {
 public:
  explicit Writer(WriterOptions options = {});

  // Write one top-level element (object, block data, reset, aborted write).
  Result<void> write(const Content& content);
  Result<void> write(const Value& value);
  // Top-level primitive data, split into records as the JDK does.
  Result<void> write_block_data(std::span<const std::uint8_t> bytes);
  // TC_RESET and a cleared handle table.
  void reset();

  const std::vector<std::uint8_t>& bytes() const { return out_; }
  std::vector<std::uint8_t> take() { return std::move(out_); }

 private:
  friend class WriterImpl;
  WriterOptions options_;
  std::vector<std::uint8_t> out_;
  std::unordered_map<const void*, std::int32_t> handles_;
  std::int32_t next_handle_ = kBaseHandle;
  std::vector<LoaderRef> loaders_;  // non-system loaders announced so far (index order)
  std::size_t depth_ = 0;
};

// Write a whole stream (header and contents).
Result<std::vector<std::uint8_t>> write_stream(const Stream& stream, const WriterOptions& options = {});
// Write a header and the given top-level values.
Result<std::vector<std::uint8_t>> write_values(std::span<const Value> values,
                                               const WriterOptions& options = {});

}  // namespace kite::ser
