// The FilePath callables over a whole Channel (in-memory transport): the
// controller's FileCallableWrapper goes in, the Java value or exception the
// controller would read comes out.
#include <catch2/catch.hpp>

#include <filesystem>

#include "protocol/channel/channel.hpp"
#include "runner/callables/registry.hpp"
#include "tests/channel/channel_test_support.hpp"
#include "tests/channel/loopback_transport.hpp"
#include "test_support.hpp"

using namespace kite;
using namespace kite::channel;
using namespace kite::channel::test;
using namespace std::chrono_literals;
using kite::filepath::test::read_file;
using kite::filepath::test::TempDir;
using kite::filepath::test::write_file;

namespace {

struct Fixture {
  std::shared_ptr<LoopbackTransport> transport = std::make_shared<LoopbackTransport>();
  std::shared_ptr<Channel> channel;
  std::int32_t next_id = 1;

  Fixture() {
    callables::NodeInfo node;
    node.name = "filepath-test";
    auto dispatcher = std::make_shared<callables::RegistryDispatcher>(callables::Registry::global(), node, nullptr);
    ChannelConfig config;
    config.name = "filepath-test";
    config.close_timeout = 500ms;
    channel = Channel::create(transport, dispatcher, config);
    channel->start();
  }
  ~Fixture() {
    transport->drop("test over");
    channel->drain_workers(2s);
  }

  // Sends `inner` wrapped in a FileCallableWrapper for `path`, as FilePath.act does.
  Answer act(ser::Arena& arena, ser::Object* inner, const std::string& path) {
    auto* path_desc = ser::make_class_desc(
        arena, ser::ClassSpec{"hudson.FilePath", 1, static_cast<std::uint8_t>(ser::kScSerializable | ser::kScWriteMethod),
                              {{'L', "remote", "Ljava/lang/String;"}}, nullptr});
    ser::Object* file_path = ser::make_object(arena, path_desc);
    file_path->set("remote", ser::jdk::string(arena, path));
    file_path->class_data("hudson.FilePath")->custom.emplace_back(ser::BlockBuilder().write_bool(false).build());

    ser::Object* wrapper = callable_object(arena, "hudson.FilePath$FileCallableWrapper",
                                           {{'L', "callable", "Lhudson/FilePath$FileCallable;"},
                                            {'L', "filePath", "Lhudson/FilePath;"}});
    wrapper->set("callable", static_cast<const ser::Object*>(inner));
    wrapper->set("filePath", static_cast<const ser::Object*>(file_path));
    const std::int32_t id = next_id++;
    transport->inject(user_request(id, static_cast<const ser::Object*>(wrapper), "FileCallableWrapper@" + std::to_string(id)));
    auto sent = transport->next_sent();
    REQUIRE(sent.has_value());
    return decode_answer(*sent);
  }
};

std::string remote_of(const ser::Value& value) {
  const ser::Object* object = value.as_object();
  REQUIRE(object != nullptr);
  REQUIRE(object->class_name() == "hudson.FilePath");
  return object->field("remote")->as_string().value_or("");
}

}  // namespace

