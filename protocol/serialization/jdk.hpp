// Typed helpers for the JDK values Kite sends: boxed primitives, strings,
// arrays, collections, enums, java.io.File and Throwables, with the
// descriptors (serialVersionUID, flags, fields) of OpenJDK 17. Each helper
// allocates its nodes in the given Arena; the descriptors are shared,
// immortal nodes, so the writer references them after their first use.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "protocol/serialization/build.hpp"
#include "protocol/serialization/error.hpp"
#include "protocol/serialization/value.hpp"

namespace kite::ser::jdk {

// Descriptor of a JDK class by name, for every class these helpers write
// (java.lang.Integer, java.util.HashMap, java.io.IOException, "[B", ...);
// nullptr for other names.
const ClassDesc* descriptor(std::string_view class_name);

Value boolean(Arena& arena, bool v);
Value byte(Arena& arena, std::int8_t v);
Value character(Arena& arena, char16_t v);
Value short_value(Arena& arena, std::int16_t v);
Value integer(Arena& arena, std::int32_t v);
Value long_value(Arena& arena, std::int64_t v);
Value float_value(Arena& arena, float v);
Value double_value(Arena& arena, double v);
Value string(Arena& arena, std::string_view utf8);
Value bytes(Arena& arena, std::span<const std::uint8_t> v);
Value string_array(Arena& arena, std::span<const std::string> v);
Value object_array(Arena& arena, std::vector<Value> elements);  // Object[]

// java.util.ArrayList with capacity == size, as after new ArrayList<>(c) or trimToSize.
Value array_list(Arena& arena, std::vector<Value> elements);
// java.util.HashMap built by new HashMap<>() and put() in the given order.
// When every key is a String, Integer, Long or Boolean, entries are written
// in the JDK's iteration order (bucket index, then insertion order).
// Otherwise they are written in the given order.
Value hash_map(Arena& arena, std::vector<std::pair<Value, Value>> entries);
Value linked_hash_map(Arena& arena, std::vector<std::pair<Value, Value>> entries);
Value hash_set(Arena& arena, std::vector<Value> elements);
// java.util.TreeMap with natural ordering: entries sorted by key when every
// key is a String, Integer or Long; otherwise in the given order.
Value tree_map(Arena& arena, std::vector<std::pair<Value, Value>> entries);
Value empty_list(Arena& arena);
Value singleton_map(Arena& arena, Value key, Value value);
Value file(Arena& arena, std::string_view path);
Value enum_constant(Arena& arena, std::string_view class_name, std::string_view constant);

// A StackTraceElement. format 1 marks a JDK or application frame as Java 9+
// writes it; 0 leaves module and loader names unused.
struct StackFrame {
  std::string declaring_class;
  std::string method_name;
  std::optional<std::string> file_name;
  std::int32_t line_number = -1;
  std::optional<std::string> class_loader_name;
  std::optional<std::string> module_name;
  std::optional<std::string> module_version;
  std::int8_t format = 0;
};

struct ThrowableSpec {
  // A class listed by throwable_classes(), or any class with `descriptor_chain`.
  std::string class_name = "java.io.IOException";
  std::optional<std::string> message;
  // Unset: cause not initialised (written as a reference to the object itself,
  // as the JDK does). Set to Null: explicitly no cause. Else another Throwable.
  std::optional<Value> cause;
  std::vector<StackFrame> stack_trace;
  std::vector<Value> suppressed;  // empty: Collections$EmptyList
  // For classes Kite does not know: the descriptor of the class itself,
  // whose super chain must end in java.lang.Throwable's descriptor.
  const ClassDesc* descriptor = nullptr;
  // Extra field values of subclasses, e.g. {"file", string(...)} for
  // java.nio.file.NoSuchFileException, {"bytesTransferred", 0}.
  std::vector<std::pair<std::string, Value>> fields;
};

// Strings of stack frames shared like the JVM's interned strings: pass one
// pool to every throwable() of a stream so that equal frame strings are
// written once and then referenced, as the JDK does.
class StringPool {
 public:
  const JString* get(Arena& arena, std::string_view utf8);

 private:
  std::unordered_map<std::string, const JString*> strings_;
};

// A Throwable of spec.class_name; pool may be null (a pool for this call only).
Result<Value> throwable(Arena& arena, const ThrowableSpec& spec, StringPool* pool = nullptr);
// Names of the Throwable classes with built-in descriptors.
std::vector<std::string_view> throwable_classes();

}  // namespace kite::ser::jdk
