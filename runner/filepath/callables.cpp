// Registers the hudson.FilePath FileCallables and the artifact-listing
// callables of core and workflow-basic-steps with the callable registry.
// Each handler decodes the callable's fields, runs the native operation
// (file_ops.hpp, archive.hpp) and converts the result or the typed error into
// the Java value or exception the controller expects.
#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "protocol/serialization/build.hpp"
#include "protocol/serialization/jdk.hpp"
#include "runner/callables/registry.hpp"
#include "runner/filepath/ant_glob.hpp"
#include "runner/filepath/fd.hpp"
#include "runner/filepath/archive.hpp"
#include "runner/filepath/file_ops.hpp"
#include "runner/launcher/java_values.hpp"

namespace kite::filepath {
namespace {

using callables::Context;
using callables::FileCall;
using callables::Registration;
using CallResult = callables::Result;

// ---- Java values in and out

std::optional<std::string> string_field(const ser::Object& object, std::string_view name) {
  const ser::Value* value = object.field(name);
  if (value == nullptr) return std::nullopt;
  return value->as_string();
}

bool bool_field(const ser::Object& object, std::string_view name, bool fallback) {
  const ser::Value* value = object.field(name);
  if (value == nullptr) return fallback;
  return value->as_bool().value_or(fallback);
}

std::optional<std::int64_t> long_field(const ser::Object& object, std::string_view name) {
  const ser::Value* value = object.field(name);
  if (value == nullptr) return std::nullopt;
  return value->as_long();
}

// FilePath.remote of a FilePath-valued field.
std::optional<std::string> file_path_field(const ser::Object& object, std::string_view name) {
  const ser::Value* value = object.field(name);
  if (value == nullptr || value->as_object() == nullptr) return std::nullopt;
  return string_field(*value->as_object(), "remote");
}

// Whether an OpenOption[] field contains LinkOption.NOFOLLOW_LINKS.
bool has_nofollow_links(const ser::Object& object, std::string_view name) {
  const ser::Value* value = object.field(name);
  const ser::Array* array = value != nullptr ? value->as_array() : nullptr;
  if (array == nullptr) return false;
  for (const auto& element : array->elements) {
    const ser::EnumConstant* constant = element.as_enum();
    if (constant != nullptr && constant->constant() == "NOFOLLOW_LINKS") return true;
  }
  return false;
}

// The Java exception for `error`, its fields and its chain of causes.
callables::JavaException java_exception(const Error& error) {
  callables::JavaException java;
  java.class_name = error.java_class();
  java.message = error.message;
  if (error.nio_fields) {
    // getMessage() is built from file, other and reason (the detail message).
    java.string_fields.emplace_back("file", error.path);
    if (!error.other.empty()) java.string_fields.emplace_back("other", error.other);
    java.own_detail_message = true;
    java.detail_message = error.reason;
  }
  constexpr std::string_view kInputLength = "Input length = ";
  if (error.kind == JavaException::MalformedInputException && error.message.starts_with(kInputLength)) {
    // getMessage() is "Input length = " + inputLength; the detail message is null.
    java.int_fields.emplace_back("inputLength", std::stoi(error.message.substr(kInputLength.size())));
    java.own_detail_message = true;
  }
  if (error.cause) java.cause = std::make_shared<const callables::JavaException>(java_exception(*error.cause));
  return java;
}

std::unexpected<callables::JavaException> java_error(const Error& error) {
  return std::unexpected(java_exception(error));
}

std::unexpected<callables::JavaException> missing_field(const FileCall& call, std::string_view name) {
  return Context::fail("Kite cannot run " + std::string(call.callable.class_name()) + ": field " + std::string(name) +
                       " is missing or has an unexpected type");
}

const ser::ClassDesc* file_path_desc() {
  static ser::Arena arena;
  static const ser::ClassDesc* desc = ser::make_class_desc(
      arena, ser::ClassSpec{"hudson.FilePath", 1, static_cast<std::uint8_t>(ser::kScSerializable | ser::kScWriteMethod),
                            {{'L', "remote", "Ljava/lang/String;"}}});
  return desc;
}

// A hudson.FilePath for an agent path. The trailing `true` of its custom
// data marks the path as local to the sender, so the controller binds it to
// this agent's channel.
ser::Value make_file_path(ser::Arena& arena, const std::string& path) {
  ser::Object* object = ser::make_object(arena, file_path_desc());
  object->set("remote", ser::jdk::string(arena, path));
  object->class_data("hudson.FilePath")->custom.emplace_back(ser::BlockBuilder().write_bool(true).build());
  return static_cast<const ser::Object*>(object);
}

const ser::ClassDesc* file_path_array_desc() {
  static ser::Arena arena;
  // Computed by the JDK 17 serialization runtime for hudson.FilePath[].
  static const ser::ClassDesc* desc = ser::make_array_desc(arena, "[Lhudson.FilePath;", -1988419466279868382LL);
  return desc;
}

const ser::ClassDesc* remote_output_stream_desc() {
  static ser::Arena arena;
  static const ser::ClassDesc* desc = ser::make_class_desc(
      arena, ser::ClassSpec{"hudson.remoting.RemoteOutputStream", 1,
                            static_cast<std::uint8_t>(ser::kScSerializable | ser::kScWriteMethod), {}});
  return desc;
}

ser::Value make_remote_output_stream(ser::Arena& arena, std::int32_t oid) {
  ser::Object* object = ser::make_object(arena, remote_output_stream_desc());
  object->class_data("hudson.remoting.RemoteOutputStream")->custom.emplace_back(
      ser::BlockBuilder().write_int(oid).build());
  return static_cast<const ser::Object*>(object);
}

// ---- streams

// A hudson.remoting.Pipe field: `agent_writes` is the flag Pipe.writeObject
// puts first (true when the controller reads what the agent writes), then
// the controller's export id.
struct PipeRef {
  bool agent_writes = false;
  std::int32_t oid = 0;
};

std::optional<PipeRef> pipe_of(const ser::Value* value) {
  const ser::Object* object = value != nullptr ? value->as_object() : nullptr;
  if (object == nullptr || object->class_name() != "hudson.remoting.Pipe") return std::nullopt;
  const ser::ClassData* data = object->class_data("hudson.remoting.Pipe");
  if (data == nullptr) return std::nullopt;
  ser::BlockReader reader(ser::BlockReader::join(data->custom));
  auto agent_writes = reader.read_bool();
  auto oid = reader.read_int();
  if (!agent_writes || !oid) return std::nullopt;
  return PipeRef{*agent_writes, *oid};
}

// Bytes the controller pushes into a Kite export (a greedy RemoteInputStream
// or a local-to-remote Pipe), read back as a ByteSource by an extraction.
class PushedStream {
 public:
  // Data buffered ahead of the reader before the channel's delivering thread
  // waits, as Java's FastPipedInputStream makes its writer wait.
  static constexpr std::size_t kMaxBufferedBytes = 8 << 20;

