// Unit tests of the serialization codec: modified UTF-8, exact bytes of
// documented shapes, class-loader tags, block data records, navigation and
// every class of malformed input.
#include <catch2/catch.hpp>

#include "protocol/serialization/build.hpp"
#include "protocol/serialization/dump.hpp"
#include "protocol/serialization/jdk.hpp"
#include "protocol/serialization/mutf8.hpp"
#include "protocol/serialization/reader.hpp"
#include "protocol/serialization/writer.hpp"
#include "tests/serialization/support.hpp"

using namespace kite::ser;
using kite::ser::test::from_hex;
using kite::ser::test::to_hex;

namespace {

std::vector<std::uint8_t> hex_ascii(std::string_view text) {
  std::vector<std::uint8_t> out(text.begin(), text.end());
  return out;
}

std::string hex_of_ascii(std::string_view text) { return to_hex(hex_ascii(text)); }

std::vector<std::uint8_t> write_or_fail(const Value& v, WriterOptions options = {}) {
  auto bytes = write_values(std::span<const Value>(&v, 1), options);
  REQUIRE(bytes.has_value());
  return *bytes;
}

WriterOptions payload_options(LoaderPolicy policy = {}) {
  WriterOptions o;
  o.annotations = AnnotationMode::Loader;
  o.loader_policy = std::move(policy);
  return o;
}

}  // namespace

TEST_CASE("mutf8 encodes NUL as C0 80") {
  const std::string m = mutf8::from_utf8(std::string("a\0b", 3));
  CHECK(to_hex(std::vector<std::uint8_t>(m.begin(), m.end())) == "61c08062");
  CHECK(mutf8::to_utf8(m) == std::string("a\0b", 3));
}

TEST_CASE("mutf8 encodes astral characters as surrogates") {
  const std::string m = mutf8::from_utf8("\xF0\x9F\x98\x80");  // U+1F600
  CHECK(to_hex(std::vector<std::uint8_t>(m.begin(), m.end())) == "eda0bdedb880");
  CHECK(mutf8::to_utf8(m) == "\xF0\x9F\x98\x80");
  CHECK(mutf8::utf16_length(m) == 2);
}

TEST_CASE("mutf8 keeps lone surrogates") {
  const std::string lone = "\xED\xA0\x80";  // U+D800 alone, valid in a Java String
  CHECK(!mutf8::find_invalid(lone).has_value());
  CHECK(mutf8::from_utf8(mutf8::to_utf8(lone)) == lone);
}

TEST_CASE("mutf8 rejects malformed sequences") {
  CHECK(mutf8::find_invalid("ab\xF0\x9F\x98\x80") == std::optional<std::size_t>(2));
  CHECK(mutf8::find_invalid("\xC3") == std::optional<std::size_t>(0));
  CHECK(mutf8::find_invalid("x\x80") == std::optional<std::size_t>(1));
  CHECK(!mutf8::find_invalid(std::string("\0", 1)).has_value());
}

TEST_CASE("Integer 42 payload matches remoting bytes") {
  Arena arena;
  const auto bytes = write_or_fail(jdk::integer(arena, 42), payload_options());
  const std::string expected = "aced0005737200116a6176612e6c616e672e496e746567657212e2a0a4f7818738"
                               "02000149000576616c7565" "7704fffffffd78"
                               "7200106a6176612e6c616e672e4e756d62657286ac951d0b94e08b020000"
                               "7704fffffffd78" "70" "0000002a";
  CHECK(to_hex(bytes) == expected);
}

TEST_CASE("HashSet command-level bytes match the JDK") {
  Arena arena;
  const auto bytes = write_or_fail(jdk::hash_set(arena, {jdk::string(arena, "a.txt")}));
  const std::string expected = "aced0005" "7372" "0011" + hex_of_ascii("java.util.HashSet") +
                               "ba44859596b8b734" "03" "0000" "78" "70" "770c000000103f40000000000001" +
                               "740005" + hex_of_ascii("a.txt") + "78";
  CHECK(to_hex(bytes) == expected);
}

