// Object model of a Java Object Serialization stream (protocol version 2,
// stream version 5), as ObjectOutputStream writes it and remoting sends it.
//
// Ownership: every node with a stream handle (class descriptor, string,
// object, array, enum constant, class object) lives in an Arena, and values
// point at nodes with plain `const T*`. Cyclic graphs (a Throwable whose
// cause is itself, a child that points at its parent) therefore need no
// reference counting. A node stays valid while its Arena lives. A Stream
// keeps its Arena through a shared_ptr, so copying the Stream (or keeping the
// shared_ptr) keeps every node it returned alive. Graphs that Kite builds use
// an Arena of their own, and may point at nodes of a received Stream (to echo
// a received class descriptor) as long as that Stream outlives the write.
//
// Identity: the writer emits TC_REFERENCE when it meets the same node pointer
// twice in one stream, exactly as ObjectOutputStream does for the same Java
// object. Two equal strings in different JString nodes are written twice.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace kite::ser {

// ---------------------------------------------------------------- constants

inline constexpr std::uint16_t kStreamMagic = 0xACED;
inline constexpr std::uint16_t kStreamVersion = 5;
inline constexpr std::int32_t kBaseHandle = 0x7E0000;

// Token bytes (Java Object Serialization Specification, section 6.4.2).
enum class Token : std::uint8_t {
  Null = 0x70,
  Reference = 0x71,
  ClassDesc = 0x72,
  Object = 0x73,
  String = 0x74,
  Array = 0x75,
  Class = 0x76,
  BlockData = 0x77,
  EndBlockData = 0x78,
  Reset = 0x79,
  BlockDataLong = 0x7A,
  Exception = 0x7B,
  LongString = 0x7C,
  ProxyClassDesc = 0x7D,
  Enum = 0x7E,
};

// Class descriptor flags.
inline constexpr std::uint8_t kScWriteMethod = 0x01;
inline constexpr std::uint8_t kScSerializable = 0x02;
inline constexpr std::uint8_t kScExternalizable = 0x04;
inline constexpr std::uint8_t kScBlockData = 0x08;
inline constexpr std::uint8_t kScEnum = 0x10;

// Class-loader tags that remoting's MultiClassLoaderSerializer writes with
// writeInt into the annotation of every class descriptor of a nested payload.
// A tag n >= 0 refers to the n-th non-system loader announced in the payload.
inline constexpr std::int32_t kTagSystemClassLoader = -3;
inline constexpr std::int32_t kTagExportedClassLoader = -2;
inline constexpr std::int32_t kTagLocalClassLoader = -1;

// ------------------------------------------------------------------ nodes

struct JString;
struct ClassDesc;
struct Object;
struct Array;
struct EnumConstant;
struct ClassObject;

// java null, the value of a null reference.
struct Null {
  friend bool operator==(Null, Null) { return true; }
};

// One value: a primitive (field or array element) or a reference to a node.
// `const ClassDesc*` appears only when a stream contains a bare descriptor
// (readObject returning an ObjectStreamClass).
class Value {
 public:
  using Storage = std::variant<Null, bool, std::int8_t, char16_t, std::int16_t, std::int32_t,
                               std::int64_t, float, double, const JString*, const Object*,
                               const Array*, const EnumConstant*, const ClassObject*,
                               const ClassDesc*>;

  Value() = default;
  template <class T>
    requires std::is_constructible_v<Storage, T>
  Value(T v) : storage_(v) {}  // NOLINT: implicit on purpose, values are variants.

  const Storage& storage() const { return storage_; }
  bool is_null() const { return std::holds_alternative<Null>(storage_); }
  bool is_primitive() const;

  // Typed accessors. Each returns nullopt / nullptr when the value has another
  // type. as_int, as_long, as_bool and friends also unwrap the boxed forms
  // (java.lang.Integer and so on) so callers need not care which one arrived.
  std::optional<bool> as_bool() const;
  std::optional<std::int8_t> as_byte() const;
  std::optional<char16_t> as_char() const;
  std::optional<std::int16_t> as_short() const;
  std::optional<std::int32_t> as_int() const;
  std::optional<std::int64_t> as_long() const;  // also accepts int, short, byte
  std::optional<float> as_float() const;
  std::optional<double> as_double() const;
  // Decoded string (UTF-8; lone surrogates as 3-byte sequences).
  std::optional<std::string> as_string() const;
  const JString* as_jstring() const;
  const Object* as_object() const;
  const Array* as_array() const;
  const EnumConstant* as_enum() const;
  const ClassObject* as_class() const;
  const ClassDesc* as_class_desc() const;
  // The bytes of a byte[] value.
  std::optional<std::span<const std::uint8_t>> as_bytes() const;

