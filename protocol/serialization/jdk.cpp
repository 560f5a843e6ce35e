#include "protocol/serialization/jdk.hpp"

#include <algorithm>
#include <bit>
#include <unordered_map>

#include "protocol/serialization/mutf8.hpp"

namespace kite::ser::jdk {
namespace {

constexpr std::uint8_t kSer = kScSerializable;
constexpr std::uint8_t kSerWrite = kScSerializable | kScWriteMethod;

struct Entry {
  const char* name;
  std::int64_t svuid;
  std::uint8_t flags;
  const char* super;  // nullptr: no serializable superclass
  std::vector<FieldSpec> fields;
  bool throwable = false;
};

// serialVersionUIDs, flags and fields as ObjectStreamClass.lookup reports them
// on OpenJDK 17; the remoting and Jenkins classes from their declared values
// (ProxyException's is computed, as it declares none).
std::vector<Entry> entries() {
  const std::string str = "Ljava/lang/String;";
  return {
      {"java.lang.Number", -8742448824652078965LL, kSer, nullptr, {}},
      {"java.lang.Boolean", -3665804199014368530LL, kSer, nullptr, {{'Z', "value", ""}}},
      {"java.lang.Character", 3786198910865385080LL, kSer, nullptr, {{'C', "value", ""}}},
      {"java.lang.Byte", -7183698231559129828LL, kSer, "java.lang.Number", {{'B', "value", ""}}},
      {"java.lang.Short", 7515723908773894738LL, kSer, "java.lang.Number", {{'S', "value", ""}}},
      {"java.lang.Integer", 1360826667806852920LL, kSer, "java.lang.Number", {{'I', "value", ""}}},
      {"java.lang.Long", 4290774380558885855LL, kSer, "java.lang.Number", {{'J', "value", ""}}},
      {"java.lang.Float", -2671257302660747028LL, kSer, "java.lang.Number", {{'F', "value", ""}}},
      {"java.lang.Double", -9172774392245257468LL, kSer, "java.lang.Number", {{'D', "value", ""}}},
      {"[B", -5984413125824719648LL, kSer, nullptr, {}},
      {"[Z", 6309297032502205922LL, kSer, nullptr, {}},
      {"[C", -5753798564021173076LL, kSer, nullptr, {}},
      {"[S", -1188055269542874886LL, kSer, nullptr, {}},
      {"[I", 5600894804908749477LL, kSer, nullptr, {}},
      {"[J", 8655923659555304851LL, kSer, nullptr, {}},
      {"[F", 836686056779680834LL, kSer, nullptr, {}},
      {"[D", 4514449696888150558LL, kSer, nullptr, {}},
      {"[Ljava.lang.String;", -5921575005990323385LL, kSer, nullptr, {}},
      {"[Ljava.lang.Object;", -8012369246846506644LL, kSer, nullptr, {}},
      {"[Ljava.lang.StackTraceElement;", 163864874655228473LL, kSer, nullptr, {}},
      {"java.util.ArrayList", 8683452581122892189LL, kSerWrite, nullptr, {{'I', "size", ""}}},
      {"java.util.HashMap", 362498820763181265LL, kSerWrite, nullptr,
       {{'F', "loadFactor", ""}, {'I', "threshold", ""}}},
      {"java.util.LinkedHashMap", 3801124242820219131LL, kSer, "java.util.HashMap",
       {{'Z', "accessOrder", ""}}},
      {"java.util.HashSet", -5024744406713321676LL, kSerWrite, nullptr, {}},
      {"java.util.TreeMap", 919286545866124006LL, kSerWrite, nullptr,
       {{'L', "comparator", "Ljava/util/Comparator;"}}},
      {"java.util.Collections$EmptyList", 8842843931221139166LL, kSer, nullptr, {}},
      {"java.util.Collections$SingletonMap", -6979724477215052911LL, kSer, nullptr,
       {{'L', "k", "Ljava/lang/Object;"}, {'L', "v", "Ljava/lang/Object;"}}},
      {"java.lang.String$CaseInsensitiveComparator", 8575799808933029326LL, kSer, nullptr, {}},
      {"java.io.File", 301077366599181567LL, kSerWrite, nullptr, {{'L', "path", str}}},
      {"java.lang.StackTraceElement", 6992337162326171013LL, kSer, nullptr,
       {{'B', "format", ""}, {'I', "lineNumber", ""}, {'L', "classLoaderName", str},
        {'L', "declaringClass", str}, {'L', "fileName", str}, {'L', "methodName", str},
        {'L', "moduleName", str}, {'L', "moduleVersion", str}}},
      {"java.lang.Throwable", -3042686055658047285LL, kSerWrite, nullptr,
       {{'L', "cause", "Ljava/lang/Throwable;"}, {'L', "detailMessage", str},
        {'[', "stackTrace", "[Ljava/lang/StackTraceElement;"},
        {'L', "suppressedExceptions", "Ljava/util/List;"}},
       true},
      {"java.lang.Exception", -3387516993124229948LL, kSer, "java.lang.Throwable", {}, true},
      {"java.lang.Error", 4980196508277280342LL, kSer, "java.lang.Throwable", {}, true},
      {"java.lang.RuntimeException", -7034897190745766939LL, kSer, "java.lang.Exception", {}, true},
      {"java.io.IOException", 7818375828146090155LL, kSer, "java.lang.Exception", {}, true},
      {"java.lang.InterruptedException", 6700697376100628473LL, kSer, "java.lang.Exception", {}, true},
      {"java.util.concurrent.TimeoutException", 1900926677490660714LL, kSer, "java.lang.Exception", {}, true},
      {"java.util.concurrent.ExecutionException", 7830266012832686185LL, kSer, "java.lang.Exception", {}, true},
      {"java.lang.IllegalStateException", -1848914673093119416LL, kSer, "java.lang.RuntimeException", {}, true},
      {"java.lang.IllegalArgumentException", -5365630128856068164LL, kSer, "java.lang.RuntimeException", {}, true},
      {"java.lang.UnsupportedOperationException", -1242599979055084673LL, kSer, "java.lang.RuntimeException", {}, true},
      {"java.lang.NullPointerException", 5162710183389028792LL, kSer, "java.lang.RuntimeException", {}, true},
      {"java.lang.SecurityException", 6878364983674394167LL, kSer, "java.lang.RuntimeException", {}, true},
      {"java.lang.IndexOutOfBoundsException", 234122996006267687LL, kSer, "java.lang.RuntimeException", {}, true},
      {"java.lang.ArithmeticException", 2256477558314496007LL, kSer, "java.lang.RuntimeException", {}, true},
      {"java.lang.ClassCastException", -9223365651070458532LL, kSer, "java.lang.RuntimeException", {}, true},
      {"java.io.UncheckedIOException", -8134305061645241065LL, kSer, "java.lang.RuntimeException", {}, true},
      {"java.io.FileNotFoundException", -897856973823710492LL, kSer, "java.io.IOException", {}, true},
      {"java.io.UnsupportedEncodingException", -4274276298326136670LL, kSer, "java.io.IOException", {}, true},
      {"java.nio.charset.CharacterCodingException", 8421532232154627783LL, kSer, "java.io.IOException", {}, true},
      {"java.nio.charset.MalformedInputException", -3438823399834806194LL, kSer,
       "java.nio.charset.CharacterCodingException", {{'I', "inputLength", ""}}, true},
      {"java.io.EOFException", 6433858223774886977LL, kSer, "java.io.IOException", {}, true},
      {"java.io.InterruptedIOException", 4020568460727500567LL, kSer, "java.io.IOException",
       {{'I', "bytesTransferred", ""}}, true},
      {"java.nio.file.FileSystemException", -3055425747967319812LL, kSer, "java.io.IOException",
       {{'L', "file", str}, {'L', "other", str}}, true},
      {"java.nio.file.NoSuchFileException", -1390291775875351931LL, kSer, "java.nio.file.FileSystemException", {}, true},
      {"java.nio.file.AccessDeniedException", 4943049599949219617LL, kSer, "java.nio.file.FileSystemException", {}, true},
      {"java.nio.file.FileAlreadyExistsException", 7579540934498831181LL, kSer, "java.nio.file.FileSystemException", {}, true},
      {"java.nio.file.DirectoryNotEmptyException", 3056667871802779003LL, kSer, "java.nio.file.FileSystemException", {}, true},
      {"java.nio.file.NotDirectoryException", -9011457427178200199LL, kSer, "java.nio.file.FileSystemException", {}, true},
      {"hudson.AbortException", 1, kSer, "java.io.IOException", {}, true},
      {"hudson.remoting.ProxyException", 1332793125360580541LL, kSer, "java.io.IOException", {}, true},
      {"hudson.remoting.RemotingSystemException", 1, kSer, "java.lang.RuntimeException", {}, true},
      {"hudson.remoting.RequestAbortedException", 238929914783987425LL, kSer,
       "hudson.remoting.RemotingSystemException", {}, true},
      {"hudson.FilePath$TunneledInterruptedException", 1, kSer, "java.io.IOException", {}, true},
      {"hudson.FilePath$FileMaskNoMatchesFoundException", 1, kSer, "java.lang.InterruptedException", {}, true},
  };
}

// Immortal descriptors and singletons, built once on first use.
struct Registry {
  Arena arena;
  std::unordered_map<std::string, const ClassDesc*> descs;
  std::vector<std::string_view> throwables;
  const Object* empty_list = nullptr;

