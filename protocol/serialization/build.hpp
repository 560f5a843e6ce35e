// Builders for graphs Kite writes: class descriptors from a spec, proxy
// descriptors, objects with default field values, enum constants, and the
// primitive data of custom writeObject methods.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/serialization/value.hpp"

namespace kite::ser {

struct FieldSpec {
  char type = 'I';        // B C D F I J S Z L [
  std::string name;
  std::string signature;  // JVM descriptor for L and [ ("Ljava/lang/String;", "[B")
};

struct ClassSpec {
  std::string name;
  std::int64_t svuid = 0;
  std::uint8_t flags = kScSerializable;
  std::vector<FieldSpec> fields;
  const ClassDesc* super = nullptr;
  // Sort the fields as ObjectStreamClass does (primitives first, then by
  // name in UTF-16 order). Clear to keep the given order.
  bool sort_fields = true;
};

// Signature strings are interned process-wide, as the JVM interns them, so
// equal signatures in one stream are written once and then referenced.
const JString* intern_signature(std::string_view signature);

ClassDesc* make_class_desc(Arena& arena, const ClassSpec& spec);
// TC_PROXYCLASSDESC for the interfaces; super is java.lang.reflect.Proxy.
ClassDesc* make_proxy_desc(Arena& arena, std::vector<std::string> interfaces);
// The java.lang.reflect.Proxy descriptor (svuid -2222568056686623797, field h).
const ClassDesc* proxy_super_desc();
// A proxy object whose invocation handler field `h` is `handler`.
Object* make_proxy(Arena& arena, std::vector<std::string> interfaces, Value handler);

// An object of the descriptor's class: one ClassData per serializable class,
// top-most first, with every field at its zero value (0, false, null).
Object* make_object(Arena& arena, const ClassDesc* desc);

// Array descriptor ("[B", "[Ljava.lang.String;") with svuid; flags 0x02, no fields.
ClassDesc* make_array_desc(Arena& arena, std::string name, std::int64_t svuid);
Array* make_object_array(Arena& arena, const ClassDesc* desc, std::vector<Value> elements);
Array* make_primitive_array(Arena& arena, const ClassDesc* desc, std::span<const std::uint8_t> raw);

// Enum class descriptor (svuid 0, flags 0x12) with java.lang.Enum as super,
// and a constant of it.
ClassDesc* make_enum_desc(Arena& arena, std::string class_name);
const ClassDesc* enum_base_desc();
EnumConstant* make_enum_constant(Arena& arena, const ClassDesc* enum_desc, std::string_view constant);

// Big-endian primitive data as DataOutput writes it, for custom writeObject
// data and annotations: `BlockBuilder().write_int(4).write_bool(true).build()`.
class BlockBuilder {
 public:
  BlockBuilder& write_bool(bool v);
  BlockBuilder& write_byte(std::int8_t v);
  BlockBuilder& write_char(char16_t v);
  BlockBuilder& write_short(std::int16_t v);
  BlockBuilder& write_int(std::int32_t v);
  BlockBuilder& write_long(std::int64_t v);
  BlockBuilder& write_float(float v);
  BlockBuilder& write_double(double v);
  BlockBuilder& write_bytes(std::span<const std::uint8_t> v);
  // DataOutput.writeUTF: 2-byte length and modified UTF-8.
  BlockBuilder& write_utf(std::string_view utf8);
  BlockData build() { return BlockData{std::move(bytes_)}; }
  const std::vector<std::uint8_t>& bytes() const { return bytes_; }

 private:
  std::vector<std::uint8_t> bytes_;
};

// Big-endian reader over block data, for readObject-style parsing of custom
// data. Each method returns nullopt when the data is exhausted. The reader
// keeps its own copy of the bytes.
class BlockReader {
 public:
  explicit BlockReader(std::span<const std::uint8_t> data) : data_(data.begin(), data.end()) {}
  // The consecutive block data records at the front of `contents`, joined.
  explicit BlockReader(const std::vector<Content>& contents) : data_(join(contents)) {}
  // All consecutive block data records at the front of `contents`, joined.
  static std::vector<std::uint8_t> join(const std::vector<Content>& contents);

  std::optional<bool> read_bool();
  std::optional<std::int8_t> read_byte();
  std::optional<char16_t> read_char();
  std::optional<std::int16_t> read_short();
  std::optional<std::int32_t> read_int();
  std::optional<std::int64_t> read_long();
  std::optional<float> read_float();
  std::optional<double> read_double();
  std::size_t remaining() const { return data_.size() - pos_; }

 private:
  std::vector<std::uint8_t> data_;
  std::size_t pos_ = 0;
};

}  // namespace kite::ser
