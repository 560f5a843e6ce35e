// Kite against the JDK: the oracle (tests/oracle) writes its catalogue with
// ObjectOutputStream; Kite decodes and re-encodes every stream byte for
// byte, builds the same values with its typed helpers and must produce the
// JDK's bytes, and the JDK must read Kite's bytes back to equal values.
//
// Environment: KITE_JAVA (java executable), KITE_ORACLE_CLASSES (javac output).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <unistd.h>

#include "protocol/serialization/build.hpp"
#include "protocol/serialization/dump.hpp"
#include "protocol/serialization/jdk.hpp"
#include "protocol/serialization/reader.hpp"
#include "protocol/serialization/writer.hpp"
#include "tests/serialization/support.hpp"

namespace fs = std::filesystem;
using namespace kite::ser;
using kite::ser::test::first_difference;
using kite::ser::test::read_file;
using kite::ser::test::write_file;

namespace {

struct Oracle {
  std::string java;
  std::string classes;
  fs::path dir;

  int run(const std::string& mode, const fs::path& where) const {
    const std::string cmd = "'" + java + "' -cp '" + classes + "' kite.oracle.Oracle " + mode + " '" +
                            where.string() + "'";
    const int status = std::system(cmd.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
};

const Oracle& oracle() {
  static const Oracle o = [] {
    Oracle x;
    const char* java = std::getenv("KITE_JAVA");
    const char* classes = std::getenv("KITE_ORACLE_CLASSES");
    if (java == nullptr || classes == nullptr) {
      FAIL("KITE_JAVA and KITE_ORACLE_CLASSES must name the java executable and the oracle classes");
    }
    x.java = java;
    x.classes = classes;
    x.dir = fs::temp_directory_path() / ("kite-oracle-" + std::to_string(::getpid()));
    fs::remove_all(x.dir);
    fs::create_directories(x.dir / "jdk");
    fs::create_directories(x.dir / "kite");
    if (x.run("write", x.dir / "jdk") != 0) FAIL("the oracle failed to write its catalogue");
    return x;
  }();
  return o;
}

bool is_payload(const std::string& name) { return name.starts_with("payload_"); }

jdk::StackFrame frame(std::string cls, std::string method, std::string file, std::int32_t line) {
  jdk::StackFrame f;
  f.declaring_class = std::move(cls);
  f.method_name = std::move(method);
  f.file_name = std::move(file);
  f.line_number = line;
  return f;
}

// The frames Oracle.frames() sets on every exception of the catalogue.
std::vector<jdk::StackFrame> frames() {
  return {frame("com.example.Worker", "run", "Worker.java", 42), frame("com.example.Worker", "main", "Worker.java", 7)};
}

Value must(Result<Value> r) {
  REQUIRE(r.has_value());
  return *r;
}

Value exception(Arena& a, jdk::StringPool& pool, std::string cls, std::optional<std::string> message,
                std::optional<Value> cause = std::nullopt, std::vector<Value> suppressed = {},
                std::vector<std::pair<std::string, Value>> fields = {}, bool traced = true) {
  jdk::ThrowableSpec spec;
  spec.class_name = std::move(cls);
  spec.message = std::move(message);
  spec.cause = cause;
  spec.suppressed = std::move(suppressed);
  spec.fields = std::move(fields);
  if (traced) spec.stack_trace = frames();
  return must(jdk::throwable(a, spec, &pool));
}

std::string long_string() {
  std::string s;
  for (int i = 0; s.size() < 70 * 1024; ++i) s += "line " + std::to_string(i) + "\n";
  return s;
}

using Builder = std::function<Value(Arena&, jdk::StringPool&)>;

// Kite's construction of each value case of the oracle (Oracle.values()).
std::map<std::string, Builder> helper_cases() {
  using P = std::vector<std::pair<Value, Value>>;
  std::map<std::string, Builder> c;
  c["bool_true"] = [](Arena& a, auto&) { return jdk::boolean(a, true); };
  c["int_42"] = [](Arena& a, auto&) { return jdk::integer(a, 42); };
  c["long_big"] = [](Arena& a, auto&) { return jdk::long_value(a, 1234567890123LL); };
  c["short_neg"] = [](Arena& a, auto&) { return jdk::short_value(a, -7); };
  c["byte_5"] = [](Arena& a, auto&) { return jdk::byte(a, 5); };
  c["char_e"] = [](Arena& a, auto&) { return jdk::character(a, u'\u00e9'); };
  c["double_half"] = [](Arena& a, auto&) { return jdk::double_value(a, 3.5); };
  c["float_quarter"] = [](Arena& a, auto&) { return jdk::float_value(a, 1.25f); };
  c["string_hello"] = [](Arena& a, auto&) { return jdk::string(a, "hello"); };
  c["string_nul"] = [](Arena& a, auto&) { return jdk::string(a, std::string("a\0b", 3)); };
  c["string_astral"] = [](Arena& a, auto&) { return jdk::string(a, "x\xF0\x9F\x98\x80y\xE4\xB8\xAD"); };
  c["string_empty"] = [](Arena& a, auto&) { return jdk::string(a, ""); };
  c["string_70k"] = [](Arena& a, auto&) { return jdk::string(a, long_string()); };
  c["bytes_123"] = [](Arena& a, auto&) {
    const std::vector<std::uint8_t> b{1, 2, 3};
    return jdk::bytes(a, b);
  };
  c["bytes_empty"] = [](Arena& a, auto&) { return jdk::bytes(a, {}); };
  c["string_array"] = [](Arena& a, auto&) {
    const std::vector<std::string> s{"x", "y"};
    return jdk::string_array(a, s);
  };
  c["array_list"] = [](Arena& a, auto&) { return jdk::array_list(a, {jdk::string(a, "a"), jdk::string(a, "b")}); };
  c["array_list_empty"] = [](Arena& a, auto&) { return jdk::array_list(a, {}); };
  c["hash_map"] = [](Arena& a, auto&) { return jdk::hash_map(a, P{{jdk::string(a, "K"), jdk::string(a, "V")}}); };
  c["hash_map_20"] = [](Arena& a, auto&) {
    P entries;
    for (int i = 0; i < 20; ++i) entries.emplace_back(jdk::string(a, "key" + std::to_string(i)), jdk::integer(a, i * 1000));
    return jdk::hash_map(a, entries);
  };
  c["hash_map_empty"] = [](Arena& a, auto&) { return jdk::hash_map(a, {}); };
  c["hash_set"] = [](Arena& a, auto&) {
    return jdk::hash_set(a, {jdk::string(a, "a.txt"), jdk::string(a, "b.txt"), jdk::string(a, "zz")});
  };
  c["tree_map"] = [](Arena& a, auto&) {
    return jdk::tree_map(a, P{{jdk::string(a, "b"), jdk::integer(a, 1000)},
                              {jdk::string(a, "a"), jdk::integer(a, 2000)},
                              {jdk::string(a, "B"), jdk::integer(a, 3000)}});
  };
  c["linked_hash_map"] = [](Arena& a, auto&) {
    return jdk::linked_hash_map(a, P{{jdk::string(a, "z"), jdk::long_value(a, 1)},
                                     {jdk::string(a, "a"), jdk::long_value(a, 2)}});
  };
  c["empty_list"] = [](Arena& a, auto&) { return jdk::empty_list(a); };
  c["singleton_map"] = [](Arena& a, auto&) { return jdk::singleton_map(a, jdk::string(a, "k"), jdk::string(a, "v")); };
  c["file"] = [](Arena& a, auto&) { return jdk::file(a, "/tmp/x"); };
  c["enum_thread_state"] = [](Arena& a, auto&) { return jdk::enum_constant(a, "java.lang.Thread$State", "RUNNABLE"); };
  c["exc_io"] = [](Arena& a, jdk::StringPool& p) { return exception(a, p, "java.io.IOException", "boom"); };
  c["exc_runtime_cause"] = [](Arena& a, jdk::StringPool& p) {
    const Value inner = exception(a, p, "java.io.IOException", "inner");
    return exception(a, p, "java.lang.RuntimeException", "outer", inner);
  };
  c["exc_suppressed"] = [](Arena& a, jdk::StringPool& p) {
    // Java evaluates the main exception first, so its frame strings come first.
    jdk::ThrowableSpec spec;
    spec.class_name = "java.io.IOException";
    spec.message = "primary";
    spec.stack_trace = frames();
    std::vector<Value> suppressed;
    const Value s1 = exception(a, p, "java.lang.IllegalStateException", "s1");
    const Value s2 = exception(a, p, "java.lang.IllegalArgumentException", "s2");
    spec.suppressed = {s1, s2};
    return must(jdk::throwable(a, spec, &p));
  };
  c["exc_no_cause"] = [](Arena& a, jdk::StringPool& p) { return exception(a, p, "java.io.IOException", "m", Value()); };
  c["exc_interrupted"] = [](Arena& a, jdk::StringPool& p) { return exception(a, p, "java.lang.InterruptedException", "stop"); };
  c["exc_file_not_found"] = [](Arena& a, jdk::StringPool& p) {
    return exception(a, p, "java.io.FileNotFoundException", "/x (No such file or directory)");
  };
  c["exc_no_such_file"] = [](Arena& a, jdk::StringPool& p) {
    return exception(a, p, "java.nio.file.NoSuchFileException", std::nullopt, std::nullopt, {},
                     {{"file", jdk::string(a, "/tmp/missing")}});
  };
  c["exc_access_denied"] = [](Arena& a, jdk::StringPool& p) {
    return exception(a, p, "java.nio.file.AccessDeniedException", "denied", std::nullopt, {},
                     {{"file", jdk::string(a, "/root/x")}});
  };
  c["exc_interrupted_io"] = [](Arena& a, jdk::StringPool& p) {
    return exception(a, p, "java.io.InterruptedIOException", "timed out", std::nullopt, {},
                     {{"bytesTransferred", Value(std::int32_t{17})}});
  };
  c["exc_abort"] = [](Arena& a, jdk::StringPool& p) { return exception(a, p, "hudson.AbortException", "aborted by user"); };
  c["exc_proxy"] = [](Arena& a, jdk::StringPool& p) {
    return exception(a, p, "hudson.remoting.ProxyException", "java.lang.Foo: bar");
  };
  c["exc_empty_trace"] = [](Arena& a, jdk::StringPool& p) {
    return exception(a, p, "java.io.IOException", "no frames", std::nullopt, {}, {}, false);
  };
  c["payload_point_list"] = [](Arena& a, auto&) {
    ClassDesc* point = make_class_desc(a, {"kite.oracle.Oracle$Point", 0, kScSerializable,
                                           {{'I', "x", ""}, {'I', "y", ""}}});
    Object* p = make_object(a, point);
    p->set("x", Value(std::int32_t{1}));
    p->set("y", Value(std::int32_t{-2}));
    return jdk::array_list(a, {jdk::integer(a, 5), Value(static_cast<const Object*>(p))});
  };
  return c;
}

WriterOptions options_for(const std::string& name) {
  WriterOptions o;
  if (is_payload(name)) {
    o.annotations = AnnotationMode::Loader;
    o.loader_policy = [](const ClassDesc& d) {
      return d.name.starts_with("java.") ? LoaderRef::system() : LoaderRef::local(7);
    };
  } else {
    o.annotations = AnnotationMode::Empty;
  }
  return o;
}

}  // namespace

TEST_CASE("oracle streams decode and re-encode identically") {
  const Oracle& o = oracle();
  std::size_t count = 0;
  for (const auto& entry : fs::directory_iterator(o.dir / "jdk")) {
    const std::string name = entry.path().stem().string();
    INFO("case " << name);
    const auto bytes = read_file(entry.path());
    ReaderOptions options;
    options.multi_class_loader = is_payload(name);
    auto stream = read_stream(bytes, options);
    REQUIRE(stream.has_value());
    auto again = write_stream(*stream);
    REQUIRE(again.has_value());
    INFO("first difference at " << first_difference(*again, bytes) << "\n" << dump(*stream));
    CHECK(*again == bytes);
    ++count;
  }
  CHECK(count >= 60);
}

TEST_CASE("oracle special cases decode to the right shapes") {
  const Oracle& o = oracle();
  auto load = [&](const std::string& name) {
    auto s = read_stream(read_file(o.dir / "jdk" / (name + ".bin")), ReaderOptions{.multi_class_loader = is_payload(name)});
    REQUIRE(s.has_value());
    return std::move(*s);
  };

  const Stream aborted = load("write_aborted");
  REQUIRE(aborted.contents.size() == 3);
  const auto* a = std::get_if<Aborted>(&aborted.contents[1]);
  REQUIRE(a != nullptr);
  CHECK(a->exception.class_name() == "java.io.NotSerializableException");
  CHECK(std::get<Value>(aborted.contents[2]).as_string() == "after");

  const Stream reset = load("reset");
  CHECK(std::holds_alternative<Reset>(reset.contents[1]));

  const Stream no_default = load("no_default");
  const Object* nd = no_default.values().at(0).as_object();
  CHECK(!nd->classes[0].has_fields);
  BlockReader data(nd->classes[0].custom);
  CHECK(data.read_bool() == true);
  CHECK(data.read_int() == 4);

  const Stream cyclic = load("cyclic");
  const Object* node_a = cyclic.values().at(0).as_object();
  const Object* node_b = node_a->field("next")->as_object();
  CHECK(node_b->field("next")->as_object() == node_a);

  const Stream ext = load("externalizable");
  const Object* e = ext.values().at(0).as_object();
  CHECK(e->desc->is_externalizable());
  CHECK(e->external.size() == 3);

  const Stream big = load("big_block");
  const auto& custom = big.values().at(0).as_object()->classes[0].custom;
  REQUIRE(custom.size() >= 3);
  CHECK(std::get<BlockData>(custom[0]).bytes.size() == 1024);

  const Stream longs = load("string_70k");
  CHECK(longs.values().at(0).as_jstring()->mutf8.size() >= 70 * 1024);

  const Stream payload = load("payload_mixed");
  const Object* list = payload.values().at(0).as_object();
  CHECK(list->desc->loader == LoaderTag{kTagSystemClassLoader, 0});
  const Object* custom_obj = std::get<Value>(list->classes[0].custom[1]).as_object();
  CHECK(custom_obj->desc->loader == LoaderTag{kTagLocalClassLoader, 7});
  const Object* proxy = payload.values().at(1).as_object();
  REQUIRE(proxy->desc->proxy);
  CHECK(proxy->desc->resolved_loader == LoaderTag{kTagLocalClassLoader, 7});
}

TEST_CASE("typed helpers write the JDK's bytes and read back in the JDK") {
  const Oracle& o = oracle();
  std::size_t compared = 0;
  for (const auto& [name, build] : helper_cases()) {
    INFO("case " << name);
    Arena arena;
    jdk::StringPool pool;
    const Value v = build(arena, pool);
    auto bytes = write_values(std::vector<Value>{v}, options_for(name));
    REQUIRE(bytes.has_value());
    write_file(o.dir / "kite" / (name + ".bin"), *bytes);

    const auto expected = read_file(o.dir / "jdk" / (name + ".bin"));
    REQUIRE(!expected.empty());
    INFO("first difference at " << first_difference(*bytes, expected));
    CHECK(*bytes == expected);
    ++compared;
  }
  CHECK(compared == helper_cases().size());
  CHECK(o.run("check", o.dir / "kite") == 0);
}

TEST_CASE("oracle scratch directory is removed") {
  const Oracle& o = oracle();
  std::error_code ec;
  fs::remove_all(o.dir, ec);
  CHECK(!ec);
}