  explicit PushedStream(const Context& ctx) : ctx_(ctx) {}

  // Called when the reader stops for good: pending and later writes are dropped.
  void abandon() {
    std::lock_guard lock(mutex_);
    abandoned_ = true;
    queue_.clear();
    changed_.notify_all();
  }

  channel::StreamSink sink(const std::shared_ptr<PushedStream>& self) {
    channel::StreamSink sink;
    sink.write = [self](std::span<const std::uint8_t> data) -> std::expected<void, std::string> {
      std::unique_lock lock(self->mutex_);
      self->changed_.wait(lock, [&] { return self->abandoned_ || self->queue_.size() < kMaxBufferedBytes; });
      if (self->abandoned_) return std::unexpected(std::string("the extraction reading this stream has ended"));
      self->queue_.insert(self->queue_.end(), data.begin(), data.end());
      self->changed_.notify_all();
      return {};
    };
    sink.flush = [] {};
    sink.close = [self](std::optional<std::string> error) {
      std::lock_guard lock(self->mutex_);
      self->closed_ = true;
      self->error_ = std::move(error);
      self->changed_.notify_all();
    };
    return sink;
  }

  Result<std::size_t> read(std::span<std::byte> buffer) {
    std::unique_lock lock(mutex_);
    while (queue_.empty() && !closed_) {
      if (ctx_.cancelled()) return std::unexpected(io_error("interrupted by the controller"));
      changed_.wait_for(lock, std::chrono::milliseconds(200));
    }
    if (queue_.empty()) {
      if (error_) return std::unexpected(io_error(*error_));
      return 0;
    }
    const std::size_t n = std::min(buffer.size(), queue_.size());
    for (std::size_t i = 0; i < n; ++i) buffer[i] = static_cast<std::byte>(queue_[i]);
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    changed_.notify_all();
    return n;
  }

 private:
  const Context& ctx_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::uint8_t> queue_;
  bool closed_ = false;
  std::optional<std::string> error_;
  bool abandoned_ = false;
};

// An input ByteSource, and the stream to abandon when its reader is done.
struct InputStreamSource {
  ByteSource source;
  std::shared_ptr<PushedStream> pushed;