TEST_CASE("IOException payload has the documented size") {
  Arena arena;
  jdk::ThrowableSpec spec;
  spec.class_name = "java.io.IOException";
  spec.message = "boom";
  auto ex = jdk::throwable(arena, spec);
  REQUIRE(ex.has_value());
  const auto bytes = write_or_fail(*ex, payload_options());
  CHECK(bytes.size() == 407);

  auto back = read_payload(bytes);
  REQUIRE(back.has_value());
  const Object* o = back->values().at(0).as_object();
  REQUIRE(o != nullptr);
  CHECK(o->class_name() == "java.io.IOException");
  CHECK(o->field("java.lang.Throwable", "detailMessage")->as_string() == "boom");
  CHECK(o->field("cause")->as_object() == o);
  CHECK(o->field("suppressedExceptions")->class_name() == "java.util.Collections$EmptyList");
  CHECK(o->desc->resolved_loader == LoaderTag{kTagSystemClassLoader, 0});
}

TEST_CASE("loader policy announces once then refers by index") {
  Arena arena;
  ClassDesc* plugin = make_class_desc(arena, {"org.example.Info", 1, kScSerializable, {{'I', "n", ""}}});
  ClassDesc* plugin2 = make_class_desc(arena, {"org.example.Other", 2, kScSerializable, {}});
  ClassDesc* exported = make_class_desc(arena, {"org.example.Third", 3, kScSerializable, {}});
  Object* a = make_object(arena, plugin);
  a->set("n", Value(std::int32_t{9}));
  Object* b = make_object(arena, plugin2);
  Object* c = make_object(arena, exported);
  const Value list = jdk::array_list(arena, {Value(static_cast<const Object*>(a)),
                                             Value(static_cast<const Object*>(b)),
                                             Value(static_cast<const Object*>(c))});
  auto policy = [](const ClassDesc& d) {
    if (d.name.starts_with("java.")) return LoaderRef::system();
    if (d.name == "org.example.Third") return LoaderRef::exported(11);
    return LoaderRef::local(5);
  };
  const auto bytes = write_or_fail(list, payload_options(policy));
  auto back = read_payload(bytes);
  REQUIRE(back.has_value());
  const Object* l = back->values().at(0).as_object();
  REQUIRE(l != nullptr);
  const auto& custom = l->classes.at(0).custom;
  REQUIRE(custom.size() == 4);
  const Object* ra = std::get<Value>(custom[1]).as_object();
  const Object* rb = std::get<Value>(custom[2]).as_object();
  const Object* rc = std::get<Value>(custom[3]).as_object();
  CHECK(ra->desc->loader == LoaderTag{kTagLocalClassLoader, 5});
  CHECK(rb->desc->loader == LoaderTag{0, 0});
  CHECK(rb->desc->resolved_loader == LoaderTag{kTagLocalClassLoader, 5});
  CHECK(rc->desc->loader == LoaderTag{kTagExportedClassLoader, 11});
  CHECK(l->desc->loader == LoaderTag{kTagSystemClassLoader, 0});
  CHECK(ra->field("n")->as_int() == 9);

  // The stored annotations re-encode to the same bytes.
  auto again = write_stream(*back);
  REQUIRE(again.has_value());
  CHECK(*again == bytes);

  // Command-level writing drops the tags.
  WriterOptions plain;
  plain.annotations = AnnotationMode::Empty;
  auto stripped = write_stream(*back, plain);
  REQUIRE(stripped.has_value());
  auto reread = read_payload(*stripped);
  REQUIRE(reread.has_value());
  CHECK(!reread->values().at(0).as_object()->desc->loader.has_value());
}

