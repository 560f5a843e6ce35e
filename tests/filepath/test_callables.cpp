// The FilePath callables over a whole Channel (in-memory transport): the
// controller's FileCallableWrapper goes in, the Java value or exception the
// controller would read comes out.
#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>

#include "protocol/channel/channel.hpp"
#include "runner/callables/registry.hpp"
#include "runner/filepath/archive.hpp"
#include "tests/channel/channel_test_support.hpp"
#include "tests/channel/loopback_channel.hpp"
#include "test_support.hpp"

using namespace kite;
using namespace kite::channel;
using namespace kite::channel::test;
using namespace std::chrono_literals;
using kite::filepath::test::read_file;
using kite::filepath::test::TempDir;
using kite::filepath::test::write_file;

namespace {

// `inner` wrapped in a FileCallableWrapper for `path`, as FilePath.act sends it.
ser::Object* file_callable_wrapper(ser::Arena& arena, ser::Object* inner, const std::string& path) {
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
  return wrapper;
}

struct Fixture : LoopbackChannel {
  std::int32_t next_id = 1;

  Fixture() : LoopbackChannel({.name = "filepath-test", .work_dir = {}, .close_timeout = 500ms, .drain_timeout = 2000ms}) {}

  // Sends `inner` for `path` as request `id`, without waiting for the response.
  void send(ser::Arena& arena, ser::Object* inner, const std::string& path, std::int32_t id, const std::string& text) {
    transport->inject(user_request(id, static_cast<const ser::Object*>(file_callable_wrapper(arena, inner, path)), text));
  }

  // Sends `inner` for `path` and returns the response, the next command the channel sends.
  Answer act(ser::Arena& arena, ser::Object* inner, const std::string& path) {
    const std::int32_t id = next_id++;
    send(arena, inner, path, id, "FileCallableWrapper@" + std::to_string(id));
    auto sent = transport->next_sent();
    REQUIRE(sent.has_value());
    return decode_answer(*sent);
  }

  // Returns the response to a request that reads a stream the test writes,
  // skipping the channel's Acks for that stream.
  Answer answer_after_acks(std::chrono::milliseconds timeout) {
    while (true) {
      auto sent = transport->next_sent(timeout);
      REQUIRE(sent.has_value());
      auto command = decode_command(*sent);
      REQUIRE(command.has_value());
      if (!std::holds_alternative<StreamAckCmd>(*command)) return decode_answer(*sent);
    }
  }

