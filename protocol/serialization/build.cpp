#include "protocol/serialization/build.hpp"

#include <algorithm>
#include <bit>
#include <mutex>
#include <unordered_map>

#include "protocol/serialization/mutf8.hpp"

namespace kite::ser {
namespace {

// Immortal nodes shared by every graph: interned signatures and the fixed
// JDK descriptors (java.lang.reflect.Proxy, java.lang.Enum).
struct SharedNodes {
  std::mutex mutex;
  Arena arena;
  std::unordered_map<std::string, const JString*> signatures;
};

SharedNodes& shared_nodes() {
  static SharedNodes nodes;
  return nodes;
}

Value zero_value(char type) {
  switch (type) {
    case 'B': return Value(std::int8_t{0});
    case 'Z': return Value(false);
    case 'C': return Value(char16_t{0});
    case 'S': return Value(std::int16_t{0});
    case 'I': return Value(std::int32_t{0});
    case 'F': return Value(0.0f);
    case 'J': return Value(std::int64_t{0});
    case 'D': return Value(0.0);
    default: return Value();
  }
}

// ObjectStreamField.compareTo: primitives first, then String.compareTo of the names.
bool field_less(const FieldDesc& a, const FieldDesc& b) {
  if (a.is_primitive() != b.is_primitive()) return a.is_primitive();
  return mutf8::to_utf16(mutf8::from_utf8(a.name)) < mutf8::to_utf16(mutf8::from_utf8(b.name));
}

template <class T>
void put_be(std::vector<std::uint8_t>& out, T v) {
  using U = std::conditional_t<sizeof(T) == 1, std::uint8_t,
            std::conditional_t<sizeof(T) == 2, std::uint16_t,
            std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>>>;
  const U u = std::bit_cast<U>(v);
  for (int shift = (sizeof(T) - 1) * 8; shift >= 0; shift -= 8) {
    out.push_back(static_cast<std::uint8_t>(u >> shift));
  }
}

}  // namespace

const JString* intern_signature(std::string_view signature) {
  SharedNodes& nodes = shared_nodes();
  std::lock_guard lock(nodes.mutex);
  auto it = nodes.signatures.find(std::string(signature));
  if (it != nodes.signatures.end()) return it->second;
  const JString* s = nodes.arena.make_string_utf8(signature);
  nodes.signatures.emplace(std::string(signature), s);
  return s;
}

ClassDesc* make_class_desc(Arena& arena, const ClassSpec& spec) {
  ClassDesc* d = arena.make_class_desc();
  d->name = spec.name;
  d->svuid = spec.svuid;
  d->flags = spec.flags;
  d->super = spec.super;
  d->fields.reserve(spec.fields.size());
  for (const FieldSpec& f : spec.fields) {
    FieldDesc fd;
    fd.type = f.type;
    fd.name = f.name;
    if (!fd.is_primitive()) fd.signature = intern_signature(f.signature);
    d->fields.push_back(std::move(fd));
  }
  if (spec.sort_fields) std::stable_sort(d->fields.begin(), d->fields.end(), field_less);
  return d;
}

const ClassDesc* proxy_super_desc() {
  static const ClassDesc* desc = [] {
    SharedNodes& nodes = shared_nodes();
    ClassSpec spec{"java.lang.reflect.Proxy", -2222568056686623797LL, kScSerializable,
                   {{'L', "h", "Ljava/lang/reflect/InvocationHandler;"}}};
    const JString* sig = intern_signature(spec.fields[0].signature);
    std::lock_guard lock(nodes.mutex);
    ClassDesc* d = nodes.arena.make_class_desc();
    d->name = spec.name;
    d->svuid = spec.svuid;
    d->flags = spec.flags;
    d->fields.push_back(FieldDesc{'L', "h", sig});
    return d;
  }();
  return desc;
}

ClassDesc* make_proxy_desc(Arena& arena, std::vector<std::string> interfaces) {
  ClassDesc* d = arena.make_class_desc();
  d->proxy = true;
  d->interfaces = std::move(interfaces);
  d->super = proxy_super_desc();
  return d;
}

Object* make_proxy(Arena& arena, std::vector<std::string> interfaces, Value handler) {
  Object* o = make_object(arena, make_proxy_desc(arena, std::move(interfaces)));
  o->set("java.lang.reflect.Proxy", "h", handler);
  return o;
}

Object* make_object(Arena& arena, const ClassDesc* desc) {
  Object* o = arena.make_object(desc);
  if (desc == nullptr || desc->is_externalizable()) return o;
  const std::vector<const ClassDesc*> chain = desc->chain();
  o->classes.resize(chain.size());
  for (std::size_t i = 0; i < chain.size(); ++i) {
    ClassData& cd = o->classes[i];
    cd.desc = chain[chain.size() - 1 - i];
    cd.fields.reserve(cd.desc->fields.size());
    for (const FieldDesc& f : cd.desc->fields) cd.fields.push_back(zero_value(f.type));
  }
  return o;
}

ClassDesc* make_array_desc(Arena& arena, std::string name, std::int64_t svuid) {
  ClassDesc* d = arena.make_class_desc();
  d->name = std::move(name);
  d->svuid = svuid;
  d->flags = kScSerializable;
  return d;
}

Array* make_object_array(Arena& arena, const ClassDesc* desc, std::vector<Value> elements) {
  Array* a = arena.make_array(desc);
  a->element_type = 'L';
  a->length = static_cast<std::int32_t>(elements.size());
  a->elements = std::move(elements);
  return a;
}

Array* make_primitive_array(Arena& arena, const ClassDesc* desc, std::span<const std::uint8_t> raw) {
  Array* a = arena.make_array(desc);
  a->element_type = desc != nullptr && desc->name.size() >= 2 ? desc->name[1] : 'B';
  FieldDesc probe{a->element_type, {}, nullptr};
  const std::size_t width = std::max<std::size_t>(probe.primitive_size(), 1);
  a->length = static_cast<std::int32_t>(raw.size() / width);
  a->raw.assign(raw.begin(), raw.end());
  return a;
}

const ClassDesc* enum_base_desc() {
  static const ClassDesc* desc = [] {
    SharedNodes& nodes = shared_nodes();
    std::lock_guard lock(nodes.mutex);
    ClassDesc* d = nodes.arena.make_class_desc();
    d->name = "java.lang.Enum";
    d->svuid = 0;
    d->flags = kScSerializable | kScEnum;
    return d;
  }();
  return desc;
}

ClassDesc* make_enum_desc(Arena& arena, std::string class_name) {
  ClassDesc* d = arena.make_class_desc();
  d->name = std::move(class_name);
  d->svuid = 0;
  d->flags = kScSerializable | kScEnum;
  d->super = enum_base_desc();
  return d;
}

EnumConstant* make_enum_constant(Arena& arena, const ClassDesc* enum_desc, std::string_view constant) {
  return arena.make_enum(enum_desc, arena.make_string_utf8(constant));
}

BlockBuilder& BlockBuilder::write_bool(bool v) {
  bytes_.push_back(v ? 1 : 0);
  return *this;
}
BlockBuilder& BlockBuilder::write_byte(std::int8_t v) {
  put_be(bytes_, v);
  return *this;
}
BlockBuilder& BlockBuilder::write_char(char16_t v) {
  put_be(bytes_, v);
  return *this;
}
BlockBuilder& BlockBuilder::write_short(std::int16_t v) {
  put_be(bytes_, v);
  return *this;
}
BlockBuilder& BlockBuilder::write_int(std::int32_t v) {
  put_be(bytes_, v);
  return *this;
}
BlockBuilder& BlockBuilder::write_long(std::int64_t v) {
  put_be(bytes_, v);
  return *this;
}
BlockBuilder& BlockBuilder::write_float(float v) {
  put_be(bytes_, v);
  return *this;
}
BlockBuilder& BlockBuilder::write_double(double v) {
  put_be(bytes_, v);
  return *this;
}
BlockBuilder& BlockBuilder::write_bytes(std::span<const std::uint8_t> v) {
  bytes_.insert(bytes_.end(), v.begin(), v.end());
  return *this;
}
BlockBuilder& BlockBuilder::write_utf(std::string_view utf8) {
  const std::string m = mutf8::from_utf8(utf8);
  // NOTE: DataOutput.writeUTF throws UTFDataFormatException above 65535
  // encoded bytes; this truncates the length prefix's view instead, so
  // callers must keep such strings short.
  put_be(bytes_, static_cast<std::uint16_t>(std::min<std::size_t>(m.size(), 0xFFFF)));
  bytes_.insert(bytes_.end(), m.begin(), m.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(m.size(), 0xFFFF)));
  return *this;
}