  // Class name of the referenced node: the object's class, "[B" for arrays,
  // "java.lang.String" for strings, the enum class; empty for null/primitives.
  std::string_view class_name() const;

  friend bool operator==(const Value&, const Value&) = default;  // identity for nodes

 private:
  Storage storage_{Null{}};
};

// One record of primitive data (TC_BLOCKDATA / TC_BLOCKDATALONG).
struct BlockData {
  std::vector<std::uint8_t> bytes;
  // Set by the reader: write this as exactly one record with the header form
  // that was read. Unset (built by Kite): write as the JDK does, splitting the
  // bytes into records of at most 1024 bytes.
  bool recorded = false;
  bool long_header = false;  // TC_BLOCKDATALONG although short would fit
  std::uint32_t offset = 0;  // byte offset of the record header, when read
};

// TC_RESET at the top level of a stream.
struct Reset {
  std::uint32_t offset = 0;
};

// A top-level writeObject that failed in the writer: the bytes it had
// written before failing (opaque: a partial object graph), then TC_EXCEPTION
// and the Throwable, read with a cleared handle table. The JDK reader throws
// WriteAbortedException for it.
struct Aborted {
  std::vector<std::uint8_t> partial;
  Value exception;
  std::uint32_t offset = 0;  // offset of the TC_EXCEPTION byte
};

// An element of the contents of a stream, of a class annotation, of custom
// writeObject data or of externalizable data: an object or a block-data
// record. Reset and Aborted appear only at the top level of a stream.
using Content = std::variant<Value, BlockData, Reset, Aborted>;

// Field of a class descriptor. `type` is the JVM type code: B C D F I J S Z
// for primitives, L for objects, [ for arrays.
struct FieldDesc {
  char type = 'I';
  std::string name;
  const JString* signature = nullptr;  // "Ljava/lang/String;" for L and [, else null

  bool is_primitive() const { return type != 'L' && type != '['; }
  std::size_t primitive_size() const;  // 0 for L and [
  std::string signature_string() const;
};

// A class-loader reference as written by MultiClassLoaderSerializer.
struct LoaderTag {
  std::int32_t tag = kTagSystemClassLoader;  // -3, -2, -1 or an index >= 0
  std::int32_t oid = 0;                       // export id for tags -2 and -1
  friend bool operator==(const LoaderTag&, const LoaderTag&) = default;
};

// TC_CLASSDESC or TC_PROXYCLASSDESC.
struct ClassDesc {
  bool proxy = false;
  std::string name;  // binary name ("java.util.HashMap", "[B"); empty for proxies
  std::int64_t svuid = 0;
  std::uint8_t flags = 0;
  std::vector<FieldDesc> fields;        // stream order
  std::vector<std::string> interfaces;  // proxies only
  std::vector<Content> annotation;      // class annotation contents (before TC_ENDBLOCKDATA)
  const ClassDesc* super = nullptr;     // superClassDesc, null for TC_NULL
  std::int32_t handle = -1;             // handle when read
  std::uint32_t offset = 0;             // offset of the token when read

  // Set by the reader in multi-class-loader mode: the annotation's tag as
  // written, and the same tag with an index resolved to the -2/-1 entry it
  // refers to (unset when the annotation is not a well-formed tag).
  std::optional<LoaderTag> loader;
  std::optional<LoaderTag> resolved_loader;

  bool has_write_method() const { return (flags & kScWriteMethod) != 0; }
  bool is_serializable() const { return (flags & kScSerializable) != 0; }
  bool is_externalizable() const { return (flags & kScExternalizable) != 0; }
  bool is_enum() const { return (flags & kScEnum) != 0; }
  bool is_array() const { return !name.empty() && name.front() == '['; }
  const FieldDesc* field(std::string_view field_name) const;
  // Number of bytes of the primitive fields, in stream order before the objects.
  std::size_t primitive_bytes() const;
  // This descriptor and its supers, most-derived first.
  std::vector<const ClassDesc*> chain() const;
  bool is_or_extends(std::string_view class_name) const;
};

// A java.lang.String value. The bytes are kept in modified UTF-8 exactly as
// in the stream, so re-encoding is byte-identical.
struct JString {
  std::string mutf8;
  bool long_form = false;  // TC_LONGSTRING although the short form would fit
  std::int32_t handle = -1;
  std::uint32_t offset = 0;

