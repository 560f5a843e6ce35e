// Helpers for channel tests: build the controller's commands and decode the
// channel's answers.
#pragma once

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "protocol/channel/commands.hpp"
#include "protocol/channel/payload.hpp"
#include "protocol/serialization/build.hpp"
#include "protocol/serialization/jdk.hpp"
#include "protocol/serialization/reader.hpp"
#include "protocol/serialization/writer.hpp"

namespace kite::channel::test {

// Payload as the controller writes it: its own classes under loader `loader_oid` (tag -2).
inline std::vector<std::uint8_t> controller_payload(const ser::Value& value, std::int32_t loader_oid = 2) {
  ser::WriterOptions options;
  options.annotations = ser::AnnotationMode::Loader;
  options.loader_policy = [loader_oid](const ser::ClassDesc& d) {
    const bool jdk = d.name.starts_with("java.") || (d.name.starts_with("[") && d.name.size() == 2) ||
                     d.name.starts_with("[Ljava.");
    return jdk ? ser::LoaderRef::system() : ser::LoaderRef::exported(loader_oid);
  };
  return ser::write_values(std::span<const ser::Value>(&value, 1), options).value();
}

// An object of a callable class with the given primitive/object fields.
inline ser::Object* callable_object(ser::Arena& arena, const std::string& class_name,
                                    std::vector<ser::FieldSpec> fields = {}) {
  auto* desc = ser::make_class_desc(arena, ser::ClassSpec{class_name, 1, ser::kScSerializable, std::move(fields), nullptr});
  return ser::make_object(arena, desc);
}

inline std::vector<std::uint8_t> user_request(std::int32_t id, const ser::Value& callable, const std::string& text) {
  return encode_user_request(id, 0, 2, controller_payload(callable), text);
}

// The decoded answer to a UserRequest.
struct Answer {
  std::int32_t id = 0;
  std::int32_t last_io_id = 0;
  bool exception = false;
  ser::Stream payload;      // NormalResponse payload, or the rawResponse for exceptions
  ser::Stream proxy;        // proxyResponse for exceptions
  ser::Value value() const { return payload.values().empty() ? ser::Value() : payload.values()[0]; }
  std::string exception_class() const { return std::string(value().class_name()); }
  std::string exception_message() const {
    const ser::Object* o = value().as_object();
    const ser::Value* m = o ? o->field("detailMessage") : nullptr;
    return m && m->as_string() ? *m->as_string() : std::string();
  }
};

inline Answer decode_answer(const std::vector<std::uint8_t>& bytes) {
  auto command = decode_command(bytes);
  REQUIRE(command.has_value());
  REQUIRE(std::holds_alternative<ResponseCmd>(*command));
  const auto& r = std::get<ResponseCmd>(*command);
  Answer a;
  a.id = r.id;
  a.last_io_id = r.last_io_id;
  const ser::Object* o = r.return_value.as_object();
  REQUIRE(o != nullptr);
  if (o->class_name() == "hudson.remoting.UserRequest$NormalResponse") {
    auto p = ser::read_payload(*o->field("response")->as_bytes());
    REQUIRE(p.has_value());
    a.payload = std::move(*p);
  } else {
    REQUIRE(o->class_name() == "hudson.remoting.UserRequest$ExceptionResponse");
    a.exception = true;
    auto raw = ser::read_payload(*o->field("rawResponse")->as_bytes());
    auto proxy = ser::read_payload(*o->field("proxyResponse")->as_bytes());
    REQUIRE(raw.has_value());
    REQUIRE(proxy.has_value());
    a.payload = std::move(*raw);
    a.proxy = std::move(*proxy);
  }
  return a;
}

}  // namespace kite::channel::test
