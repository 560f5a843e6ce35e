#include "tests/channel/recorded_values.hpp"

#include <fmt/format.h>

#include "protocol/serialization/reader.hpp"

namespace kite::channel::test {

std::string shape(const ser::Value& v, int depth, bool remoting_loaders) {
  if (v.is_null()) return "null";
  if (v.is_primitive()) return "prim";
  if (v.as_jstring()) return "String";
  if (const ser::EnumConstant* e = v.as_enum()) return fmt::format("enum {}.{}", e->desc->name, e->constant());
  if (const ser::Array* a = v.as_array()) return "array " + a->desc->name;
  const ser::Object* o = v.as_object();
  if (o == nullptr) return "other";
  if (o->desc->proxy) return fmt::format("proxy {}", fmt::join(o->desc->interfaces, ","));
  std::string s(o->class_name());
  if (depth <= 0) return s;
  s += "{";
  for (const ser::ClassData& cd : o->classes) {
    const ser::ClassDesc* d = cd.desc;
    s += fmt::format(" [{} svuid={} flags={}", d->name, d->svuid, d->flags);
    const bool show_loader = remoting_loaders || !d->name.starts_with("hudson.remoting.");
    if (d->resolved_loader && show_loader) s += fmt::format(" loader={}/{}", d->resolved_loader->tag, d->resolved_loader->oid);
    for (std::size_t i = 0; i < d->fields.size(); ++i) {
      s += fmt::format(" {}{}", d->fields[i].type, d->fields[i].name);
      if (i < cd.fields.size() && !d->fields[i].is_primitive()) s += "=" + shape(cd.fields[i], depth - 1, remoting_loaders);
    }
    s += "]";
  }
  return s + " }";
}

std::string leaf(const ser::Value& v) {
  if (v.is_null()) return "null";
  if (auto s = v.as_string()) return "\"" + *s + "\"";
  if (auto b = v.as_bool(); b && v.class_name() == "java.lang.Boolean") return *b ? "true" : "false";
  if (auto l = v.as_long()) return std::to_string(*l);
  return std::string(v.class_name());
}

std::optional<Reply> reply_of(const std::vector<std::uint8_t>& bytes) {
  auto command = decode_command(bytes);
  if (!command || !std::holds_alternative<ResponseCmd>(*command)) return std::nullopt;
  const ser::Object* o = std::get<ResponseCmd>(*command).return_value.as_object();
  if (o == nullptr) return std::nullopt;
  Reply r;
  r.exception = o->class_name() != "hudson.remoting.UserRequest$NormalResponse";
  const ser::Value* bytes_field = o->field(r.exception ? "rawResponse" : "response");
  if (bytes_field == nullptr || !bytes_field->as_bytes()) return std::nullopt;
  auto p = ser::read_payload(*bytes_field->as_bytes());
  if (!p) return std::nullopt;
  r.payload = std::move(*p);
  return r;
}

std::optional<std::int32_t> response_id(const std::vector<std::uint8_t>& bytes) {
  auto command = decode_command(bytes);
  if (!command || !std::holds_alternative<ResponseCmd>(*command)) return std::nullopt;
  return std::get<ResponseCmd>(*command).id;
}

std::string callable_class(const UserRequestCmd& request) {
  auto p = ser::read_payload(request.payload);
  if (!p || p->values().empty()) return "?";
  const ser::Object* o = p->values()[0].as_object();
  if (o == nullptr) return "?";
  if (o->class_name() == "hudson.FilePath$CallableWith" || o->class_name() == "hudson.FilePath$FileCallableWrapper") {
    const ser::Value* inner = o->field(o->class_name().ends_with("CallableWith") ? "task" : "callable");
    if (inner && inner->as_object()) return std::string(inner->as_object()->class_name());
  }
  return std::string(o->class_name());
}

}  // namespace kite::channel::test