  std::string utf8() const;  // decoded; see mutf8.hpp for the mapping
  bool equals(std::string_view utf8_text) const;
};

// Values of one class of an object's hierarchy.
struct ClassData {
  const ClassDesc* desc = nullptr;
  // Field values in descriptor order. Empty with has_fields == false when
  // the class's writeObject wrote custom data without defaultWriteObject.
  std::vector<Value> fields;
  bool has_fields = true;
  // SC_WRITE_METHOD only: what writeObject wrote after the fields (block data
  // records and objects, in order), before the closing TC_ENDBLOCKDATA.
  std::vector<Content> custom;

  const Value* field(std::string_view field_name) const;
  Value* field(std::string_view field_name);
};

// TC_OBJECT: an instance of a serializable, externalizable or proxy class.
struct Object {
  const ClassDesc* desc = nullptr;
  // One entry per class with SC_SERIALIZABLE in the chain, top-most super
  // first (stream order). Empty for externalizable objects.
  std::vector<ClassData> classes;
  // SC_EXTERNALIZABLE with SC_BLOCK_DATA: the data writeExternal wrote.
  std::vector<Content> external;
  std::int32_t handle = -1;
  std::uint32_t offset = 0;

  std::string_view class_name() const { return desc ? std::string_view(desc->name) : ""; }
  bool is_instance_of(std::string_view cls) const { return desc && desc->is_or_extends(cls); }
  const ClassData* class_data(std::string_view cls) const;
  ClassData* class_data(std::string_view cls);
  // Field by class and name; or by name alone, searching from the most-derived class.
  const Value* field(std::string_view cls, std::string_view field_name) const;
  const Value* field(std::string_view field_name) const;
  // Set a field; returns false when no class of the chain has it.
  bool set(std::string_view cls, std::string_view field_name, Value v);
  bool set(std::string_view field_name, Value v);
};

// TC_ARRAY. Primitive arrays keep their elements as the big-endian bytes of
// the stream (`raw`); object arrays keep one Value per element.
struct Array {
  const ClassDesc* desc = nullptr;
  char element_type = 'L';  // JVM type code of the elements ('L' for objects and nested arrays)
  std::int32_t length = 0;
  std::vector<std::uint8_t> raw;  // primitive arrays: length * element size bytes
  std::vector<Value> elements;    // object arrays
  std::int32_t handle = -1;
  std::uint32_t offset = 0;

  bool is_primitive() const { return element_type != 'L' && element_type != '['; }
  // Element i as a Value (decoding primitives); Null when out of range.
  Value at(std::size_t i) const;
  std::span<const std::uint8_t> bytes() const { return raw; }  // byte[]
};

// TC_ENUM.
struct EnumConstant {
  const ClassDesc* desc = nullptr;
  const JString* name = nullptr;
  std::int32_t handle = -1;
  std::uint32_t offset = 0;

  std::string constant() const { return name ? name->utf8() : std::string(); }
};

// TC_CLASS: a java.lang.Class value.
struct ClassObject {
  const ClassDesc* desc = nullptr;
  std::int32_t handle = -1;
  std::uint32_t offset = 0;
};

// Owner of the nodes of one or more graphs. Addresses are stable for the
// Arena's lifetime. Not thread-safe: one thread builds or reads at a time.
class Arena {
 public:
  Arena() = default;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  JString* make_string(std::string mutf8 = {});
  // Build from UTF-8 text (encoded into modified UTF-8).
  JString* make_string_utf8(std::string_view utf8);
  ClassDesc* make_class_desc();
  Object* make_object(const ClassDesc* desc = nullptr);
  Array* make_array(const ClassDesc* desc = nullptr);
  EnumConstant* make_enum(const ClassDesc* desc = nullptr, const JString* name = nullptr);
  ClassObject* make_class(const ClassDesc* desc = nullptr);

  std::size_t node_count() const;

 private:
  std::deque<JString> strings_;
  std::deque<ClassDesc> descs_;
  std::deque<Object> objects_;
  std::deque<Array> arrays_;
  std::deque<EnumConstant> enums_;
  std::deque<ClassObject> classes_;
};

// A whole stream: version and top-level contents, with the Arena that owns
// their nodes.
struct Stream {
  std::uint16_t version = kStreamVersion;
  std::vector<Content> contents;
  std::shared_ptr<Arena> arena = std::make_shared<Arena>();

  // The top-level objects, skipping block data, resets and aborted writes.
  std::vector<Value> values() const;
};

}  // namespace kite::ser
