#include "protocol/serialization/value.hpp"

#include <bit>
#include <cstring>
#include <utility>

#include "protocol/serialization/mutf8.hpp"

namespace kite::ser {
namespace {

// The `value` field of a boxed primitive (java.lang.Integer and so on).
const Value* boxed_value(const Value& v, std::string_view box) {
  const Object* obj = v.as_object();
  if (obj == nullptr || obj->class_name() != box) return nullptr;
  return obj->field(box, "value");
}

template <class T>
std::optional<T> unboxed(const Value& v, std::string_view box) {
  if (const T* p = std::get_if<T>(&v.storage())) return *p;
  if (const Value* inner = boxed_value(v, box)) {
    if (const T* p = std::get_if<T>(&inner->storage())) return *p;
  }
  return std::nullopt;
}

template <class T>
T load_be(const std::uint8_t* p) {
  using U = std::conditional_t<sizeof(T) == 1, std::uint8_t,
            std::conditional_t<sizeof(T) == 2, std::uint16_t,
            std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>>>;
  U u = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) u = static_cast<U>((u << 8) | p[i]);
  return std::bit_cast<T>(u);
}

}  // namespace

bool Value::is_primitive() const {
  const auto i = storage_.index();
  return i >= 1 && i <= 8;
}

std::optional<bool> Value::as_bool() const { return unboxed<bool>(*this, "java.lang.Boolean"); }
std::optional<std::int8_t> Value::as_byte() const { return unboxed<std::int8_t>(*this, "java.lang.Byte"); }
std::optional<char16_t> Value::as_char() const { return unboxed<char16_t>(*this, "java.lang.Character"); }
std::optional<std::int16_t> Value::as_short() const { return unboxed<std::int16_t>(*this, "java.lang.Short"); }
std::optional<std::int32_t> Value::as_int() const { return unboxed<std::int32_t>(*this, "java.lang.Integer"); }
std::optional<float> Value::as_float() const { return unboxed<float>(*this, "java.lang.Float"); }
std::optional<double> Value::as_double() const { return unboxed<double>(*this, "java.lang.Double"); }

std::optional<std::int64_t> Value::as_long() const {
  if (auto v = unboxed<std::int64_t>(*this, "java.lang.Long")) return v;
  if (auto v = as_int()) return *v;
  if (auto v = as_short()) return *v;
  if (auto v = as_byte()) return *v;
  return std::nullopt;
}

std::optional<std::string> Value::as_string() const {
  const JString* s = as_jstring();
  if (s == nullptr) return std::nullopt;
  return s->utf8();
}

const JString* Value::as_jstring() const {
  const auto* p = std::get_if<const JString*>(&storage_);
  return p ? *p : nullptr;
}
const Object* Value::as_object() const {
  const auto* p = std::get_if<const Object*>(&storage_);
  return p ? *p : nullptr;
}
const Array* Value::as_array() const {
  const auto* p = std::get_if<const Array*>(&storage_);
  return p ? *p : nullptr;
}
const EnumConstant* Value::as_enum() const {
  const auto* p = std::get_if<const EnumConstant*>(&storage_);
  return p ? *p : nullptr;
}
const ClassObject* Value::as_class() const {
  const auto* p = std::get_if<const ClassObject*>(&storage_);
  return p ? *p : nullptr;
}
const ClassDesc* Value::as_class_desc() const {
  const auto* p = std::get_if<const ClassDesc*>(&storage_);
  return p ? *p : nullptr;
}

std::optional<std::span<const std::uint8_t>> Value::as_bytes() const {
  const Array* a = as_array();
  if (a == nullptr || a->element_type != 'B') return std::nullopt;
  return std::span<const std::uint8_t>(a->raw);
}

std::string_view Value::class_name() const {
  if (as_jstring() != nullptr) return "java.lang.String";
  if (const Object* o = as_object()) return o->class_name();
  if (const Array* a = as_array()) return a->desc ? std::string_view(a->desc->name) : "";
  if (const EnumConstant* e = as_enum()) return e->desc ? std::string_view(e->desc->name) : "";
  if (as_class() != nullptr) return "java.lang.Class";
  if (as_class_desc() != nullptr) return "java.io.ObjectStreamClass";
  return "";
}

std::size_t FieldDesc::primitive_size() const {
  switch (type) {
    case 'B': case 'Z': return 1;
    case 'C': case 'S': return 2;
    case 'I': case 'F': return 4;
    case 'J': case 'D': return 8;
    default: return 0;
  }
}

std::string FieldDesc::signature_string() const {
  if (signature != nullptr) return signature->utf8();
  return std::string(1, type);
}

const FieldDesc* ClassDesc::field(std::string_view field_name) const {
  for (const FieldDesc& f : fields) {
    if (f.name == field_name) return &f;
  }
  return nullptr;
}