TEST_CASE("proxy descriptors carry a loader tag") {
  Arena arena;
  ClassDesc* handler_desc = make_class_desc(
      arena, {"hudson.remoting.RemoteInvocationHandler", 1, kScSerializable, {{'I', "oid", ""}}});
  Object* handler = make_object(arena, handler_desc);
  handler->set("oid", Value(std::int32_t{3}));
  Object* proxy = make_proxy(arena, {"hudson.remoting.IReadResolve"}, Value(static_cast<const Object*>(handler)));
  const auto bytes = write_or_fail(Value(static_cast<const Object*>(proxy)),
                                   payload_options([](const ClassDesc& d) {
                                     return d.name.starts_with("java.") ? LoaderRef::system() : LoaderRef::local(2);
                                   }));
  auto back = read_payload(bytes);
  REQUIRE(back.has_value());
  const Object* p = back->values().at(0).as_object();
  REQUIRE(p->desc->proxy);
  CHECK(p->desc->interfaces == std::vector<std::string>{"hudson.remoting.IReadResolve"});
  CHECK(p->desc->loader == LoaderTag{kTagLocalClassLoader, 2});
  CHECK(p->desc->super->name == "java.lang.reflect.Proxy");
  CHECK(p->desc->super->svuid == -2222568056686623797LL);
  const Object* h = p->field("java.lang.reflect.Proxy", "h")->as_object();
  REQUIRE(h != nullptr);
  CHECK(h->field("oid")->as_int() == 3);
}

TEST_CASE("block data splits at 1024 bytes") {
  Writer w;
  std::vector<std::uint8_t> data(2500, 7);
  REQUIRE(w.write_block_data(data).has_value());
  const auto& out = w.bytes();
  REQUIRE(out.size() == 4 + 5 + 1024 + 5 + 1024 + 5 + 452);
  CHECK(to_hex(std::span(out).subspan(4, 5)) == "7a00000400");
  CHECK(to_hex(std::span(out).subspan(4 + 5 + 1024, 5)) == "7a00000400");
  CHECK(to_hex(std::span(out).subspan(4 + 2 * (5 + 1024), 5)) == "7a000001c4");
}

TEST_CASE("custom data without default fields is read") {
  // A Pipe as remoting writes it: descriptor with two object fields, then
  // only `77 05 <bool><int>` and the end marker.
  Arena arena;
  ClassDesc* pipe = make_class_desc(arena, {"hudson.remoting.Pipe", 1, kScSerializable | kScWriteMethod,
                                            {{'L', "in", "Ljava/io/InputStream;"},
                                             {'L', "out", "Ljava/io/OutputStream;"}}});
  Object* o = make_object(arena, pipe);
  o->classes[0].has_fields = false;
  o->classes[0].fields.clear();
  o->classes[0].custom.emplace_back(BlockBuilder().write_bool(true).write_int(4).build());
  const auto bytes = write_or_fail(Value(static_cast<const Object*>(o)));

  for (const bool listed : {true, false}) {
    ReaderOptions options;
    if (!listed) options.classes_without_default_fields.clear();
    auto back = read_stream(bytes, options);
    REQUIRE(back.has_value());
    const Object* r = back->values().at(0).as_object();
    REQUIRE(r != nullptr);
    CHECK(!r->classes[0].has_fields);
    BlockReader data(r->classes[0].custom);
    CHECK(data.read_bool() == true);
    CHECK(data.read_int() == 4);
  }
}

TEST_CASE("primitive fields without defaultWriteObject are detected") {
  // RemoteInputStream: fields Z autoUnexport, Z greedy; writes `77 01 01` and an object.
  const auto bytes = from_hex(
      "aced0005 7372 0010" + hex_of_ascii("org.example.Ris1") + "0000000000000001 03 0002" +
      "5a 000c" + hex_of_ascii("autoUnexport") + "5a 0006" + hex_of_ascii("greedy") + "78 70" +
      "770101 740001" + hex_of_ascii("p") + "78");
  auto back = read_stream(bytes);
  REQUIRE(back.has_value());
  const Object* r = back->values().at(0).as_object();
  CHECK(!r->classes[0].has_fields);
  CHECK(r->classes[0].custom.size() == 2);
  auto again = write_stream(*back);
  REQUIRE(again.has_value());
  CHECK(*again == bytes);
}