std::vector<std::uint8_t> BlockReader::join(const std::vector<Content>& contents) {
  std::vector<std::uint8_t> out;
  for (const Content& c : contents) {
    const auto* b = std::get_if<BlockData>(&c);
    if (b == nullptr) break;
    out.insert(out.end(), b->bytes.begin(), b->bytes.end());
  }
  return out;
}

namespace {
template <class T>
std::optional<T> take_be(std::span<const std::uint8_t> data, std::size_t& pos) {
  if (data.size() - pos < sizeof(T)) return std::nullopt;
  using U = std::conditional_t<sizeof(T) == 1, std::uint8_t,
            std::conditional_t<sizeof(T) == 2, std::uint16_t,
            std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>>>;
  U u = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) u = static_cast<U>((u << 8) | data[pos + i]);
  pos += sizeof(T);
  return std::bit_cast<T>(u);
}
}  // namespace

std::optional<bool> BlockReader::read_bool() {
  auto b = take_be<std::uint8_t>(data_, pos_);
  if (!b) return std::nullopt;
  return *b != 0;
}
std::optional<std::int8_t> BlockReader::read_byte() { return take_be<std::int8_t>(data_, pos_); }
std::optional<char16_t> BlockReader::read_char() { return take_be<char16_t>(data_, pos_); }
std::optional<std::int16_t> BlockReader::read_short() { return take_be<std::int16_t>(data_, pos_); }
std::optional<std::int32_t> BlockReader::read_int() { return take_be<std::int32_t>(data_, pos_); }
std::optional<std::int64_t> BlockReader::read_long() { return take_be<std::int64_t>(data_, pos_); }
std::optional<float> BlockReader::read_float() { return take_be<float>(data_, pos_); }
std::optional<double> BlockReader::read_double() { return take_be<double>(data_, pos_); }

}  // namespace kite::ser
