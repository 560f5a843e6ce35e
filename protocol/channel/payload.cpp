#include "protocol/channel/payload.hpp"

#include <spdlog/spdlog.h>

#include "protocol/serialization/jdk.hpp"
#include "protocol/serialization/writer.hpp"

namespace kite::channel {
namespace {

bool is_java_class(std::string_view name) {
  // Array classes name the loader of their element type: "[B", "[Ljava.lang.String;".
  std::string_view element = name;
  while (!element.empty() && element.front() == '[') element.remove_prefix(1);
  if (element.size() == 1) return true;  // primitive element type
  if (!element.empty() && element.front() == 'L') element.remove_prefix(1);
  return element.starts_with("java.") || element.starts_with("javax.");
}

}  // namespace

ser::Result<std::vector<std::uint8_t>> write_payload(const ser::Value& value, std::int32_t loader_oid) {
  ser::WriterOptions options;
  options.annotations = ser::AnnotationMode::Loader;
  options.loader_policy = [loader_oid](const ser::ClassDesc& desc) {
    if (loader_oid == 0) return ser::LoaderRef::system();
    if (desc.proxy) return ser::LoaderRef::local(loader_oid);
    return is_java_class(desc.name) ? ser::LoaderRef::system() : ser::LoaderRef::local(loader_oid);
  };
  return ser::write_values(std::span<const ser::Value>(&value, 1), options);
}

ser::Value make_throwable(ser::Arena& arena, const JavaException& exception) {
  ser::jdk::ThrowableSpec spec;
  spec.class_name = exception.class_name;
  spec.message = exception.own_detail_message ? exception.detail_message : exception.message;
  // Without a cause it stays uninitialised (a reference to the exception
  // itself), as the JDK writes an exception created without one.
  if (exception.cause) spec.cause = make_throwable(arena, *exception.cause);
  for (const auto& [name, text] : exception.string_fields) {
    spec.fields.emplace_back(name, ser::jdk::string(arena, text));
  }
  for (const auto& [name, number] : exception.int_fields) spec.fields.emplace_back(name, number);
  auto t = ser::jdk::throwable(arena, spec);
  if (t) return *t;
  // An unknown class name is a programming error of the handler; fall back to
  // an IOException that still carries the message rather than failing the reply.
  spdlog::error("cannot build Java exception {}: {}; sending java.io.IOException", exception.class_name,
                t.error().describe());
  spec = {};
  spec.class_name = "java.io.IOException";
  spec.message = exception.describe();
  spec.cause = ser::Value(ser::Null{});
  return ser::jdk::throwable(arena, spec).value();
}

ExceptionPayloads write_exception_payloads(const JavaException& exception) {
  ExceptionPayloads out;
  ser::Arena arena;
  auto raw = write_payload(make_throwable(arena, exception), 0);
  if (raw) out.raw = std::move(*raw);
  JavaException proxy{"hudson.remoting.ProxyException", exception.describe(), {}};
  out.proxy = write_payload(make_throwable(arena, proxy), 0).value();
  return out;
}

std::int32_t loader_oid_of(const ser::ClassDesc* desc, std::int32_t fallback) {
  if (desc != nullptr && desc->resolved_loader) {
    const ser::LoaderTag& t = *desc->resolved_loader;
    // Only a loader the controller exported (-2) can be named back to it as TAG_LOCAL.
    if (t.tag == ser::kTagExportedClassLoader) return t.oid;
  }
  return fallback;
}

}  // namespace kite::channel