  InputStreamSource() = default;
  InputStreamSource(const InputStreamSource&) = delete;
  InputStreamSource& operator=(const InputStreamSource&) = delete;
  InputStreamSource(InputStreamSource&&) = default;
  InputStreamSource& operator=(InputStreamSource&&) = default;
  ~InputStreamSource() {
    if (pushed) pushed->abandon();
  }
};

// The ByteSource behind an InputStream field: a greedy RemoteInputStream
// (the controller pushes through a Pipe), a non-greedy one (Kite pulls), or
// a Pipe the controller writes into.
Result<InputStreamSource> input_source(const ser::Value* value, Context& ctx) {
  const ser::Object* object = value != nullptr ? value->as_object() : nullptr;
  if (object == nullptr) return std::unexpected(io_error("the input stream of the callable is missing"));

  std::optional<PipeRef> pipe = pipe_of(value);
  if (object->class_name() == "hudson.remoting.RemoteInputStream") {
    const ser::ClassData* data = object->class_data("hudson.remoting.RemoteInputStream");
    if (data == nullptr) return std::unexpected(io_error("RemoteInputStream without data"));
    ser::BlockReader reader(ser::BlockReader::join(data->custom));
    auto greedy = reader.read_bool();
    if (!greedy) return std::unexpected(io_error("RemoteInputStream without data"));
    if (!*greedy) {
      auto oid = reader.read_int();
      if (!oid) return std::unexpected(io_error("RemoteInputStream without an export id"));
      const std::int32_t remote = *oid;
      InputStreamSource pulled;
      pulled.source = [&ctx, remote](std::span<std::byte> buffer) -> Result<std::size_t> {
        auto chunk = ctx.read(remote, static_cast<std::int32_t>(std::min<std::size_t>(buffer.size(), 64 * 1024)));
        if (!chunk) return std::unexpected(io_error(chunk.error()));
        std::memcpy(buffer.data(), chunk->data(), chunk->size());
        return chunk->size();
      };
      return pulled;
    }
    // Greedy: the stream's custom data continues with the Pipe it pushes through.
    for (const auto& content : data->custom) {
      if (const auto* inner = std::get_if<ser::Value>(&content)) pipe = pipe_of(inner);
    }
  }
  if (!pipe || pipe->agent_writes) {
    return std::unexpected(io_error("Kite cannot read an input stream of class " + std::string(object->class_name())));
  }
  InputStreamSource received;
  received.pushed = std::make_shared<PushedStream>(ctx);
  ctx.connect_pipe(pipe->oid, received.pushed->sink(received.pushed));
  received.source = [stream = received.pushed](std::span<std::byte> buffer) { return stream->read(buffer); };
  return received;
}

// A ByteSink writing to the controller's export `oid` (RemoteOutputStream or Pipe).
ByteSink output_sink(Context& ctx, std::int32_t oid) {
  return [&ctx, oid](std::span<const std::byte> bytes) -> Result<void> {
    auto written = ctx.write(oid, std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
    if (!written) return std::unexpected(io_error(written.error()));
    return {};
  };
}

// A ByteSink that sends to the controller's export `oid` in blocks of up to
// kBlockBytes. libarchive hands over one 10 KiB tar record at a time, and each
// Chunk command costs the controller a deserialization, a pipe-writer task and
// an Ack. With blocks, a 10,000-file workspace (27 MiB of tar) goes in 457
// Chunks instead of 2,737 (bench/pipeline).
class CoalescingSink {
 public:
  static constexpr std::size_t kBlockBytes = 64 * 1024;

  CoalescingSink(Context& ctx, std::int32_t oid) : ctx_(ctx), oid_(oid) { buffer_.reserve(kBlockBytes); }

  Result<void> write(std::span<const std::byte> bytes) {
    if (buffer_.size() + bytes.size() > kBlockBytes) {
      auto flushed = flush();
      if (!flushed) return flushed;
    }
    if (bytes.size() >= kBlockBytes) return send(bytes);
    const auto* data = reinterpret_cast<const std::uint8_t*>(bytes.data());
    buffer_.insert(buffer_.end(), data, data + bytes.size());
    return {};
  }

  // Sends what is buffered; call it before closing the stream.
  Result<void> flush() {
    if (buffer_.empty()) return {};
    auto sent = send(std::as_bytes(std::span<const std::uint8_t>(buffer_)));
    buffer_.clear();
    return sent;
  }

 private:
  Result<void> send(std::span<const std::byte> bytes) {
    auto written = ctx_.write(oid_, std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
    if (!written) return std::unexpected(io_error(written.error()));
    return {};
  }

  Context& ctx_;
  std::int32_t oid_;
  std::vector<std::uint8_t> buffer_;
};

// ---- scanners and archive formats

// GCC 12 reports the optional inside GlobSelection as maybe-uninitialized
// when another alternative of the variant is built (a false positive).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
Result<DirSelection> selection_of(const ser::Value* value) {
  const ser::Object* scanner = value != nullptr ? value->as_object() : nullptr;
  if (scanner == nullptr) return std::unexpected(io_error("the DirScanner of the callable is missing"));
  const auto name = scanner->class_name();
  if (name == "hudson.util.DirScanner$Glob") {
    GlobSelection glob;
    glob.includes = string_field(*scanner, "includes").value_or("");
    glob.excludes = string_field(*scanner, "excludes");
    glob.use_default_excludes = bool_field(*scanner, "useDefaultExcludes", true);
    glob.follow_symlinks = !has_nofollow_links(*scanner, "openOptions");
    return DirSelection{glob};
  }
  if (name == "hudson.util.DirScanner$Full") return DirSelection{FullSelection{}};
  if (name == "hudson.FilePath$ExplicitlySpecifiedDirScanner") {
    const ser::Value* files = scanner->field("files");
    auto map = launcher::java::string_map(files != nullptr ? *files : ser::Value());
    if (!map) return std::unexpected(io_error("ExplicitlySpecifiedDirScanner.files: " + map.error()));
    return DirSelection{ExplicitSelection{std::move(*map)}};
  }
  return std::unexpected(io_error("Kite does not support the directory scanner " + std::string(name)));
}
#pragma GCC diagnostic pop

bool is_gzip(const ser::Value* compression) {
  const ser::EnumConstant* constant = compression != nullptr ? compression->as_enum() : nullptr;
  return constant != nullptr && constant->constant() == "GZIP";
}

Result<ArchiveFormat> format_of(const ser::Value* factory_value) {
  const ser::Object* factory = factory_value != nullptr ? factory_value->as_object() : nullptr;
  if (factory == nullptr) return std::unexpected(io_error("the ArchiverFactory of the callable is missing"));
  const auto name = factory->class_name();
  if (name == "hudson.util.io.ArchiverFactory$TarArchiverFactory") {
    return is_gzip(factory->field("method")) ? ArchiveFormat::TarGzip : ArchiveFormat::Tar;
  }
  if (name == "hudson.util.io.ArchiverFactory$ZipArchiverFactory") {
    // NOTE: a non-empty ZipArchiverFactory prefix is not applied yet.
    return ArchiveFormat::Zip;
  }
  return std::unexpected(io_error("Kite does not support the archiver factory " + std::string(name)));
}

// Writes the archive to the controller's stream `oid` and ends the stream.
CallResult archive_to(const FileCall& call, Context& ctx, const DirSelection& selection, ArchiveFormat format,
                      std::int32_t oid) {
  CoalescingSink out(ctx, oid);
  auto count = write_archive(call.path.string(), selection, format,
                             [&out](std::span<const std::byte> bytes) { return out.write(bytes); });
  if (count) {
    auto flushed = out.flush();
    if (!flushed) count = std::unexpected(flushed.error());
  }
  auto closed = ctx.close(oid);
  if (!count && ctx.cancelled()) return Context::interrupted();
  if (!count) return java_error(count.error());
  if (!closed) return Context::fail(closed.error());
  return ctx.reply(ser::jdk::integer(ctx.arena(), count.value()));
}

CallResult extract_from(const FileCall& call, Context& ctx, const ser::Value* input, ArchiveFormat format,
                        const std::string& name) {
  auto input_stream = input_source(input, ctx);
  if (!input_stream) return java_error(input_stream.error());
  auto extracted = extract_archive(input_stream->source, format, call.path.string(), name);
  if (!extracted && ctx.cancelled()) return Context::interrupted();
  if (!extracted) return java_error(extracted.error());
  ctx.log().info("filepath: extracted {} entries ({} bytes) of {} into {}", extracted->entries, extracted->bytes, name,
                 call.path.string());
  return ctx.reply_null();
}

// Whether opendir succeeds on `path`, as File.list needs.
bool listable(const std::string& path) {
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(path.c_str()), ::closedir);
  return dir != nullptr;
}

template <class T>
CallResult reply_void(Context& ctx, const Result<T>& result) {
  if (!result) return java_error(result.error());
  return ctx.reply_null();
}

// ---- registrations

const Registration mkdirs_handler{"hudson.FilePath$Mkdirs", [](const FileCall& call, Context& ctx) -> CallResult {
  auto made = mkdirs(call.path.string());
  if (!made) return java_error(made.error());
  return ctx.reply(ser::jdk::boolean(ctx.arena(), *made));
}};

const Registration exists_handler{"hudson.FilePath$Exists", [](const FileCall& call, Context& ctx) -> CallResult {
  return ctx.reply(ser::jdk::boolean(ctx.arena(), exists(call.path.string())));
}};

const Registration is_directory_handler{"hudson.FilePath$IsDirectory",
                                        [](const FileCall& call, Context& ctx) -> CallResult {
  return ctx.reply(ser::jdk::boolean(ctx.arena(), is_directory(call.path.string())));
}};

const Registration length_handler{"hudson.FilePath$Length", [](const FileCall& call, Context& ctx) -> CallResult {
  return ctx.reply(ser::jdk::long_value(ctx.arena(), length(call.path.string())));
}};

const Registration last_modified_handler{"hudson.FilePath$LastModified",
                                         [](const FileCall& call, Context& ctx) -> CallResult {
  return ctx.reply(ser::jdk::long_value(ctx.arena(), last_modified(call.path.string())));
}};

const Registration touch_handler{"hudson.FilePath$Touch", [](const FileCall& call, Context& ctx) -> CallResult {
  auto timestamp = long_field(call.callable, "timestamp");
  if (!timestamp) return missing_field(call, "timestamp");
  return reply_void(ctx, touch(call.path.string(), *timestamp));
}};

const Registration set_last_modified_handler{"hudson.FilePath$SetLastModified",
                                             [](const FileCall& call, Context& ctx) -> CallResult {
  auto timestamp = long_field(call.callable, "timestamp");
  if (!timestamp) return missing_field(call, "timestamp");
  // Java returns a warning text only on Windows; on Unix a failure throws.
  return reply_void(ctx, set_last_modified(call.path.string(), *timestamp));
}};

const Registration chmod_handler{"hudson.FilePath$Chmod", [](const FileCall& call, Context& ctx) -> CallResult {
  auto mask = long_field(call.callable, "mask");
  if (!mask) return missing_field(call, "mask");
  return reply_void(ctx, kite::filepath::chmod(call.path.string(), static_cast<int>(*mask)));
}};

const Registration mode_handler{"hudson.FilePath$Mode", [](const FileCall& call, Context& ctx) -> CallResult {
  auto bits = mode(call.path.string());
  if (!bits) return java_error(bits.error());
  return ctx.reply(ser::jdk::integer(ctx.arena(), *bits));
}};

const Registration free_space_handler{"hudson.FilePath$GetFreeDiskSpace",
                                      [](const FileCall& call, Context& ctx) -> CallResult {
  return ctx.reply(ser::jdk::long_value(ctx.arena(), free_disk_space(call.path.string())));
}};

const Registration total_space_handler{"hudson.FilePath$GetTotalDiskSpace",
                                       [](const FileCall& call, Context& ctx) -> CallResult {
  return ctx.reply(ser::jdk::long_value(ctx.arena(), total_disk_space(call.path.string())));
}};

const Registration usable_space_handler{"hudson.FilePath$GetUsableDiskSpace",
                                        [](const FileCall& call, Context& ctx) -> CallResult {
  return ctx.reply(ser::jdk::long_value(ctx.arena(), usable_disk_space(call.path.string())));
}};

const Registration absolutize_handler{"hudson.FilePath$Absolutize",
                                      [](const FileCall& call, Context& ctx) -> CallResult {
  return ctx.reply(ser::jdk::string(ctx.arena(), absolutize(call.path.string())));
}};

const Registration is_descendant_handler{"hudson.FilePath$IsDescendant",
                                         [](const FileCall& call, Context& ctx) -> CallResult {
  auto child = string_field(call.callable, "potentialChildRelativePath");
  if (!child) return missing_field(call, "potentialChildRelativePath");
  auto inside = is_descendant(call.path.string(), *child);
  if (!inside) return java_error(inside.error());
  return ctx.reply(ser::jdk::boolean(ctx.arena(), *inside));
}};

const Registration has_symlink_handler{"hudson.FilePath$HasSymlink", [](const FileCall& call, Context& ctx) -> CallResult {
  const bool found = has_symlink(call.path.string(), string_field(call.callable, "verificationRoot"),
                                 has_nofollow_links(call.callable, "openOptions"));
  return ctx.reply(ser::jdk::boolean(ctx.arena(), found));
}};

const Registration digest_handler{"hudson.FilePath$Digest", [](const FileCall& call, Context& ctx) -> CallResult {
  auto md5 = digest(call.path.string());
  if (!md5) return java_error(md5.error());
  return ctx.reply(ser::jdk::string(ctx.arena(), *md5));
}};

const Registration read_link_handler{"hudson.FilePath$ReadLink", [](const FileCall& call, Context& ctx) -> CallResult {
  auto link = read_link(call.path.string());
  if (!link) return java_error(link.error());
  if (!link->has_value()) return ctx.reply_null();
  return ctx.reply(ser::jdk::string(ctx.arena(), link->value()));
}};

const Registration symlink_to_handler{"hudson.FilePath$SymlinkTo",
                                      [](const FileCall& call, Context& ctx) -> CallResult {
  auto target = string_field(call.callable, "target");
  if (!target) return missing_field(call, "target");
  // Util.createSymlink prints a failure on the task listener ("ln <target>
  // <link> failed" and the exception) and returns normally.
  auto linked = symlink_to(call.path.string(), *target);
  if (!linked) {
    ctx.log().warn("filepath: ln {} {} failed: {}", *target, call.path.string(), linked.error().describe());
    const ser::Value* listener = call.callable.field("listener");
    const auto oid = listener != nullptr ? launcher::java::listener_stream_oid(*listener) : std::nullopt;
    if (oid) {
      const std::string text = "ln " + *target + " " + call.path.string() + " failed\n" + linked.error().describe() + "\n";
      auto written = ctx.write(*oid, std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
      if (!written) ctx.log().warn("filepath: cannot report the failed ln on the listener: {}", written.error());
    }
  }
  return ctx.reply_null();
}};

const Registration read_to_string_handler{"hudson.FilePath$ReadToString",
                                          [](const FileCall& call, Context& ctx) -> CallResult {
  auto text = read_to_string(call.path.string());
  if (!text) return java_error(text.error());
  return ctx.reply(ser::jdk::string(ctx.arena(), *text));
}};

const Registration read_handler{"hudson.FilePath$Read", [](const FileCall& call, Context& ctx) -> CallResult {
  auto pipe = pipe_of(call.callable.field("p"));
  if (!pipe || !pipe->agent_writes) return missing_field(call, "p");
  const std::string path = call.path.string();
  Result<std::uint64_t> copied = [&]() -> Result<std::uint64_t> {
    if (has_nofollow_links(call.callable, "openOptions")) {
      auto link = read_link(path);
      if (link && link->has_value()) return std::unexpected(io_error("Symlinks are prohibited.", path));
    }
    return read(path, output_sink(ctx, pipe->oid));
  }();
  // Java hands a failure to the reading side through the pipe (Pipe.error):
  // the EOF carries the exception, and the call itself returns null.
  std::optional<callables::JavaException> failure;
  if (!copied) {
    ctx.log().warn("filepath: reading {} failed: {}", path, copied.error().describe());
    failure = java_exception(copied.error());
  }
  auto closed = ctx.close(pipe->oid, failure);
  if (!closed) ctx.log().warn("filepath: cannot end the pipe of {}: {}", path, closed.error());
  return ctx.reply_null();
}};

const Registration write_handler{"hudson.FilePath$Write", [](const FileCall& call, Context& ctx) -> CallResult {
  auto content = string_field(call.callable, "content");
  if (!content) return missing_field(call, "content");
  auto encoding = string_field(call.callable, "encoding");
  std::optional<std::string_view> charset;
  if (encoding) charset = *encoding;
  return reply_void(ctx, write(call.path.string(), *content, charset));
}};

const Registration write_pipe_handler{"hudson.FilePath$WritePipe",
                                      [](const FileCall& call, Context& ctx) -> CallResult {
  auto writer = FileWriter::open(absolutize(call.path.string()));
  if (!writer) return java_error(writer.error());
  auto shared = std::make_shared<FileWriter>(std::move(*writer));
  channel::StreamSink sink;
  sink.write = [shared](std::span<const std::uint8_t> data) -> std::expected<void, std::string> {
    auto written = shared->write(std::as_bytes(data));
    if (!written) return std::unexpected(written.error().message);
    return {};
  };
  sink.flush = [] {};
  // The export outlives this request, so the close callback logs through
  // spdlog's default logger.
  sink.close = [shared](std::optional<std::string> error) {
    if (error) spdlog::warn("filepath: writer of {} closed with an error: {}", shared->path(), *error);
    auto closed = shared->close();
    if (!closed) spdlog::warn("filepath: closing {} failed: {}", shared->path(), closed.error().describe());
  };
  const std::int32_t oid = ctx.export_sink(std::move(sink));
  return ctx.reply(make_remote_output_stream(ctx.arena(), oid));
}};

const Registration copy_to_handler{"hudson.FilePath$CopyTo", [](const FileCall& call, Context& ctx) -> CallResult {
  auto oid = launcher::java::remote_output_stream_oid(call.callable.field("out") ? *call.callable.field("out")
                                                                                 : ser::Value());
  if (!oid) return missing_field(call, "out");
  auto copied = copy_to(call.path.string(), output_sink(ctx, *oid));
  auto closed = ctx.close(*oid);
  if (!copied) return java_error(copied.error());
  if (!closed) return Context::fail(closed.error());
  return ctx.reply_null();
}};

const Registration copy_to_with_permission_handler{
    "hudson.FilePath$CopyToWithPermission", [](const FileCall& call, Context& ctx) -> CallResult {
      auto target = file_path_field(call.callable, "target");
      if (!target) return missing_field(call, "target");
      return reply_void(ctx, copy_to_with_permission(call.path.string(), *target));
    }};

const Registration list_filter_handler{"hudson.FilePath$ListFilter",
                                       [](const FileCall& call, Context& ctx) -> CallResult {
  const ser::Value* filter = call.callable.field("filter");
  std::vector<std::string> children;
  if (filter == nullptr || filter->is_null()) {
    children = list(call.path.string());
  } else if (filter->class_name() == "hudson.FilePath$DirectoryFilter") {
    children = list_directories(call.path.string());
  } else {
    return Context::fail("Kite does not support the file filter " + std::string(filter->class_name()));
  }
  // File.listFiles returns null for a path it cannot list (not a directory,
  // missing, no read permission), and ListFilter then returns Collections.emptyList().
  if (children.empty() && !listable(call.path.string())) return ctx.reply(ser::jdk::empty_list(ctx.arena()));
  std::vector<ser::Value> paths;
  for (const auto& child : children) paths.push_back(make_file_path(ctx.arena(), child));
  return ctx.reply(ser::jdk::array_list(ctx.arena(), std::move(paths)));
}};

const Registration list_glob_handler{"hudson.FilePath$ListGlob", [](const FileCall& call, Context& ctx) -> CallResult {
  auto listed = list_glob(call.path.string(), string_field(call.callable, "includes").value_or(""),
                          string_field(call.callable, "excludes").value_or(""),
                          bool_field(call.callable, "defaultExcludes", true));
  if (!listed) return java_error(listed.error());
  std::vector<ser::Value> paths;
  for (const auto& file : *listed) paths.push_back(make_file_path(ctx.arena(), file));
  return ctx.reply(
      static_cast<const ser::Array*>(ser::make_object_array(ctx.arena(), file_path_array_desc(), std::move(paths))));
}};

const Registration validate_mask_handler{
    "hudson.FilePath$ValidateAntFileMask", [](const FileCall& call, Context& ctx) -> CallResult {
      auto masks = string_field(call.callable, "fileMasks");
      if (!masks) return missing_field(call, "fileMasks");
      const int bound = static_cast<int>(long_field(call.callable, "bound").value_or(kValidateAntFileMaskBound));
      auto message =
          validate_ant_file_mask(call.path.string(), *masks, bound, bool_field(call.callable, "caseSensitive", true));
      if (!message) return java_error(message.error());
      if (!message->has_value()) return ctx.reply_null();
      return ctx.reply(ser::jdk::string(ctx.arena(), message->value()));
    }};

const Registration delete_handler{"hudson.FilePath$Delete", [](const FileCall& call, Context& ctx) -> CallResult {
  return reply_void(ctx, delete_file(call.path.string()));
}};

const Registration delete_recursive_handler{"hudson.FilePath$DeleteRecursive",
                                            [](const FileCall& call, Context& ctx) -> CallResult {
  return reply_void(ctx, delete_recursive(call.path.string()));
}};

const Registration delete_suffixes_handler{"hudson.FilePath$DeleteSuffixesRecursive",
                                           [](const FileCall& call, Context& ctx) -> CallResult {
  return reply_void(ctx, delete_suffixes_recursive(call.path.string()));
}};

const Registration delete_contents_handler{"hudson.FilePath$DeleteContents",
                                           [](const FileCall& call, Context& ctx) -> CallResult {
  return reply_void(ctx, delete_contents(call.path.string()));
}};

const Registration rename_to_handler{"hudson.FilePath$RenameTo", [](const FileCall& call, Context& ctx) -> CallResult {
  auto target = file_path_field(call.callable, "target");
  if (!target) return missing_field(call, "target");
  return reply_void(ctx, rename_to(call.path.string(), *target));
}};

const Registration move_children_handler{"hudson.FilePath$MoveAllChildrenTo",
                                         [](const FileCall& call, Context& ctx) -> CallResult {
  auto target = file_path_field(call.callable, "target");
  if (!target) return missing_field(call, "target");
  return reply_void(ctx, move_all_children_to(call.path.string(), *target));
}};

const Registration create_temp_file_handler{
    "hudson.FilePath$CreateTempFile", [](const FileCall& call, Context& ctx) -> CallResult {
      auto prefix = string_field(call.callable, "prefix");
      if (!prefix) return missing_field(call, "prefix");
      auto suffix = string_field(call.callable, "suffix");
      std::optional<std::string_view> suffix_view;
      if (suffix) suffix_view = *suffix;
      auto name = create_temp_file(call.path.string(), *prefix, suffix_view);
      if (!name) return java_error(name.error());
      return ctx.reply(ser::jdk::string(ctx.arena(), *name));
    }};

const Registration create_text_temp_file_handler{
    "hudson.FilePath$CreateTextTempFile", [](const FileCall& call, Context& ctx) -> CallResult {
      auto prefix = string_field(call.callable, "prefix");
      auto contents = string_field(call.callable, "contents");
      if (!prefix) return missing_field(call, "prefix");
      if (!contents) return missing_field(call, "contents");
      auto suffix = string_field(call.callable, "suffix");
      std::optional<std::string_view> suffix_view;
      if (suffix) suffix_view = *suffix;
      auto path = create_text_temp_file(call.path.string(), bool_field(call.callable, "inThisDirectory", true), *prefix,
                                        suffix_view, *contents);
      if (!path) return java_error(path.error());
      return ctx.reply(ser::jdk::string(ctx.arena(), *path));
    }};

const Registration create_temp_dir_handler{"hudson.FilePath$CreateTempDir",
                                           [](const FileCall& call, Context& ctx) -> CallResult {
  auto name = string_field(call.callable, "name");
  if (!name) return missing_field(call, "name");
  auto created = create_temp_dir(call.path.string(), *name);
  if (!created) return java_error(created.error());
  return ctx.reply(ser::jdk::string(ctx.arena(), *created));
}};

const Registration archive_handler{"hudson.FilePath$Archive", [](const FileCall& call, Context& ctx) -> CallResult {
  auto format = format_of(call.callable.field("factory"));
  if (!format) return java_error(format.error());
  auto selection = selection_of(call.callable.field("scanner"));
  if (!selection) return java_error(selection.error());
  const ser::Value* out = call.callable.field("out");
  auto oid = launcher::java::remote_output_stream_oid(out != nullptr ? *out : ser::Value());
  if (!oid) return missing_field(call, "out");
  return archive_to(call, ctx, *selection, *format, *oid);
}};

// $CopyRecursiveRemoteToLocal and $WriteToTar: a tar of the selection into a Pipe.
CallResult write_to_tar(const FileCall& call, Context& ctx) {
  auto selection = selection_of(call.callable.field("scanner"));
  if (!selection) return java_error(selection.error());
  auto pipe = pipe_of(call.callable.field("pipe"));
  if (!pipe || !pipe->agent_writes) return missing_field(call, "pipe");
  const ArchiveFormat format = is_gzip(call.callable.field("compression")) ? ArchiveFormat::TarGzip : ArchiveFormat::Tar;
  return archive_to(call, ctx, *selection, format, pipe->oid);
}

const Registration copy_remote_to_local_handler{"hudson.FilePath$CopyRecursiveRemoteToLocal", write_to_tar};
const Registration write_to_tar_handler{"hudson.FilePath$WriteToTar", write_to_tar};

const Registration copy_recursive_local_handler{
    "hudson.FilePath$CopyRecursiveLocal", [](const FileCall& call, Context& ctx) -> CallResult {
      auto target = file_path_field(call.callable, "target");
      if (!target) return missing_field(call, "target");
      auto selection = selection_of(call.callable.field("scanner"));
      if (!selection) return java_error(selection.error());
      auto count = copy_recursive_local(call.path.string(), *target, *selection);
      if (!count) return java_error(count.error());
      return ctx.reply(ser::jdk::integer(ctx.arena(), *count));
    }};

const Registration untar_remote_handler{"hudson.FilePath$UntarRemote",
                                        [](const FileCall& call, Context& ctx) -> CallResult {
  const ArchiveFormat format = is_gzip(call.callable.field("compression")) ? ArchiveFormat::TarGzip : ArchiveFormat::Tar;
  return extract_from(call, ctx, call.callable.field("in"), format,
                      string_field(call.callable, "name").value_or("input stream"));
}};

const Registration untar_from_handler{"hudson.FilePath$UntarFrom", [](const FileCall& call, Context& ctx) -> CallResult {
  const ArchiveFormat format = is_gzip(call.callable.field("compression")) ? ArchiveFormat::TarGzip : ArchiveFormat::Tar;
  return extract_from(call, ctx, call.callable.field("in"), format, "input stream");
}};

const Registration read_from_tar_handler{"hudson.FilePath$ReadFromTar",
                                         [](const FileCall& call, Context& ctx) -> CallResult {
  const ArchiveFormat format = is_gzip(call.callable.field("compression")) ? ArchiveFormat::TarGzip : ArchiveFormat::Tar;
  const std::string name = file_path_field(call.callable, "target").value_or(call.path.string()) + "/" +
                           string_field(call.callable, "description").value_or("");
  return extract_from(call, ctx, call.callable.field("pipe"), format, name);
}};

// $UntarLocal and $UnzipLocal: the archive is the file `filePath` on this
// agent (untar or unzip with source and target on the same node).
CallResult extract_local(const FileCall& call, Context& ctx, ArchiveFormat format) {
  auto source = file_path_field(call.callable, "filePath");
  if (!source) return missing_field(call, "filePath");
  detail::UniqueFd fd(::open(source->c_str(), O_RDONLY | O_CLOEXEC));
  // Jenkins opens a tar with Files.newInputStream and a zip with Ant's
  // ZipFile, a RandomAccessFile, so a missing zip is a FileNotFoundException.
  if (!fd.valid()) return java_error(format == ArchiveFormat::Zip ? io_open_error(errno, *source) : nio_error(errno, *source));
  const int raw = fd.get();
  ByteSource read_file = [raw, path = *source](std::span<std::byte> buffer) -> Result<std::size_t> {
    const ssize_t n = ::read(raw, buffer.data(), buffer.size());
    if (n < 0) return std::unexpected(nio_error(errno, path));
    return static_cast<std::size_t>(n);
  };
  // Jenkins names a tar by its file name and a zip by its path in errors.
  const std::string name = format == ArchiveFormat::Zip ? *source : std::filesystem::path(*source).filename().string();
  auto extracted = extract_archive(read_file, format, call.path.string(), name);
  if (!extracted) return java_error(extracted.error());
  ctx.log().info("filepath: extracted {} entries ({} bytes) of {} into {}", extracted->entries, extracted->bytes, *source,
                 call.path.string());
  return ctx.reply_null();
}

const Registration untar_local_handler{"hudson.FilePath$UntarLocal", [](const FileCall& call, Context& ctx) -> CallResult {
  const ArchiveFormat format = is_gzip(call.callable.field("compression")) ? ArchiveFormat::TarGzip : ArchiveFormat::Tar;
  return extract_local(call, ctx, format);
}};

const Registration unzip_local_handler{"hudson.FilePath$UnzipLocal", [](const FileCall& call, Context& ctx) -> CallResult {
  return extract_local(call, ctx, ArchiveFormat::Zip);
}};

const Registration unzip_remote_handler{"hudson.FilePath$UnzipRemote",
                                        [](const FileCall& call, Context& ctx) -> CallResult {
  return extract_from(call, ctx, call.callable.field("in"), ArchiveFormat::Zip, "input stream");
}};

const Registration unzip_from_handler{"hudson.FilePath$UnzipFrom", [](const FileCall& call, Context& ctx) -> CallResult {
  return extract_from(call, ctx, call.callable.field("in"), ArchiveFormat::Zip, "input stream");
}};

// FilePath.getHomeDirectory(channel): a Java agent answers with
// System.getProperty("user.home"), the home directory of its user in the
// password database.
const Registration home_directory_handler{"hudson.FilePath$GetHomeDirectory",
                                          [](const callables::Call&, Context& ctx) -> CallResult {
  passwd entry{};
  passwd* found = nullptr;
  std::vector<char> buffer(16384);
  const int err = getpwuid_r(geteuid(), &entry, buffer.data(), buffer.size(), &found);
  if (err != 0 || found == nullptr || found->pw_dir == nullptr) {
    ctx.log().warn("filepath: no home directory for uid {} in the password database (error {})", geteuid(), err);
    // The JVM falls back to "?" when the user has no entry.
    return ctx.reply(make_file_path(ctx.arena(), "?"));
  }
  return ctx.reply(make_file_path(ctx.arena(), found->pw_dir));
}};

// ArtifactArchiver's file listing: Ant selection relative to the workspace.
Result<std::vector<std::string>> list_artifacts(const FileCall& call, bool default_excludes, bool case_sensitive,
                                                bool follow_symlinks) {
  ScanOptions options;
  auto includes = parse_pattern_list(string_field(call.callable, "includes").value_or(""));
  if (!includes) return std::unexpected(includes.error());
  auto excludes = parse_pattern_list(string_field(call.callable, "excludes").value_or(""));
  if (!excludes) return std::unexpected(excludes.error());
  options.includes = std::move(*includes);
  options.excludes = std::move(*excludes);
  options.default_excludes = default_excludes;
  options.case_sensitive = case_sensitive;
  options.follow_symlinks = follow_symlinks;
  auto scan = ant_scan(call.path.string(), options);
  if (!scan) return std::unexpected(scan.error());
  return std::move(scan->files);
}

const Registration core_list_files_handler{
    "hudson.tasks.ArtifactArchiver$ListFiles", [](const FileCall& call, Context& ctx) -> CallResult {
      auto files = list_artifacts(call, bool_field(call.callable, "defaultExcludes", true),
                                  bool_field(call.callable, "caseSensitive", true),
                                  bool_field(call.callable, "followSymlinks", true));
      if (!files) return java_error(files.error());
      std::vector<ser::Value> names;
      for (const auto& file : *files) names.push_back(ser::jdk::string(ctx.arena(), file));
      return ctx.reply(ser::jdk::hash_set(ctx.arena(), std::move(names)));
    }};

const Registration pipeline_list_files_handler{
    "org.jenkinsci.plugins.workflow.steps.ArtifactArchiverStepExecution$ListFiles",
    [](const FileCall& call, Context& ctx) -> CallResult {
      auto files = list_artifacts(call, true, true, true);
      if (!files) return java_error(files.error());
      std::vector<std::pair<ser::Value, ser::Value>> entries;
      for (const auto& file : *files) {
        const ser::Value name = ser::jdk::string(ctx.arena(), file);
        entries.emplace_back(name, name);
      }
      return ctx.reply(ser::jdk::hash_map(ctx.arena(), std::move(entries)));
    }};

}  // namespace
}  // namespace kite::filepath