TEST_CASE("navigation unwraps boxed values") {
  Arena arena;
  CHECK(jdk::integer(arena, -5).as_int() == -5);
  CHECK(jdk::long_value(arena, 1LL << 40).as_long() == (1LL << 40));
  CHECK(jdk::integer(arena, 7).as_long() == 7);
  CHECK(jdk::boolean(arena, true).as_bool() == true);
  CHECK(jdk::string(arena, "x").as_string() == "x");
  const std::vector<std::uint8_t> raw{1, 2, 3};
  const auto b = jdk::bytes(arena, raw);
  REQUIRE(b.as_bytes().has_value());
  CHECK(b.as_bytes()->size() == 3);
  CHECK(!jdk::string(arena, "x").as_int().has_value());
  CHECK(Value().is_null());
}

TEST_CASE("enum constants are written under the enum class") {
  Arena arena;
  const auto bytes = write_or_fail(jdk::enum_constant(arena, "java.lang.Thread$State", "RUNNABLE"),
                                   payload_options());
  const std::string expected = "aced0005" "7e72" "0016" + hex_of_ascii("java.lang.Thread$State") +
                               "0000000000000000" "12" "0000" "7704fffffffd78" "72" "000e" +
                               hex_of_ascii("java.lang.Enum") + "0000000000000000" "12" "0000" +
                               "7704fffffffd78" "70" "740008" + hex_of_ascii("RUNNABLE");
  CHECK(to_hex(bytes) == expected);
}

// ------------------------------------------------------------ bad input

TEST_CASE("every truncation of a stream is a typed error") {
  Arena arena;
  jdk::ThrowableSpec spec;
  spec.message = "boom";
  jdk::StackFrame frame;
  frame.declaring_class = "a.B";
  frame.method_name = "run";
  frame.file_name = "B.java";
  frame.line_number = 3;
  spec.stack_trace.push_back(frame);
  auto ex = jdk::throwable(arena, spec);
  REQUIRE(ex.has_value());
  const auto full = write_or_fail(*ex, payload_options());
  for (std::size_t n = 0; n < full.size(); ++n) {
    auto r = read_stream(std::span(full.data(), n));
    if (n == 4) {
      CHECK(r.has_value());  // header only: an empty stream
      continue;
    }
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().offset <= n);
    // A length that exceeds the shortened input is reported as BadLength.
    const bool typed = r.error().code == ErrorCode::Truncated || r.error().code == ErrorCode::BadLength;
    CHECK(typed);
  }
}

TEST_CASE("bad magic and version are rejected") {
  auto r = read_stream(from_hex("acee0005"));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::BadMagic);
  r = read_stream(from_hex("aced0004"));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::BadVersion);
  CHECK(r.error().offset == 2);
}

TEST_CASE("huge lengths are checked before allocating") {
  // byte[] claiming 2^31-1 elements.
  auto r = read_stream(from_hex("aced0005 7572 0002 5b42 acf317f8060854e0 02 0000 78 70 7fffffff 0102"));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::BadLength);
  CHECK(r.error().offset == 27);  // just after the length field
  // Object[] claiming more elements than bytes remain.
  r = read_stream(from_hex("aced0005 7572 0013" + hex_of_ascii("[Ljava.lang.Object;") +
                           "90ce589f1073296c 02 0000 78 70 00100000 70"));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::BadLength);
  // TC_LONGSTRING claiming an exabyte.
  r = read_stream(from_hex("aced0005 7c 0fffffffffffffff 41"));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::BadLength);
  CHECK(r.error().offset == 13);
  // Negative array length.
  r = read_stream(from_hex("aced0005 7572 0002 5b42 acf317f8060854e0 02 0000 78 70 ffffffff"));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::BadLength);
  // Proxy with a huge interface count.
  r = read_stream(from_hex("aced0005 737d 7fffffff 0001 41"));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::BadLength);
  // Block data longer than the input.
  r = read_stream(from_hex("aced0005 7a 7fffffff 00"));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::Truncated);
}