  Registry() {
    for (const Entry& e : entries()) {
      ClassSpec spec{e.name, e.svuid, e.flags, e.fields,
                     e.super ? descs.at(e.super) : nullptr};
      const ClassDesc* d = make_class_desc(arena, spec);
      descs.emplace(e.name, d);
      if (e.throwable) throwables.push_back(d->name);
    }
    // Collections.emptyList() is one shared instance, so a second use in a
    // stream is a back reference, as in the JDK.
    empty_list = make_object(arena, descs.at("java.util.Collections$EmptyList"));
  }
};

const Registry& registry() {
  static const Registry r;
  return r;
}

const ClassDesc* desc(std::string_view name) { return registry().descs.at(std::string(name)); }

Value boxed(Arena& arena, std::string_view box, Value v) {
  Object* o = make_object(arena, desc(box));
  o->set(box, "value", v);
  return Value(static_cast<const Object*>(o));
}

std::int32_t java_string_hash(const JString& s) {
  std::uint32_t h = 0;
  for (char16_t c : mutf8::to_utf16(s.mutf8)) h = 31 * h + c;
  return static_cast<std::int32_t>(h);
}

// Object.hashCode of a String, Integer, Long or Boolean key (nullopt for other keys).
std::optional<std::int32_t> java_hash(const Value& key) {
  if (const JString* s = key.as_jstring()) return java_string_hash(*s);
  const Object* o = key.as_object();
  if (o == nullptr) return key.is_null() ? std::optional<std::int32_t>(0) : std::nullopt;
  const std::string_view cls = o->class_name();
  if (cls == "java.lang.Integer") return key.as_int();
  if (cls == "java.lang.Long") {
    const auto v = static_cast<std::uint64_t>(*key.as_long());
    return static_cast<std::int32_t>(v ^ (v >> 32));
  }
  if (cls == "java.lang.Boolean") return *key.as_bool() ? 1231 : 1237;
  return std::nullopt;
}

// Table capacity and threshold of a HashMap after `size` put()s into new HashMap<>().
std::pair<std::int32_t, std::int32_t> hash_map_table(std::size_t size) {
  if (size == 0) return {16, 0};
  std::int32_t capacity = 16;
  while (size > static_cast<std::size_t>(capacity) * 3 / 4) capacity *= 2;
  return {capacity, capacity * 3 / 4};
}

// Entries in HashMap iteration order: by bucket, then insertion order.
template <class T, class KeyOf>
void order_like_hash_map(std::vector<T>& items, std::int32_t capacity, KeyOf key_of) {
  std::vector<std::pair<std::uint32_t, std::size_t>> order;
  order.reserve(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    const auto h = java_hash(key_of(items[i]));
    if (!h) return;  // unknown hash: keep the given order
    const auto u = static_cast<std::uint32_t>(*h);
    order.emplace_back((u ^ (u >> 16)) & static_cast<std::uint32_t>(capacity - 1), i);
  }
  std::stable_sort(order.begin(), order.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<T> sorted;
  sorted.reserve(items.size());
  for (const auto& [bucket, i] : order) sorted.push_back(items[i]);
  items = std::move(sorted);
}

// Natural order of two String or two boxed integral keys; nullopt for other pairs.
std::optional<bool> natural_less(const Value& a, const Value& b) {
  const JString* sa = a.as_jstring();
  const JString* sb = b.as_jstring();
  if (sa && sb) return mutf8::to_utf16(sa->mutf8) < mutf8::to_utf16(sb->mutf8);
  auto la = a.as_long();
  auto lb = b.as_long();
  if (la && lb && a.as_object() && b.as_object()) return *la < *lb;
  return std::nullopt;
}

Object* hash_map_object(Arena& arena, std::string_view cls,
                        std::vector<std::pair<Value, Value>>& entries, bool insertion_order) {
  const auto [capacity, threshold] = hash_map_table(entries.size());
  if (!insertion_order) order_like_hash_map(entries, capacity, [](const auto& e) { return e.first; });
  Object* o = make_object(arena, desc(cls));
  o->set("java.util.HashMap", "loadFactor", Value(0.75f));
  o->set("java.util.HashMap", "threshold", Value(threshold));
  ClassData* cd = o->class_data("java.util.HashMap");
  cd->custom.emplace_back(BlockBuilder()
                              .write_int(capacity)
                              .write_int(static_cast<std::int32_t>(entries.size()))
                              .build());
  for (auto& [k, v] : entries) {
    cd->custom.emplace_back(k);
    cd->custom.emplace_back(v);
  }
  return o;
}

}  // namespace

const ClassDesc* descriptor(std::string_view class_name) {
  const auto& d = registry().descs;
  auto it = d.find(std::string(class_name));
  return it == d.end() ? nullptr : it->second;
}

Value boolean(Arena& arena, bool v) { return boxed(arena, "java.lang.Boolean", Value(v)); }
Value byte(Arena& arena, std::int8_t v) { return boxed(arena, "java.lang.Byte", Value(v)); }
Value character(Arena& arena, char16_t v) { return boxed(arena, "java.lang.Character", Value(v)); }
Value short_value(Arena& arena, std::int16_t v) { return boxed(arena, "java.lang.Short", Value(v)); }
Value integer(Arena& arena, std::int32_t v) { return boxed(arena, "java.lang.Integer", Value(v)); }
Value long_value(Arena& arena, std::int64_t v) { return boxed(arena, "java.lang.Long", Value(v)); }
Value float_value(Arena& arena, float v) { return boxed(arena, "java.lang.Float", Value(v)); }
Value double_value(Arena& arena, double v) { return boxed(arena, "java.lang.Double", Value(v)); }

Value string(Arena& arena, std::string_view utf8) {
  return Value(static_cast<const JString*>(arena.make_string_utf8(utf8)));
}

Value bytes(Arena& arena, std::span<const std::uint8_t> v) {
  return Value(static_cast<const Array*>(make_primitive_array(arena, desc("[B"), v)));
}

Value string_array(Arena& arena, std::span<const std::string> v) {
  std::vector<Value> elements;
  elements.reserve(v.size());
  for (const std::string& s : v) elements.push_back(string(arena, s));
  return Value(static_cast<const Array*>(
      make_object_array(arena, desc("[Ljava.lang.String;"), std::move(elements))));
}

Value object_array(Arena& arena, std::vector<Value> elements) {
  return Value(static_cast<const Array*>(
      make_object_array(arena, desc("[Ljava.lang.Object;"), std::move(elements))));
}

Value array_list(Arena& arena, std::vector<Value> elements) {
  Object* o = make_object(arena, desc("java.util.ArrayList"));
  const auto size = static_cast<std::int32_t>(elements.size());
  o->set("size", Value(size));
  ClassData* cd = o->class_data("java.util.ArrayList");
  cd->custom.emplace_back(BlockBuilder().write_int(size).build());
  for (const Value& e : elements) cd->custom.emplace_back(e);
  return Value(static_cast<const Object*>(o));
}

Value hash_map(Arena& arena, std::vector<std::pair<Value, Value>> entries) {
  return Value(static_cast<const Object*>(hash_map_object(arena, "java.util.HashMap", entries, false)));
}

Value linked_hash_map(Arena& arena, std::vector<std::pair<Value, Value>> entries) {
  Object* o = hash_map_object(arena, "java.util.LinkedHashMap", entries, true);
  o->set("java.util.LinkedHashMap", "accessOrder", Value(false));
  return Value(static_cast<const Object*>(o));
}

Value hash_set(Arena& arena, std::vector<Value> elements) {
  const auto [capacity, threshold] = hash_map_table(elements.size());
  order_like_hash_map(elements, capacity, [](const Value& v) { return v; });
  Object* o = make_object(arena, desc("java.util.HashSet"));
  ClassData* cd = o->class_data("java.util.HashSet");
  cd->custom.emplace_back(BlockBuilder()
                              .write_int(capacity)
                              .write_float(0.75f)
                              .write_int(static_cast<std::int32_t>(elements.size()))
                              .build());
  for (const Value& e : elements) cd->custom.emplace_back(e);
  return Value(static_cast<const Object*>(o));
}

Value tree_map(Arena& arena, std::vector<std::pair<Value, Value>> entries) {
  bool comparable = true;
  for (std::size_t i = 1; i < entries.size() && comparable; ++i) {
    comparable = natural_less(entries[0].first, entries[i].first).has_value();
  }
  if (comparable) {
    std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
      return natural_less(a.first, b.first).value_or(false);
    });
  }
  Object* o = make_object(arena, desc("java.util.TreeMap"));
  ClassData* cd = o->class_data("java.util.TreeMap");
  cd->custom.emplace_back(BlockBuilder().write_int(static_cast<std::int32_t>(entries.size())).build());
  for (const auto& [k, v] : entries) {
    cd->custom.emplace_back(k);
    cd->custom.emplace_back(v);
  }
  return Value(static_cast<const Object*>(o));
}

