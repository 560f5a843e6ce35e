// Reading lists, maps, arrays and remoting stream references after a round
// trip through Kite's serialization writer and reader.
#include <catch2/catch.hpp>

#include "protocol/serialization/build.hpp"
#include "protocol/serialization/jdk.hpp"
#include "protocol/serialization/reader.hpp"
#include "protocol/serialization/writer.hpp"
#include "runner/launcher/java_values.hpp"

namespace java = kite::launcher::java;
namespace ser = kite::ser;

namespace {

// Writes `value` as a stream and reads it back; the returned Stream owns the nodes.
ser::Stream round_trip(ser::Value value) {
  auto bytes = ser::write_values(std::span<const ser::Value>(&value, 1));
  REQUIRE(bytes.has_value());
  auto stream = ser::read_stream(*bytes);
  REQUIRE(stream.has_value());
  REQUIRE(stream->values().size() == 1);
  return *stream;
}

ser::Value strings_value(ser::Arena& arena, std::initializer_list<const char*> items) {
  std::vector<ser::Value> values;
  for (const char* item : items) values.push_back(ser::jdk::string(arena, item));
  return ser::jdk::array_list(arena, values);
}

const ser::ClassDesc* remote_output_stream_desc(ser::Arena& arena) {
  return ser::make_class_desc(arena, ser::ClassSpec{"hudson.remoting.RemoteOutputStream", 1,
                                                    static_cast<std::uint8_t>(ser::kScSerializable | ser::kScWriteMethod), {}});
}

ser::Value remote_output_stream(ser::Arena& arena, std::int32_t oid) {
  ser::Object* object = ser::make_object(arena, remote_output_stream_desc(arena));
  object->class_data("hudson.remoting.RemoteOutputStream")->custom.emplace_back(ser::BlockBuilder().write_int(oid).build());
  return static_cast<const ser::Object*>(object);
}

}  // namespace

TEST_CASE("string lists", "[java_values]") {
  ser::Arena arena;
  auto stream = round_trip(strings_value(arena, {"/bin/sh", "-xe", "/tmp/jenkins1.sh"}));
  auto list = java::string_list(stream.values()[0]);
  REQUIRE(list.has_value());
  CHECK(*list == std::vector<std::string>{"/bin/sh", "-xe", "/tmp/jenkins1.sh"});

  auto empty = round_trip(ser::jdk::empty_list(arena));
  auto size = java::list_size(empty.values()[0]);
  REQUIRE(size.has_value());
  CHECK(*size == 0);
  CHECK(java::list_size(ser::Value(ser::Null{})) == 0u);

  auto numbers = round_trip(ser::jdk::array_list(arena, {ser::jdk::integer(arena, 1)}));
  CHECK_FALSE(java::string_list(numbers.values()[0]).has_value());
  auto not_a_list = round_trip(ser::jdk::string(arena, "x"));
  CHECK_FALSE(java::string_list(not_a_list.values()[0]).has_value());
}

TEST_CASE("string maps", "[java_values]") {
  ser::Arena arena;
  auto key = [&](const char* text) { return ser::jdk::string(arena, text); };
  const std::map<std::string, std::string> expected{{"BUILD_ID", "7"}, {"JENKINS_SERVER_COOKIE", "abc"}};

  for (auto value : {ser::jdk::tree_map(arena, {{key("JENKINS_SERVER_COOKIE"), key("abc")}, {key("BUILD_ID"), key("7")}}),
                     ser::jdk::hash_map(arena, {{key("JENKINS_SERVER_COOKIE"), key("abc")}, {key("BUILD_ID"), key("7")}}),
                     ser::jdk::linked_hash_map(arena, {{key("BUILD_ID"), key("7")}, {key("JENKINS_SERVER_COOKIE"), key("abc")}})}) {
    auto stream = round_trip(value);
    INFO("class " << stream.values()[0].class_name());
    auto map = java::string_map(stream.values()[0]);
    REQUIRE(map.has_value());
    CHECK(*map == expected);
  }

  auto singleton = round_trip(ser::jdk::singleton_map(arena, key("JENKINS_NODE_COOKIE"), key("u-1")));
  auto map = java::string_map(singleton.values()[0]);
  REQUIRE(map.has_value());
  CHECK(*map == std::map<std::string, std::string>{{"JENKINS_NODE_COOKIE", "u-1"}});

  auto bad = round_trip(ser::jdk::hash_map(arena, {{key("A"), ser::jdk::integer(arena, 1)}}));
  CHECK_FALSE(java::string_map(bad.values()[0]).has_value());
}