TEST_CASE("deep nesting stops at max_depth") {
  // Object[] { Object[] { ... } } 100000 levels deep, each level a reference to the descriptor.
  std::string hex = "aced0005 7572 0013" + hex_of_ascii("[Ljava.lang.Object;") + "90ce589f1073296c 02 0000 78 70 00000001";
  for (int i = 0; i < 100000; ++i) hex += "75 71007e0000 00000001";
  hex += "70";
  auto r = read_stream(from_hex(hex));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::DepthExceeded);

  ReaderOptions shallow;
  shallow.max_depth = 4;
  r = read_stream(from_hex(hex), shallow);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::DepthExceeded);
}

TEST_CASE("handle count is bounded") {
  std::string hex = "aced0005";
  for (int i = 0; i < 20; ++i) hex += "740001" + hex_of_ascii("s");
  ReaderOptions few;
  few.max_handles = 10;
  auto r = read_stream(from_hex(hex), few);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::TooManyObjects);
  CHECK(read_stream(from_hex(hex)).has_value());
}

TEST_CASE("invalid references and tokens are rejected") {
  auto r = read_stream(from_hex("aced0005 71007e0005"));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::BadHandle);
  CHECK(r.error().offset == 4);
  // A string handle used as a class descriptor.
  r = read_stream(from_hex("aced0005 740001" + hex_of_ascii("s") + "73 71007e0000"));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::BadHandle);
  r = read_stream(from_hex("aced0005 78"));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::UnexpectedToken);
  r = read_stream(from_hex("aced0005 7400 02c3 41"));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::BadUtf);
  CHECK(r.error().offset == 7);
  // Field with an invalid type code.
  r = read_stream(from_hex("aced0005 7372 0001 41 0000000000000001 02 0001 51 0001 78 78 70"));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::BadClassDesc);
  // TC_RESET inside an object array.
  r = read_stream(from_hex("aced0005 7572 0013" + hex_of_ascii("[Ljava.lang.Object;") +
                           "90ce589f1073296c 02 0000 78 70 00000001 79"));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::UnexpectedReset);
  // Externalizable data of protocol version 1 cannot be delimited.
  r = read_stream(from_hex("aced0005 7372 0001 41 0000000000000001 04 0000 78 70 00"));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::Unsupported);
}

TEST_CASE("error messages name the offset") {
  auto r = read_stream(from_hex("aced0005 71007e0005"));
  REQUIRE_FALSE(r);
  CHECK(r.error().describe().find("offset 4") != std::string::npos);
}

TEST_CASE("dump prints classes, fields and handles") {
  Arena arena;
  const auto bytes = write_or_fail(jdk::array_list(arena, {jdk::integer(arena, 42), jdk::string(arena, "s")}));
  auto s = read_stream(bytes);
  REQUIRE(s.has_value());
  const std::string text = dump(*s);
  CHECK(text.find("TC_OBJECT h=0x7e0001 java.util.ArrayList") != std::string::npos);
  CHECK(text.find("size = 2") != std::string::npos);
  CHECK(text.find("value = 42") != std::string::npos);
  CHECK(text.find("\"s\"") != std::string::npos);
}

TEST_CASE("writer rejects graphs inconsistent with descriptors") {
  Arena arena;
  ClassDesc* d = make_class_desc(arena, {"a.B", 1, kScSerializable, {{'I', "n", ""}}});
  Object* o = make_object(arena, d);
  o->classes[0].fields[0] = Value(std::int64_t{1});
  auto r = write_values(std::vector<Value>{Value(static_cast<const Object*>(o))});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::InvalidGraph);
}