TEST_CASE("FilePath callables answer with Java values", "[filepath][callables]") {
  Fixture f;
  TempDir dir;
  ser::Arena arena;

  auto made = f.act(arena, callable_object(arena, "hudson.FilePath$Mkdirs"), dir / "ws/sub");
  REQUIRE_FALSE(made.exception);
  CHECK(made.value().class_name() == "java.lang.Boolean");
  CHECK(made.value().as_bool() == true);
  CHECK(std::filesystem::is_directory(dir / "ws/sub"));

  ser::Object* write = callable_object(arena, "hudson.FilePath$Write",
                                       {{'L', "content", "Ljava/lang/String;"}, {'L', "encoding", "Ljava/lang/String;"}});
  write->set("content", ser::jdk::string(arena, "h\xC3\xA9llo"));
  write->set("encoding", ser::jdk::string(arena, "UTF-8"));
  auto written = f.act(arena, write, dir / "ws/sub/a.txt");
  REQUIRE_FALSE(written.exception);
  CHECK(written.value().is_null());
  CHECK(read_file(dir / "ws/sub/a.txt") == "h\xC3\xA9llo");

  auto text = f.act(arena, callable_object(arena, "hudson.FilePath$ReadToString"), dir / "ws/sub/a.txt");
  REQUIRE_FALSE(text.exception);
  CHECK(text.value().as_string() == "h\xC3\xA9llo");

  auto size = f.act(arena, callable_object(arena, "hudson.FilePath$Length"), dir / "ws/sub/a.txt");
  CHECK(size.value().class_name() == "java.lang.Long");
  CHECK(size.value().as_long() == 6);

  ser::Object* glob = callable_object(arena, "hudson.FilePath$ListGlob",
                                      {{'Z', "defaultExcludes", ""},
                                       {'L', "excludes", "Ljava/lang/String;"},
                                       {'L', "includes", "Ljava/lang/String;"}});
  glob->set("includes", ser::jdk::string(arena, "**/*.txt"));
  glob->set("defaultExcludes", true);
  auto listed = f.act(arena, glob, dir / "ws");
  REQUIRE_FALSE(listed.exception);
  const ser::Array* array = listed.value().as_array();
  REQUIRE(array != nullptr);
  CHECK(array->desc->name == "[Lhudson.FilePath;");
  REQUIRE(array->elements.size() == 1);
  CHECK(remote_of(array->elements[0]) == dir / "ws/sub/a.txt");

  ser::Object* list_files = callable_object(arena, "hudson.tasks.ArtifactArchiver$ListFiles",
                                            {{'Z', "caseSensitive", ""},
                                             {'Z', "defaultExcludes", ""},
                                             {'Z', "followSymlinks", ""},
                                             {'L', "excludes", "Ljava/lang/String;"},
                                             {'L', "includes", "Ljava/lang/String;"}});
  list_files->set("includes", ser::jdk::string(arena, "**"));
  list_files->set("caseSensitive", true);
  list_files->set("defaultExcludes", true);
  list_files->set("followSymlinks", true);
  auto artifacts = f.act(arena, list_files, dir / "ws");
  REQUIRE_FALSE(artifacts.exception);
  CHECK(artifacts.value().class_name() == "java.util.HashSet");
}

TEST_CASE("FilePath callables raise the Java exceptions", "[filepath][callables]") {
  Fixture f;
  TempDir dir;
  ser::Arena arena;

  auto missing = f.act(arena, callable_object(arena, "hudson.FilePath$Mode"), dir / "none");
  REQUIRE(missing.exception);
  CHECK(missing.exception_class() == "java.nio.file.NoSuchFileException");
  CHECK(missing.exception_message() == dir / "none");

  write_file(dir / "full/x", "");
  auto not_empty = f.act(arena, callable_object(arena, "hudson.FilePath$Delete"), dir / "full");
  REQUIRE(not_empty.exception);
  CHECK(not_empty.exception_class() == "java.io.IOException");
  CHECK_THAT(not_empty.exception_message(), Catch::StartsWith("Unable to delete '" + dir / "full" + "'"));

  ser::Object* chmod = callable_object(arena, "hudson.FilePath$Chmod", {{'I', "mask", ""}});
  chmod->set("mask", std::int32_t{04755});
  write_file(dir / "f", "");
  auto invalid = f.act(arena, chmod, dir / "f");
  REQUIRE(invalid.exception);
  CHECK(invalid.exception_message() == "Invalid mode: 2541");

  ser::Object* filter = callable_object(arena, "hudson.FilePath$ListFilter", {{'L', "filter", "Ljava/io/FileFilter;"}});
  filter->set("filter", static_cast<const ser::Object*>(callable_object(arena, "org.example.MyFilter")));
  auto unsupported = f.act(arena, filter, dir.path());
  REQUIRE(unsupported.exception);
  CHECK_THAT(unsupported.exception_message(), Catch::Contains("org.example.MyFilter"));
}