std::size_t ClassDesc::primitive_bytes() const {
  std::size_t n = 0;
  for (const FieldDesc& f : fields) n += f.primitive_size();
  return n;
}

std::vector<const ClassDesc*> ClassDesc::chain() const {
  std::vector<const ClassDesc*> out;
  for (const ClassDesc* d = this; d != nullptr && out.size() < 4096; d = d->super) out.push_back(d);
  return out;
}

bool ClassDesc::is_or_extends(std::string_view class_name) const {
  std::size_t guard = 0;
  for (const ClassDesc* d = this; d != nullptr && guard < 4096; d = d->super, ++guard) {
    if (d->name == class_name) return true;
  }
  return false;
}

std::string JString::utf8() const { return mutf8::to_utf8(mutf8); }

bool JString::equals(std::string_view utf8_text) const {
  if (mutf8 == utf8_text) return true;
  return utf8() == utf8_text;
}

const Value* ClassData::field(std::string_view field_name) const {
  if (desc == nullptr || !has_fields) return nullptr;
  for (std::size_t i = 0; i < desc->fields.size() && i < fields.size(); ++i) {
    if (desc->fields[i].name == field_name) return &fields[i];
  }
  return nullptr;
}

Value* ClassData::field(std::string_view field_name) {
  return const_cast<Value*>(std::as_const(*this).field(field_name));
}

const ClassData* Object::class_data(std::string_view cls) const {
  for (const ClassData& c : classes) {
    if (c.desc != nullptr && c.desc->name == cls) return &c;
  }
  return nullptr;
}

ClassData* Object::class_data(std::string_view cls) {
  return const_cast<ClassData*>(std::as_const(*this).class_data(cls));
}

const Value* Object::field(std::string_view cls, std::string_view field_name) const {
  const ClassData* c = class_data(cls);
  return c ? c->field(field_name) : nullptr;
}

const Value* Object::field(std::string_view field_name) const {
  for (auto it = classes.rbegin(); it != classes.rend(); ++it) {
    if (const Value* v = it->field(field_name)) return v;
  }
  return nullptr;
}

bool Object::set(std::string_view cls, std::string_view field_name, Value v) {
  ClassData* c = class_data(cls);
  Value* slot = c ? c->field(field_name) : nullptr;
  if (slot == nullptr) return false;
  *slot = v;
  return true;
}

bool Object::set(std::string_view field_name, Value v) {
  for (auto it = classes.rbegin(); it != classes.rend(); ++it) {
    if (Value* slot = it->field(field_name)) {
      *slot = v;
      return true;
    }
  }
  return false;
}

Value Array::at(std::size_t i) const {
  if (i >= static_cast<std::size_t>(length)) return Value();
  if (!is_primitive()) return i < elements.size() ? elements[i] : Value();
  const std::uint8_t* p = raw.data();
  switch (element_type) {
    case 'B': return Value(static_cast<std::int8_t>(p[i]));
    case 'Z': return Value(p[i] != 0);
    case 'C': return Value(load_be<char16_t>(p + 2 * i));
    case 'S': return Value(load_be<std::int16_t>(p + 2 * i));
    case 'I': return Value(load_be<std::int32_t>(p + 4 * i));
    case 'F': return Value(load_be<float>(p + 4 * i));
    case 'J': return Value(load_be<std::int64_t>(p + 8 * i));
    case 'D': return Value(load_be<double>(p + 8 * i));
    default: return Value();
  }
}

JString* Arena::make_string(std::string m) {
  JString& s = strings_.emplace_back();
  s.mutf8 = std::move(m);
  return &s;
}

JString* Arena::make_string_utf8(std::string_view utf8) {
  return make_string(mutf8::from_utf8(utf8));
}

ClassDesc* Arena::make_class_desc() { return &descs_.emplace_back(); }

Object* Arena::make_object(const ClassDesc* desc) {
  Object& o = objects_.emplace_back();
  o.desc = desc;
  return &o;
}

Array* Arena::make_array(const ClassDesc* desc) {
  Array& a = arrays_.emplace_back();
  a.desc = desc;
  return &a;
}

EnumConstant* Arena::make_enum(const ClassDesc* desc, const JString* name) {
  EnumConstant& e = enums_.emplace_back();
  e.desc = desc;
  e.name = name;
  return &e;
}

ClassObject* Arena::make_class(const ClassDesc* desc) {
  ClassObject& c = classes_.emplace_back();
  c.desc = desc;
  return &c;
}

std::size_t Arena::node_count() const {
  return strings_.size() + descs_.size() + objects_.size() + arrays_.size() + enums_.size() +
         classes_.size();
}

std::vector<Value> Stream::values() const {
  std::vector<Value> out;
  for (const Content& c : contents) {
    if (const Value* v = std::get_if<Value>(&c)) out.push_back(*v);
  }
  return out;
}

}  // namespace kite::ser