  // What a request that writes into the controller's stream `oid` sent:
  // the bytes, whether it closed the stream, and its response.
  struct StreamedAnswer {
    std::string bytes;
    bool eof = false;
    Answer answer;
  };
  StreamedAnswer answer_after_stream(std::int32_t oid) {
    StreamedAnswer result;
    while (true) {
      auto sent = transport->next_sent(5s);
      REQUIRE(sent.has_value());
      auto command = decode_command(*sent);
      REQUIRE(command.has_value());
      if (auto* chunk = std::get_if<StreamChunkCmd>(&*command)) {
        CHECK(chunk->oid == oid);
        result.bytes.append(chunk->data.begin(), chunk->data.end());
        continue;
      }
      if (std::get_if<StreamEofCmd>(&*command) != nullptr) {
        result.eof = true;
        continue;
      }
      if (std::get_if<StreamFlushCmd>(&*command) != nullptr) continue;
      result.answer = decode_answer(*sent);
      return result;
    }
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
  // FileSystemException.getMessage() is built from `file` (and `other`, and
  // the detail message as the reason), so the detail message stays null.
  const ser::Object* thrown = missing.value().as_object();
  REQUIRE(thrown != nullptr);
  REQUIRE(thrown->field("file") != nullptr);
  CHECK(thrown->field("file")->as_string() == dir / "none");
  CHECK(thrown->field("detailMessage")->is_null());

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

namespace {

ser::Value tar_compression(ser::Arena& arena, const char* constant) {
  ser::ClassDesc* desc = ser::make_enum_desc(arena, "hudson.FilePath$TarCompression");
  return static_cast<const ser::EnumConstant*>(ser::make_enum_constant(arena, desc, constant));
}

ser::Object* glob_scanner(ser::Arena& arena, const char* includes) {
  auto* base = ser::make_class_desc(arena, ser::ClassSpec{"hudson.util.DirScanner", 1, ser::kScSerializable, {}, nullptr});
  auto* desc = ser::make_class_desc(
      arena, ser::ClassSpec{"hudson.util.DirScanner$Glob", 1, ser::kScSerializable,
                            {{'Z', "useDefaultExcludes", ""},
                             {'L', "excludes", "Ljava/lang/String;"},
                             {'L', "includes", "Ljava/lang/String;"},
                             {'[', "openOptions", "[Ljava/nio/file/OpenOption;"}},
                            base});
  ser::Object* scanner = ser::make_object(arena, desc);
  scanner->set("includes", ser::jdk::string(arena, includes));
  scanner->set("useDefaultExcludes", true);
  return scanner;
}

ser::Object* with_custom_data(ser::Arena& arena, const std::string& class_name, ser::BlockData block) {
  auto* desc = ser::make_class_desc(
      arena, ser::ClassSpec{class_name, 1, static_cast<std::uint8_t>(ser::kScSerializable | ser::kScWriteMethod), {},
                            nullptr});
  ser::Object* object = ser::make_object(arena, desc);
  object->class_data(class_name)->custom.emplace_back(std::move(block));
  return object;
}

// A greedy RemoteInputStream: `true`, then the Pipe the controller pushes through.
ser::Object* greedy_input_stream(ser::Arena& arena, ser::Object* pipe) {
  auto* stream_desc = ser::make_class_desc(
      arena, ser::ClassSpec{"hudson.remoting.RemoteInputStream", 1,
                            static_cast<std::uint8_t>(ser::kScSerializable | ser::kScWriteMethod),
                            {{'Z', "autoUnexport", ""}, {'Z', "greedy", ""}}, nullptr});
  ser::Object* stream = ser::make_object(arena, stream_desc);
  ser::ClassData* stream_data = stream->class_data("hudson.remoting.RemoteInputStream");
  stream_data->fields.clear();
  stream_data->has_fields = false;
  stream_data->custom.emplace_back(ser::BlockBuilder().write_bool(true).build());
  stream_data->custom.emplace_back(ser::Value(static_cast<const ser::Object*>(pipe)));
  return stream;
}

// FilePath$UntarRemote of an uncompressed tar read from `stream`.
ser::Object* untar_remote(ser::Arena& arena, ser::Object* stream, const char* name) {
  ser::Object* untar = callable_object(arena, "hudson.FilePath$UntarRemote",
                                       {{'L', "compression", "Lhudson/FilePath$TarCompression;"},
                                        {'L', "in", "Lhudson/remoting/RemoteInputStream;"},
                                        {'L', "name", "Ljava/lang/String;"}});
  untar->set("compression", tar_compression(arena, "NONE"));
  untar->set("in", static_cast<const ser::Object*>(stream));
  untar->set("name", ser::jdk::string(arena, name));
  return untar;
}

}  // namespace

TEST_CASE("Archive callable streams a tar gz", "[filepath][callables]") {
  Fixture f;
  TempDir dir;
  ser::Arena arena;
  write_file(dir / "ws/a/one.txt", "one");
  write_file(dir / "ws/two.log", "two");

  ser::Object* factory = callable_object(arena, "hudson.util.io.ArchiverFactory$TarArchiverFactory",
                                         {{'L', "method", "Lhudson/FilePath$TarCompression;"}});
  factory->set("method", tar_compression(arena, "GZIP"));
  ser::Object* archive = callable_object(arena, "hudson.FilePath$Archive",
                                         {{'L', "factory", "Lhudson/util/io/ArchiverFactory;"},
                                          {'[', "openOptions", "[Ljava/nio/file/OpenOption;"},
                                          {'L', "out", "Ljava/io/OutputStream;"},
                                          {'L', "scanner", "Lhudson/util/DirScanner;"},
                                          {'L', "verificationRoot", "Ljava/lang/String;"}});
  archive->set("factory", static_cast<const ser::Object*>(factory));
  archive->set("scanner", static_cast<const ser::Object*>(glob_scanner(arena, "**/*.txt")));
  archive->set("out", static_cast<const ser::Object*>(
                          with_custom_data(arena, "hudson.remoting.RemoteOutputStream",
                                           ser::BlockBuilder().write_int(77).build())));

  // As Fixture::act, but the response follows the stream commands.
  f.send(arena, archive, dir / "ws", 90, "stash@1");

  auto streamed = f.answer_after_stream(77);
  REQUIRE_FALSE(streamed.answer.exception);
  CHECK(streamed.answer.value().class_name() == "java.lang.Integer");
  CHECK(streamed.answer.value().as_int() == 1);
  CHECK(streamed.eof);
  const std::string& bytes = streamed.bytes;

  std::size_t offset = 0;
  auto extracted = filepath::extract_archive(
      [&](std::span<std::byte> buffer) -> filepath::Result<std::size_t> {
        const std::size_t n = std::min(buffer.size(), bytes.size() - offset);
        std::memcpy(buffer.data(), bytes.data() + offset, n);
        offset += n;
        return n;
      },
      filepath::ArchiveFormat::TarGzip, dir / "out", "stash");
  REQUIRE(extracted);
  CHECK(read_file(dir / "out/a/one.txt") == "one");
  CHECK_FALSE(std::filesystem::exists(dir / "out/two.log"));
}

TEST_CASE("UntarRemote reads a greedy stream", "[filepath][callables]") {
  Fixture f;
  TempDir dir;
  ser::Arena arena;
  write_file(dir / "src/x/y.txt", "payload");
  std::string tar;
  auto written = filepath::write_archive(
      dir / "src", filepath::DirSelection{filepath::GlobSelection{"**", std::nullopt, true, true}},
      filepath::ArchiveFormat::Tar, [&](std::span<const std::byte> data) -> filepath::Result<void> {
        tar.append(reinterpret_cast<const char*>(data.data()), data.size());
        return {};
      });
  REQUIRE(written);

  // The controller pushes the tar through this Pipe.
  ser::Object* pipe = with_custom_data(arena, "hudson.remoting.Pipe", ser::BlockBuilder().write_bool(false).write_int(55).build());
  ser::Object* stream = greedy_input_stream(arena, pipe);

  ser::Object* untar = untar_remote(arena, stream, "stash.tar");

  f.send(arena, untar, dir / "ws", 91, "unstash@1");

  auto connect_bytes = f.transport->next_sent(5s);
  REQUIRE(connect_bytes.has_value());
  auto connect = decode_command(*connect_bytes);
  REQUIRE(connect.has_value());
  REQUIRE(std::holds_alternative<PipeConnectCmd>(*connect));
  CHECK(std::get<PipeConnectCmd>(*connect).oid_ros == 55);
  const std::int32_t sink_oid = std::get<PipeConnectCmd>(*connect).oid_pos;

  std::vector<std::uint8_t> data(tar.begin(), tar.end());
  f.transport->inject(encode_stream_chunk(1, sink_oid, 0, data));
  f.transport->inject(encode_stream_eof(2, sink_oid, 0));
  auto answer = f.answer_after_acks(5s);
  REQUIRE_FALSE(answer.exception);
  CHECK(answer.value().is_null());
  CHECK(read_file(dir / "ws/x/y.txt") == "payload");
}

TEST_CASE("UntarRemote waits for a slow extraction", "[filepath][callables]") {
  Fixture f;
  TempDir dir;
  ser::Arena arena;
  // 12 MiB of incompressible data: more than the 8 MiB buffered ahead of the extraction.
  std::string big(12 << 20, '\0');
  std::uint32_t state = 12345;
  for (auto& c : big) {
    state = state * 1664525u + 1013904223u;
    c = static_cast<char>(state >> 24);
  }
  write_file(dir / "src/big.bin", big);
  std::string tar;
  REQUIRE(filepath::write_archive(dir / "src", filepath::DirSelection{filepath::GlobSelection{"**", std::nullopt, true, true}},
                                  filepath::ArchiveFormat::Tar,
                                  [&](std::span<const std::byte> data) -> filepath::Result<void> {
                                    tar.append(reinterpret_cast<const char*>(data.data()), data.size());
                                    return {};
                                  }));

  ser::Object* pipe = with_custom_data(arena, "hudson.remoting.Pipe", ser::BlockBuilder().write_bool(false).write_int(56).build());
  ser::Object* stream = greedy_input_stream(arena, pipe);
  ser::Object* untar = untar_remote(arena, stream, "big.tar");

  f.send(arena, untar, dir / "ws", 92, "unstash@2");

  auto connect = decode_command(*f.transport->next_sent(5s));
  REQUIRE(connect.has_value());
  REQUIRE(std::holds_alternative<PipeConnectCmd>(*connect));
  const std::int32_t sink_oid = std::get<PipeConnectCmd>(*connect).oid_pos;

  const std::size_t chunk = 512 * 1024;
  std::int32_t io_id = 1;
  for (std::size_t offset = 0; offset < tar.size(); offset += chunk) {
    const std::size_t n = std::min(chunk, tar.size() - offset);
    f.transport->inject(encode_stream_chunk(io_id++, sink_oid, 0,
                                            std::vector<std::uint8_t>(tar.begin() + static_cast<std::ptrdiff_t>(offset),
                                                                      tar.begin() + static_cast<std::ptrdiff_t>(offset + n))));
  }
  f.transport->inject(encode_stream_eof(io_id, sink_oid, 0));
  auto answer = f.answer_after_acks(10s);
  REQUIRE_FALSE(answer.exception);
  CHECK(read_file(dir / "ws/big.bin") == big);
}

TEST_CASE("Read callable streams into the pipe", "[filepath][callables]") {
  Fixture f;
  TempDir dir;
  ser::Arena arena;
  write_file(dir / "log.txt", "line one\nline two\n");
  ser::Object* read = callable_object(arena, "hudson.FilePath$Read",
                                      {{'[', "openOptions", "[Ljava/nio/file/OpenOption;"},
                                       {'L', "p", "Lhudson/remoting/Pipe;"},
                                       {'L', "verificationRoot", "Ljava/lang/String;"}});
  read->set("p", static_cast<const ser::Object*>(with_custom_data(
                     arena, "hudson.remoting.Pipe", ser::BlockBuilder().write_bool(true).write_int(33).build())));

  f.send(arena, read, dir / "log.txt", 93, "readFile@1");

  auto streamed = f.answer_after_stream(33);
  REQUIRE_FALSE(streamed.answer.exception);
  CHECK(streamed.answer.value().is_null());
  CHECK(streamed.eof);
  CHECK(streamed.bytes == "line one\nline two\n");
}