Value empty_list(Arena&) { return Value(registry().empty_list); }

Value singleton_map(Arena& arena, Value key, Value value) {
  Object* o = make_object(arena, desc("java.util.Collections$SingletonMap"));
  o->set("k", key);
  o->set("v", value);
  return Value(static_cast<const Object*>(o));
}

Value file(Arena& arena, std::string_view path) {
  Object* o = make_object(arena, desc("java.io.File"));
  o->set("path", string(arena, path));
  ClassData* cd = o->class_data("java.io.File");
  cd->custom.emplace_back(BlockBuilder().write_char(u'/').build());
  return Value(static_cast<const Object*>(o));
}

Value enum_constant(Arena& arena, std::string_view class_name, std::string_view constant) {
  const ClassDesc* d = make_enum_desc(arena, std::string(class_name));
  return Value(static_cast<const EnumConstant*>(make_enum_constant(arena, d, constant)));
}

std::vector<std::string_view> throwable_classes() { return registry().throwables; }

const JString* StringPool::get(Arena& arena, std::string_view utf8) {
  auto [it, fresh] = strings_.emplace(std::string(utf8), nullptr);
  if (fresh) it->second = arena.make_string_utf8(utf8);
  return it->second;
}

Result<Value> throwable(Arena& arena, const ThrowableSpec& spec, StringPool* pool) {
  const ClassDesc* d = spec.descriptor ? spec.descriptor : descriptor(spec.class_name);
  if (d == nullptr || !d->is_or_extends("java.lang.Throwable")) {
    return Unexpected(Error{ErrorCode::InvalidGraph, 0,
                                 "no descriptor extending java.lang.Throwable for " + spec.class_name});
  }
  Object* o = make_object(arena, d);
  const Value self(static_cast<const Object*>(o));

  // The JVM interns the strings of stack frames, so equal strings of one
  // trace are one object and the stream refers back to the first.
  StringPool local_pool;
  StringPool& strings = pool != nullptr ? *pool : local_pool;
  auto frame_string = [&](const std::optional<std::string>& s) -> Value {
    if (!s) return Value();
    return Value(strings.get(arena, *s));
  };
  std::vector<Value> frames;
  frames.reserve(spec.stack_trace.size());
  for (const StackFrame& f : spec.stack_trace) {
    Object* e = make_object(arena, desc("java.lang.StackTraceElement"));
    e->set("format", Value(f.format));
    e->set("lineNumber", Value(f.line_number));
    e->set("classLoaderName", frame_string(f.class_loader_name));
    e->set("declaringClass", frame_string(f.declaring_class));
    e->set("fileName", frame_string(f.file_name));
    e->set("methodName", frame_string(f.method_name));
    e->set("moduleName", frame_string(f.module_name));
    e->set("moduleVersion", frame_string(f.module_version));
    frames.push_back(Value(static_cast<const Object*>(e)));
  }

  const std::string_view t = "java.lang.Throwable";
  o->set(t, "cause", spec.cause ? *spec.cause : self);
  o->set(t, "detailMessage", spec.message ? string(arena, *spec.message) : Value());
  o->set(t, "stackTrace", Value(static_cast<const Array*>(make_object_array(
                              arena, desc("[Ljava.lang.StackTraceElement;"), std::move(frames)))));
  o->set(t, "suppressedExceptions",
         spec.suppressed.empty() ? empty_list(arena) : array_list(arena, spec.suppressed));
  for (const auto& [name, value] : spec.fields) {
    if (!o->set(name, value)) {
      return Unexpected(Error{ErrorCode::InvalidGraph, 0,
                                   spec.class_name + " has no field " + name});
    }
  }
  return self;
}

}  // namespace kite::ser::jdk