TEST_CASE("arrays", "[java_values]") {
  ser::Arena arena;
  const std::string env[] = {"A=1", "PATH+X=/opt"};
  auto strings = round_trip(ser::jdk::string_array(arena, env));
  auto array = java::string_array(strings.values()[0]);
  REQUIRE(array.has_value());
  REQUIRE(array->has_value());
  CHECK(**array == std::vector<std::string>{"A=1", "PATH+X=/opt"});

  const std::uint8_t raw[] = {0, 1, 1};
  auto flags = round_trip(static_cast<const ser::Array*>(
      ser::make_primitive_array(arena, ser::jdk::descriptor("[Z"), raw)));
  auto masks = java::boolean_array(flags.values()[0]);
  REQUIRE(masks.has_value());
  REQUIRE(masks->has_value());
  CHECK(**masks == std::vector<bool>{false, true, true});

  auto null_masks = java::boolean_array(ser::Value(ser::Null{}));
  REQUIRE(null_masks.has_value());
  CHECK_FALSE(null_masks->has_value());
  CHECK_FALSE(java::boolean_array(strings.values()[0]).has_value());
}

TEST_CASE("remote streams in listeners", "[java_values]") {
  ser::Arena arena;
  auto ros = round_trip(remote_output_stream(arena, 42));
  CHECK(java::remote_output_stream_oid(ros.values()[0]) == 42);

  // hudson.util.StreamTaskListener: no field values, custom data = the stream then the charset name.
  const ser::ClassDesc* listener_desc = ser::make_class_desc(
      arena, ser::ClassSpec{"hudson.util.StreamTaskListener", 1,
                            static_cast<std::uint8_t>(ser::kScSerializable | ser::kScWriteMethod),
                            {{'L', "charset", "Ljava/lang/String;"}, {'L', "out", "Ljava/io/PrintStream;"}}});
  ser::Object* listener = ser::make_object(arena, listener_desc);
  ser::ClassData* data = listener->class_data("hudson.util.StreamTaskListener");
  data->fields.clear();
  data->has_fields = false;
  data->custom.emplace_back(remote_output_stream(arena, 7));
  data->custom.emplace_back(ser::jdk::string(arena, "UTF-8"));

  // A wrapper holding the listener in a field, as CloseableTaskListener does.
  const ser::ClassDesc* wrapper_desc = ser::make_class_desc(
      arena, ser::ClassSpec{"org.example.WrappingListener", 1, ser::kScSerializable,
                            {{'L', "delegate", "Lhudson/model/TaskListener;"}}});
  ser::Object* wrapper = ser::make_object(arena, wrapper_desc);
  wrapper->set("delegate", static_cast<const ser::Object*>(listener));

  ser::ReaderOptions options;
  auto bytes = ser::write_values(std::vector<ser::Value>{static_cast<const ser::Object*>(wrapper)});
  REQUIRE(bytes.has_value());
  auto stream = ser::read_stream(*bytes, options);
  REQUIRE(stream.has_value());
  CHECK(java::listener_stream_oid(stream->values()[0]) == 7);
  CHECK_FALSE(java::listener_stream_oid(stream->values()[0], 1).has_value());
  CHECK_FALSE(java::listener_stream_oid(ser::Value(ser::Null{})).has_value());
}
